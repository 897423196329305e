/**
 * RFC 5321 §4.1.2 and §4.1.3 (with RFC 6531 §3.3) a second time, for the property tests: every
 * rule as a fast-check generator of valid strings, and every rule as a regular expression (the
 * oracle), each transcribed from the ABNF on its own, never from protocol/address.ts. Mutations
 * of valid paths are judged by the oracle, so a mutant that is still valid must be accepted and one
 * that is not must be refused for the right reason.
 */
import fc from 'fast-check';

/** Inputs per property test; `SMTPBENCH_PROPERTY_RUNS` raises it for a long local run. */
export const PROPERTY_RUNS = Number(process.env.SMTPBENCH_PROPERTY_RUNS ?? 4000);

// ---- The oracle: the ABNF as regular expressions (RFC 5234: quoted strings are case-insensitive). ----

const UTF8 = '[^\\x00-\\x7f]'; // UTF8-non-ascii, on text already decoded from well-formed UTF-8
const H16 = '[0-9A-Fa-f]{1,4}'; // IPv6-hex
const SNUM = '(?:[0-9]{1,2}|[01][0-9]{2}|2[0-4][0-9]|25[0-5])'; // 1*3DIGIT, 0 to 255
const IPV4 = `${SNUM}(?:\\.${SNUM}){3}`;
const groups = (n: number): string => (n === 0 ? '' : `${H16}(?::${H16}){${n - 1}}`);
const alternatives: string[] = [groups(8), `${groups(6)}:${IPV4}`]; // IPv6-full, IPv6v4-full
for (let k = 0; k <= 6; k++) for (let m = 0; k + m <= 6; m++) alternatives.push(`${groups(k)}::${groups(m)}`); // IPv6-comp
for (let k = 0; k <= 4; k++) for (let m = 0; k + m <= 4; m++) alternatives.push(`${groups(k)}::${m > 0 ? `${groups(m)}:` : ''}${IPV4}`); // IPv6v4-comp
const IPV6 = `(?:${alternatives.join('|')})`;
// General-address-literal: Standardized-tag must be registered with IANA, and IPv6 is the only one.
const LITERAL = `\\[(?:${IPV4}|[Ii][Pp][Vv]6:${IPV6})\\]`;
const LET_DIG = `(?:[A-Za-z0-9]|${UTF8})`; // Let-dig, or a U-label's character
const LDH = `(?:[A-Za-z0-9-]|${UTF8})`;
const SUB_DOMAIN = `${LET_DIG}(?:${LDH}*${LET_DIG})?`;
const DOMAIN = `${SUB_DOMAIN}(?:\\.${SUB_DOMAIN})*`;
const ATEXT = `(?:[A-Za-z0-9!#$%&'*+\\-/=?^_\`{|}~]|${UTF8})`;
const DOT_STRING = `${ATEXT}+(?:\\.${ATEXT}+)*`;
const QUOTED_STRING = `"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|${UTF8}|\\\\[\\x20-\\x7e])*"`;
const ADL = `@${DOMAIN}(?:,@${DOMAIN})*`;
const PATH = new RegExp(`^<(?:(${ADL}):)?(${DOT_STRING}|${QUOTED_STRING})@(${DOMAIN}|${LITERAL})>$`, 'u');
const ESMTP_PARAM = `[A-Za-z0-9][A-Za-z0-9-]*(?:=(?:[\\x21-\\x3c\\x3e-\\x7e]|${UTF8})+)?`;
/** `[SP Mail-parameters]` with trailing white space (RFC 5321 §4.1.1 tolerates it). */
export const PARAMS = new RegExp(`^(?: ${ESMTP_PARAM}(?: ${ESMTP_PARAM})*)?[ \\t]*$`, 'u');

/** What the oracle says of a path: as protocol/address.ts's verdicts, by name. */
export type OracleVerdict = 'ok' | 'syntax' | 'path-too-long' | 'local-part-too-long' | 'domain-too-long';

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');
const fatal = new TextDecoder('utf-8', { fatal: true });

/** Decodes well-formed UTF-8 (RFC 3629), or null. */
export function decodeUtf8(b: Uint8Array): string | null {
  try {
    return fatal.decode(b);
  } catch {
    return null;
  }
}

/**
 * The oracle's verdict on a whole path (nothing after the `>`): the grammar, then the limits of
 * RFC 5321 §4.5.3.1 in octets (path 256 with its brackets, local part 64, domain 255, label 63).
 */
export function oraclePath(b: Uint8Array, role: 'reverse' | 'forward'): { verdict: OracleVerdict; nonAscii: boolean; localPart?: string } {
  const text = decodeUtf8(b);
  if (text === null) return { verdict: 'syntax', nonAscii: true };
  const nonAscii = /[^\x00-\x7f]/.test(text);
  if (role === 'reverse' && text === '<>') return { verdict: 'ok', nonAscii, localPart: '' };
  if (role === 'forward' && /^<postmaster>$/i.test(text)) return { verdict: 'ok', nonAscii, localPart: text.slice(1, -1) };
  const m = PATH.exec(text);
  if (m === null) return { verdict: 'syntax', nonAscii };
  const [, adl, local, domain] = m;
  const domains = [...(adl === undefined ? [] : adl.slice(1).split(',@')), domain.startsWith('[') ? '' : domain];
  if (octets(text) > 256) return { verdict: 'path-too-long', nonAscii };
  if (octets(local) > 64) return { verdict: 'local-part-too-long', nonAscii };
  if (domains.some((d) => octets(d) > 255 || d.split('.').some((label) => octets(label) > 63))) return { verdict: 'domain-too-long', nonAscii };
  return { verdict: 'ok', nonAscii, localPart: local };
}

/**
 * Where the path at the start of `whole` ends, by the oracle: the one prefix ending in `>` that is
 * the grammar (a valid path holds no `>` outside quotes but its last, so at most one prefix is),
 * with its verdict; null when none is.
 */
export function oracleSplit(whole: Uint8Array, role: 'reverse' | 'forward'): { end: number; verdict: OracleVerdict; nonAscii: boolean } | null {
  for (let end = whole.indexOf(0x3e) + 1; end > 0; end = whole.indexOf(0x3e, end) + 1) {
    const v = oraclePath(whole.subarray(0, end), role);
    if (v.verdict !== 'syntax') return { end, verdict: v.verdict, nonAscii: v.nonAscii };
  }
  return null;
}

// ---- The generators: the same ABNF, producing valid strings. ----

const chars = (s: string): fc.Arbitrary<string> => fc.constantFrom(...s.split(''));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** UTF8-non-ascii: any scalar value from U+0080 (no surrogates). */
export const utf8Char = fc
  .integer({ min: 0x80, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));
const withUtf8 = (ascii: fc.Arbitrary<string>, utf8: boolean): fc.Arbitrary<string> => (utf8 ? fc.oneof({ arbitrary: ascii, weight: 6 }, { arbitrary: utf8Char, weight: 1 }) : ascii);
const join = (sep: string) => (parts: string[]) => parts.join(sep);
/** Mostly short, sometimes long enough to reach the limits. */
const size = (short: number, long: number) => fc.oneof({ arbitrary: fc.integer({ min: 1, max: short }), weight: 8 }, { arbitrary: fc.integer({ min: short, max: long }), weight: 1 });

/** The ABNF's rules as generators; `utf8` adds RFC 6531 §3.3's extensions. */
export function grammar(utf8: boolean) {
  const atext = withUtf8(chars(`${ALNUM}!#$%&'*+-/=?^_\`{|}~`), utf8);
  const atom = size(8, 70).chain((n) => fc.array(atext, { minLength: n, maxLength: n }).map(join('')));
  const dotString = fc.array(atom, { minLength: 1, maxLength: 4 }).map(join('.'));
  const qtext = withUtf8(chars(" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"), utf8);
  const quotedPair = fc.integer({ min: 32, max: 126 }).map((c) => `\\${String.fromCharCode(c)}`);
  const quotedString = fc.array(fc.oneof({ arbitrary: qtext, weight: 5 }, { arbitrary: quotedPair, weight: 1 }), { maxLength: 12 }).map((a) => `"${a.join('')}"`);
  const localPart = fc.oneof({ arbitrary: dotString, weight: 4 }, { arbitrary: quotedString, weight: 1 });
  const letDig = withUtf8(chars(ALNUM), utf8);
  const ldh = withUtf8(chars(`${ALNUM}-`), utf8);
  const subDomain = fc.oneof(
    letDig,
    size(10, 70).chain((n) => fc.tuple(letDig, fc.array(ldh, { minLength: n - 1, maxLength: n - 1 }), letDig).map(([a, mid, z]) => a + mid.join('') + z)),
  );
  const domain = fc.array(subDomain, { minLength: 1, maxLength: 4 }).map(join('.'));
  const snum = fc.oneof(
    fc.nat(255).map(String),
    fc.nat(99).map((n) => String(n).padStart(3, '0')),
  );
  const ipv4 = fc.array(snum, { minLength: 4, maxLength: 4 }).map(join('.'));
  const h16 = fc.array(chars('0123456789abcdefABCDEF'), { minLength: 1, maxLength: 4 }).map(join(''));
  const hexGroups = (n: number) => fc.array(h16, { minLength: n, maxLength: n }).map(join(':'));
  const ipv6 = fc.oneof(
    hexGroups(8),
    fc.tuple(hexGroups(6), ipv4).map(([g, v4]) => `${g}:${v4}`),
    fc.integer({ min: 0, max: 6 }).chain((k) => fc.tuple(hexGroups(k), fc.integer({ min: 0, max: 6 - k }).chain(hexGroups)).map(([l, r]) => `${l}::${r}`)),
    fc.integer({ min: 0, max: 4 }).chain((k) => fc.tuple(hexGroups(k), fc.integer({ min: 0, max: 4 - k }).chain(hexGroups), ipv4).map(([l, r, v4]) => `${l}::${r === '' ? '' : `${r}:`}${v4}`)),
  );
  const literal = fc.oneof(
    ipv4.map((a) => `[${a}]`),
    fc.tuple(fc.constantFrom('IPv6', 'ipv6', 'IPV6'), ipv6).map(([tag, a]) => `[${tag}:${a}]`),
  );
  const mailbox = fc.tuple(localPart, fc.oneof({ arbitrary: domain, weight: 4 }, { arbitrary: literal, weight: 1 })).map(([l, d]) => `${l}@${d}`);
  const adl = fc.array(domain, { minLength: 1, maxLength: 3 }).map((ds) => ds.map((d) => `@${d}`).join(','));
  const path = fc.tuple(fc.option(adl, { freq: 5 }), mailbox).map(([route, mb]) => `<${route === null ? '' : `${route}:`}${mb}>`);
  const reversePath = fc.oneof({ arbitrary: path, weight: 9 }, { arbitrary: fc.constant('<>'), weight: 1 });
  const forwardPath = fc.oneof({ arbitrary: path, weight: 19 }, { arbitrary: fc.constantFrom('<Postmaster>', '<postmaster>', '<POSTMASTER>'), weight: 1 });
  const keyword = fc.tuple(chars(ALNUM), fc.array(chars(`${ALNUM}-`), { maxLength: 8 })).map(([a, r]) => a + r.join(''));
  const value = fc.array(withUtf8(chars('!"#$%&\'()*+,-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'), utf8), { minLength: 1, maxLength: 10 }).map(join(''));
  const esmtpParam = fc.tuple(keyword, fc.option(value)).map(([k, v]) => (v === null ? k : `${k}=${v}`));
  return { localPart, domain, literal, mailbox, path, reversePath, forwardPath, esmtpParam, ipv4, ipv6 };
}

/** One octet-level mutation: insert, delete, replace, duplicate or swap, at a position taken modulo the length. */
export type Mutation = readonly [op: 0 | 1 | 2 | 3 | 4, at: number, octet: number];

/** Octets that matter to the grammar, and some that never belong in it. */
const INTERESTING = Buffer.from('<>@.,:[]"\\ \t-_=+/0aZ\x00\x07\x7f');
export const mutation: fc.Arbitrary<Mutation> = fc.tuple(
  fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const, 4 as const),
  fc.nat(),
  fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0x80, max: 0xff }), fc.nat(255)),
);

/** Applies mutations to the octets of `text`. */
export function mutate(text: string, mutations: readonly Mutation[]): Buffer {
  const b = [...Buffer.from(text, 'utf8')];
  for (const [op, at, octet] of mutations) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (op === 0) b.splice(i, 0, octet);
    else if (op === 1) b.splice(i, 1);
    else if (op === 2) b[i] = octet;
    else if (op === 3) b.splice(i, 0, b[i]);
    else if (i + 1 < b.length) [b[i], b[i + 1]] = [b[i + 1], b[i]];
  }
  return Buffer.from(b);
}
