/**
 * The envelope grammar, written once: RFC 5321 §4.1.2 (Reverse-path, Forward-path, Path, A-d-l,
 * Mailbox, Local-part, Dot-string, Quoted-string, Domain, esmtp-param), §4.1.3 (address literals),
 * RFC 5321 §4.1.1.3's `<Postmaster>`, RFC 6531 §3.3's UTF-8 extensions (atext, qtextSMTP,
 * sub-domain and esmtp-value may hold UTF8-non-ascii, RFC 3629 §4), and the size limits of
 * §4.5.3.1 counted as the RFC counts them (local part 64 octets, domain 255, path 256 with its
 * punctuation). Pure functions on a command line's octets; what a path means is the caller's.
 *
 * Paths are scanned octet by octet with one class table (one RCPT per recipient is the server's hot
 * path): no string is made for a valid ASCII path.
 */
import * as bytes from './bytes.js';

// Octet classes (RFC 5234 core rules, RFC 5322 §3.2.3 atext, RFC 5321 §4.1.2).
const C_ALPHA = 1;
const C_DIGIT = 2;
/** atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~" (RFC 5322 §3.2.3). */
const C_ATEXT = 4;
/** qtextSMTP: %d32-33 / %d35-91 / %d93-126 (RFC 5321 §4.1.2). */
const C_QTEXT = 8;
/** esmtp-value: %d33-60 / %d62-126 (RFC 5321 §4.1.2). */
const C_VALUE = 16;
/** HEXDIG, either case (RFC 5234 B.1: ABNF strings are case-insensitive). */
const C_HEX = 32;
const C_LETDIG = C_ALPHA | C_DIGIT;

const CLASS = new Uint8Array(256);
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] |= C_ALPHA | C_ATEXT;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] |= C_ALPHA | C_ATEXT;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] |= C_DIGIT | C_ATEXT | C_HEX;
for (const ch of "!#$%&'*+-/=?^_`{|}~") CLASS[ch.charCodeAt(0)] |= C_ATEXT;
for (let c = 32; c <= 126; c++) if (c !== 0x22 && c !== 0x5c) CLASS[c] |= C_QTEXT;
for (let c = 33; c <= 126; c++) if (c !== 0x3d) CLASS[c] |= C_VALUE;
for (const ch of 'abcdefABCDEF') CLASS[ch.charCodeAt(0)] |= C_HEX;

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { AT, COLON, DOT, GT, HYPHEN, LT, SP, trimmedEnd } = bytes;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const EQUALS = 0x3d;

/** RFC 5321 §4.5.3.1.1: the longest local part a server must take, in octets. */
export const MAX_LOCAL_PART = 64;
/** RFC 5321 §4.5.3.1.2: the longest domain name or number, in octets. */
export const MAX_DOMAIN = 255;
/** RFC 1035 §2.3.4 (which RFC 5321 §2.3.5 defers to): the longest label, in octets. */
export const MAX_LABEL = 63;
/** RFC 5321 §4.5.3.1.3: the longest reverse- or forward-path, `<` and `>` and any source route included. */
export const MAX_PATH = 256;

/** A path that is valid. */
export const PATH_OK = 0;
/** Not the grammar of RFC 5321 §4.1.2 (or RFC 6531 §3.3): 501 (§4.1.2: invalid characters get 501). */
export const PATH_SYNTAX = 1;
/** Over `MAX_PATH` octets: "501 Path too long" (RFC 5321 §4.5.3.1.9). */
export const PATH_TOO_LONG = 2;
/** A local part over `MAX_LOCAL_PART` octets. */
export const LOCAL_PART_TOO_LONG = 3;
/** A domain over `MAX_DOMAIN` octets, or a label over `MAX_LABEL`. */
export const DOMAIN_TOO_LONG = 4;
/** Why `scanPath` refused a path (or `PATH_OK`). */
export type PathVerdict = typeof PATH_OK | typeof PATH_SYNTAX | typeof PATH_TOO_LONG | typeof LOCAL_PART_TOO_LONG | typeof DOMAIN_TOO_LONG;

/** Which path a command takes: MAIL's reverse-path may be `<>`; RCPT's forward-path may be `<Postmaster>`. */
export type PathRole = 'reverse' | 'forward';

/**
 * What `scanPath` found in a path that is the grammar (`end` and the local part are set for a
 * length verdict too, so the caller can check what follows before it reports the length). One object is
 * reused for every scan of a connection: nothing is allocated per recipient.
 */
export class PathScan {
  /** Index just after the closing `>`. */
  end = 0;
  /** The local part as sent (quotes included), `[localStart, localEnd)`; empty for `<>`. */
  localStart = 0;
  localEnd = 0;
  /** The null reverse-path `<>`. */
  isNull = false;
  /** A domain (or a source route's) over `MAX_DOMAIN` octets or with a label over `MAX_LABEL`. */
  longDomain = false;
  /** Some octet is UTF-8 beyond ASCII: valid only in a transaction that declared SMTPUTF8 (RFC 6531 §3.4). */
  nonAscii = false;
}

/**
 * The length of the UTF8-non-ascii sequence (RFC 6532 §3.1, RFC 3629 §4: UTF8-2 / UTF8-3 / UTF8-4,
 * shortest form, no surrogates, at most U+10FFFF) at `i`, or 0 when the octets there are not one.
 */
export function utf8NonAsciiLength(b: Buffer, i: number): number {
  const c = b[i];
  const n = b.length;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => j < n && b[j] >= lo && b[j] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c === 0xe0) return cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(i + 1) && cont(i + 2) ? 3 : 0;
  if (c === 0xed) return cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
  if (c === 0xf0) return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (c === 0xf4) return cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  return 0;
}

/** The index past the UTF8-non-ascii sequence at `i`, flagging `out.nonAscii`, or -1 when the octets there are not one. */
function pastUtf8(line: Buffer, i: number, out: PathScan): number {
  const n = utf8NonAsciiLength(line, i);
  if (n === 0) return -1;
  out.nonAscii = true;
  return i + n;
}

const POSTMASTER = Buffer.from('postmaster');

/**
 * Scans the path that starts at `line[at]` (RFC 5321 §4.1.2):
 * `Path = "<" [ A-d-l ":" ] Mailbox ">"`, plus `<>` for a reverse-path and `<Postmaster>` (any
 * case, RFC 5321 §4.1.1.3) for a forward-path. UTF-8 is read where RFC 6531 §3.3 allows it and
 * flagged in `out.nonAscii`: whether the transaction allows it is the caller's decision. Octets
 * after the `>` are not looked at. Returns `PATH_OK` (and fills `out`) or why the path is refused;
 * a grammar error outranks a length error.
 */
export function scanPath(line: Buffer, at: number, role: PathRole, out: PathScan): PathVerdict {
  out.nonAscii = false;
  out.isNull = false;
  if (line[at] !== LT) return PATH_SYNTAX;
  let i = at + 1;
  if (line[i] === GT) {
    if (role !== 'reverse') return PATH_SYNTAX;
    out.isNull = true;
    out.localStart = out.localEnd = i;
    out.end = i + 1;
    return PATH_OK;
  }
  out.longDomain = false;
  const routed = line[i] === AT;
  if (routed) {
    // A-d-l = At-domain *( "," At-domain ), then ":" (a source route: accepted and ignored, §4.1.2, Appendix C).
    for (;;) {
      const end = domainEnd(line, i + 1, out);
      if (end < 0) return PATH_SYNTAX;
      i = end;
      if (line[i] === COMMA && line[i + 1] === AT) i++;
      else if (line[i] === COLON) break;
      else return PATH_SYNTAX;
    }
    i++;
  }
  const localStart = i;
  i = line[i] === QUOTE ? quotedStringEnd(line, i, out) : dotStringEnd(line, i, out);
  if (i < 0) return PATH_SYNTAX;
  const localEnd = i;
  if (line[i] === GT && role === 'forward' && !routed && isPostmaster(line, localStart, localEnd)) {
    // `<Postmaster>` without a domain (RFC 5321 §4.1.1.3): every server must take it.
  } else {
    if (line[i] !== AT) return PATH_SYNTAX;
    i = line[i + 1] === LBRACKET ? addressLiteralEnd(line, i + 1) : domainEnd(line, i + 1, out);
    if (i < 0 || line[i] !== GT) return PATH_SYNTAX;
  }
  out.end = i + 1;
  out.localStart = localStart;
  out.localEnd = localEnd;
  if (out.end - at > MAX_PATH) return PATH_TOO_LONG;
  if (localEnd - localStart > MAX_LOCAL_PART) return LOCAL_PART_TOO_LONG;
  return out.longDomain ? DOMAIN_TOO_LONG : PATH_OK;
}

function isPostmaster(line: Buffer, start: number, end: number): boolean {
  if (end - start !== POSTMASTER.length) return false;
  for (let k = 0; k < POSTMASTER.length; k++) if ((line[start + k] | 0x20) !== POSTMASTER[k]) return false;
  return true;
}

/**
 * `Dot-string = Atom *("." Atom)`, `Atom = 1*atext` (atext plus UTF8-non-ascii, RFC 6531 §3.3):
 * the index after it, or -1.
 */
function dotStringEnd(line: Buffer, i: number, out: PathScan): number {
  let atomLength = 0;
  for (;;) {
    const c = line[i];
    if (c === undefined) return -1;
    if ((CLASS[c] & C_ATEXT) !== 0) {
      i++;
      atomLength++;
    } else if (c >= 0x80) {
      i = pastUtf8(line, i, out);
      if (i < 0) return -1;
      atomLength++;
    } else if (c === DOT && atomLength > 0) {
      i++;
      atomLength = 0;
    } else {
      // An empty atom (a leading, trailing or doubled dot) is not a Dot-string.
      return atomLength > 0 ? i : -1;
    }
  }
}

/**
 * `Quoted-string = DQUOTE *QcontentSMTP DQUOTE` with `quoted-pairSMTP = %d92 %d32-126` and
 * qtextSMTP (plus UTF8-non-ascii, RFC 6531 §3.3): the index after the closing quote, or -1.
 */
function quotedStringEnd(line: Buffer, i: number, out: PathScan): number {
  for (i++; i < line.length;) {
    const c = line[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const q = line[i + 1];
      if (q === undefined || q < 32 || q > 126) return -1;
      i += 2;
    } else if ((CLASS[c] & C_QTEXT) !== 0) {
      i++;
    } else if (c >= 0x80) {
      i = pastUtf8(line, i, out);
      if (i < 0) return -1;
    } else {
      return -1;
    }
  }
  return -1;
}

/**
 * `Domain = sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]` (letters, digits and
 * inner hyphens; a U-label of RFC 6531 §3.3 may hold UTF8-non-ascii too): the index after it, or
 * -1 when it is not a Domain. Sets `out.longDomain` when it is one over `MAX_DOMAIN` octets or with
 * a label over `MAX_LABEL`. IDNA2008's further rules for U-labels (RFC 5891) are not checked.
 */
function domainEnd(line: Buffer, i: number, out: PathScan): number {
  const start = i;
  let labelStart = i;
  let last = -1;
  for (;;) {
    const c = line[i];
    if (c !== undefined && (CLASS[c] & C_LETDIG) !== 0) {
      last = c;
      i++;
    } else if (c === HYPHEN && i > labelStart) {
      last = c;
      i++;
    } else if (c !== undefined && c >= 0x80) {
      last = c;
      i = pastUtf8(line, i, out);
      if (i < 0) return -1;
    } else {
      // A label ends here: it must not be empty nor end in a hyphen.
      if (i === labelStart || last === HYPHEN) return -1;
      if (i - labelStart > MAX_LABEL) out.longDomain = true;
      if (c !== DOT) break;
      i++;
      labelStart = i;
    }
  }
  if (i - start > MAX_DOMAIN) out.longDomain = true;
  return i;
}

/**
 * True when `text` is a whole RFC 5321 §4.1.2 `Domain` (letters, digits and inner hyphens per
 * label; U-labels of RFC 6531 §3.3 allowed) within the limits of §4.5.3.1.2 (255 octets, labels of
 * 63): the grammar `scanPath` applies to a mailbox's domain. Address literals are not Domains.
 */
export function isDomain(text: string): boolean {
  const buf = Buffer.from(text, 'utf8');
  const scan = new PathScan();
  return buf.length > 0 && domainEnd(buf, 0, scan) === buf.length && !scan.longDomain;
}

/**
 * `address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"`
 * (RFC 5321 §4.1.3) at `line[i]` (the `[`): the index after the `]`, or -1 (a literal is far
 * shorter than `MAX_DOMAIN`). A General-address-literal
 * needs a Standardized-tag registered with IANA, and the only one is `IPv6`: any other tag is refused.
 */
function addressLiteralEnd(line: Buffer, i: number): number {
  const close = line.indexOf(RBRACKET, i + 1);
  if (close < 0) return -1;
  const text = line.toString('latin1', i + 1, close);
  if (/^IPv6:/i.test(text)) return isIpv6Address(text.slice(5)) ? close + 1 : -1;
  return isIpv4Address(text) ? close + 1 : -1;
}

/** `IPv4-address-literal = Snum 3("." Snum)`, `Snum = 1*3DIGIT` from 0 to 255 (RFC 5321 §4.1.3). */
export function isIpv4Address(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * `IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp` (RFC 5321 §4.1.3): 8 groups of
 * 1 to 4 hex digits, or 6 and an IPv4 address; `::` stands for at least two groups, so at most 6
 * (or 4 beside an IPv4 address) groups may be written around it.
 */
export function isIpv6Address(text: string): boolean {
  let head = text;
  let groups = 8;
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || !isIpv4Address(text.slice(colon + 1))) return false;
    head = text.slice(0, colon + 1);
    // `a:b::1.2.3.4` keeps its `::`; `a:…:f:1.2.3.4` drops the colon before the IPv4 part.
    if (!head.endsWith('::')) head = head.slice(0, -1);
    groups = 6;
  }
  const hex = (s: string): string[] | null => {
    if (s === '') return [];
    const g = s.split(':');
    return g.every((x) => /^[0-9A-Fa-f]{1,4}$/.test(x)) ? g : null;
  };
  const gap = head.indexOf('::');
  if (gap < 0) return hex(head)?.length === groups;
  if (head.indexOf('::', gap + 1) >= 0) return false;
  const left = hex(head.slice(0, gap));
  const right = hex(head.slice(gap + 2));
  return left !== null && right !== null && left.length + right.length <= groups - 2;
}

/** One `esmtp-param` (RFC 5321 §4.1.2): its keyword upper-cased, its value as sent (UTF-8), or null without `=`. */
export interface EsmtpParam {
  readonly keyword: string;
  readonly value: string | null;
}

/**
 * The parameters after a path (from `line[from]`, just after the `>`): `[SP Mail-parameters]` or
 * `[SP Rcpt-parameters]` with `Mail-parameters = esmtp-param *(SP esmtp-param)`,
 * `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`, `esmtp-value = 1*(%d33-60 / %d62-126)`
 * (plus UTF8-non-ascii, RFC 6531 §3.3: the caller refuses it outside SMTPUTF8). Trailing white space (SP, HTAB) is tolerated
 * (RFC 5321 §4.1.1: a SHOULD). Returns the parameters (an empty list when there is none; no
 * allocation then), or null when the octets are not that grammar (one SP between parameters,
 * nothing glued to the `>`).
 */
export function parseEsmtpParams(line: Buffer, from: number): EsmtpParam[] | null {
  const end = trimmedEnd(line, from);
  if (end === from) return NO_PARAMS;
  if (line[from] !== SP) return null;
  const params: EsmtpParam[] = [];
  let i = from + 1;
  for (;;) {
    const keyStart = i;
    if (i >= end || (CLASS[line[i]] & C_LETDIG) === 0) return null;
    while (i < end && ((CLASS[line[i]] & C_LETDIG) !== 0 || line[i] === HYPHEN)) i++;
    const keyword = line.toString('latin1', keyStart, i).toUpperCase();
    let value: string | null = null;
    if (i < end && line[i] === EQUALS) {
      const valueStart = ++i;
      while (i < end) {
        const c = line[i];
        if ((CLASS[c] & C_VALUE) !== 0) i++;
        else if (c >= 0x80) {
          const n = utf8NonAsciiLength(line, i);
          if (n === 0) return null;
          i += n;
        } else break;
      }
      if (i === valueStart) return null;
      value = line.toString('utf8', valueStart, i);
    }
    params.push({ keyword, value });
    if (i === end) return params;
    if (line[i] !== SP) return null;
    i++;
  }
}
const NO_PARAMS: EsmtpParam[] = [];

/** True when the octets from `from` on are white space only (SP, HTAB): RFC 5321 §4.1.1 tolerates them before CRLF. */
export function onlyTrailingSpace(line: Buffer, from: number): boolean {
  return trimmedEnd(line, from) === from;
}

/** True when `line` holds a non-ASCII octet from `from` on (RFC 6531 §3.4: an esmtp-value beyond ASCII needs SMTPUTF8). */
export function hasNonAscii(line: Buffer, from: number): boolean {
  for (let i = from; i < line.length; i++) if (line[i] >= 0x80) return true;
  return false;
}
