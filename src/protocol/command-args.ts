/**
 * The argument grammar of SMTP commands other than paths (those are in address.ts), as the
 * reference server reads it: what MAIL parameters mean (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531
 * SMTPUTF8, RFC 4954 §5 AUTH), BDAT sizes (RFC 3030 §2), AUTH's arguments and strict base64
 * (RFC 4954 §4), and XCLIENT's attributes in xtext (Postfix XCLIENT_README, RFC 3461 §4). Pure
 * functions on a command line (CRLF removed): what a valid argument means for the session is the
 * caller's. Decoded as text: it is short, and comes once per message or session.
 */
import type { EsmtpParam } from './address.js';
import * as bytes from './bytes.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { DIGIT_0, SP, startsWithCI, TAB, trimmedEnd } = bytes;

/** What `checkMailParameters` found: all acceptable, a malformed or repeated one, a declared size over the limit, or a parameter we do not take. */
export type MailParametersCheck = 'ok' | 'syntax' | 'size-too-big' | 'unknown';

/** xtext (RFC 3461 §4): octets 33 to 126 but `+` and `=`, or `+` and two upper-case hex digits. */
const XTEXT = /^(?:[!-*,-<>-~]|\+[0-9A-F]{2})+$/;

/**
 * Checks `MAIL FROM:` parameters (`parseEsmtpParams`, protocol/address.ts), in order, the first
 * problem deciding: `SIZE=1*20DIGIT` (RFC 1870 §3; over `maxMessageSize` when that is > 0 is
 * `size-too-big`), `BODY=7BIT|8BITMIME` (RFC 6152; `BINARYMIME` only with CHUNKING, RFC 3030 §3),
 * `SMTPUTF8` without a value (RFC 6531 §3.4: it "MUST not accept a value"), `AUTH=xtext` (RFC 4954
 * §5, RFC 3461 §4; only when AUTH is offered; `<>` is xtext too). A keyword given twice is
 * `syntax` (its meaning would be ambiguous); one this server does not offer (DSN's RET and ENVID
 * among them) is `unknown`, a 555 (RFC 5321 §4.1.1.11).
 */
export function checkMailParameters(params: readonly EsmtpParam[], maxMessageSize: number, chunking: boolean, authOffered: boolean): MailParametersCheck {
  for (let k = 0; k < params.length; k++) {
    const { keyword, value } = params[k];
    for (let j = 0; j < k; j++) if (params[j].keyword === keyword) return 'syntax';
    if (keyword === 'SIZE') {
      if (value === null || !/^\d{1,20}$/.test(value)) return 'syntax';
      if (maxMessageSize > 0 && Number(value) > maxMessageSize) return 'size-too-big';
    } else if (keyword === 'BODY') {
      const body = value?.toUpperCase();
      // RFC 3030 §3: BINARYMIME needs CHUNKING; it is taken as any other body (content is not inspected).
      if (body !== '7BIT' && body !== '8BITMIME' && !(body === 'BINARYMIME' && chunking)) return 'syntax';
    } else if (keyword === 'SMTPUTF8') {
      if (value !== null) return 'syntax';
    } else if (keyword === 'AUTH' && authOffered) {
      // RFC 4954 §5: the original submitter as xtext, or <>; accepted and not used.
      if (value === null || !XTEXT.test(value)) return 'syntax';
    } else {
      return 'unknown';
    }
  }
  return 'ok';
}

/** `BDAT`'s arguments: the chunk's size in octets, and whether it is the last. */
export interface BdatArgs {
  readonly size: number;
  readonly last: boolean;
}

/** Most significant digits a BDAT size may have: exact in a double, and far beyond any message we would accept. */
export const BDAT_MAX_DIGITS = 15;
const LAST_WORD = Buffer.from('LAST');

/**
 * The chunk size at `line[i]`: `1*DIGIT` (RFC 3030 §2: any number of digits, leading zeros
 * included), at most `BDAT_MAX_DIGITS` of them significant. Returns the size and where the digits
 * end, or null when there is no digit or the number is too large.
 */
function chunkSize(line: Buffer, i: number): { readonly size: number; readonly end: number } | null {
  const from = i;
  while (i < line.length && line[i] === DIGIT_0) i++;
  const significant = i;
  let size = 0;
  while (i < line.length && line[i] >= DIGIT_0 && line[i] <= DIGIT_0 + 9) {
    if (i - significant === BDAT_MAX_DIGITS) return null;
    size = size * 10 + (line[i++] - DIGIT_0);
  }
  return i === from ? null : { size, end: i };
}

/**
 * `BDAT SP chunk-size [SP "LAST"]` (RFC 3030 §2), the verb at `line[0..4)`: the size and LAST in
 * any case, or null when malformed. Trailing white space is tolerated (RFC 5321 §4.1.1). Without a
 * valid size nobody knows where the chunk ends; see `bdatSizeLenient` for a malformed line.
 */
export function parseBdatArgs(line: Buffer): BdatArgs | null {
  const end = trimmedEnd(line, 5);
  if (line[4] !== SP) return null;
  const n = chunkSize(line, 5);
  if (n === null) return null;
  if (n.end === end) return { size: n.size, last: false };
  if (line[n.end] === SP && n.end + 5 === end && startsWithCI(line, n.end + 1, LAST_WORD)) return { size: n.size, last: true };
  return null;
}

/**
 * The chunk size of a malformed BDAT line, read leniently: the first run of digits after the verb
 * and any spaces or tabs, whatever follows it (`BDAT  5`, `BDAT 5 LAST extra`, `BDAT 6x`,
 * `BDAT 6\tLAST`), or null when there is none. The command is refused all the same (501), but a
 * size the client may have meant tells where its chunk ends: those octets are skipped, never read
 * as commands (they could carry a smuggled MAIL or RCPT).
 */
export function bdatSizeLenient(line: Buffer): number | null {
  let i = 4;
  while (i < line.length && (line[i] === SP || line[i] === TAB)) i++;
  return chunkSize(line, i)?.size ?? null;
}

/**
 * `AUTH SP sasl-mech [SP initial-response]` (RFC 4954 §4), the verb at `line[0..4)`: the mechanism
 * (RFC 4422 §3.1: 1 to 20 of upper-case letters, digits, `-`, `_`; taken in any case, as clients
 * send it) and the initial response if any (`=` is an empty one; the caller decodes it), or null
 * for anything else: no mechanism, two spaces, a third word. Trailing white space is tolerated
 * (RFC 5321 §4.1.1).
 */
export function parseAuthArgs(line: Buffer): { readonly mechanism: string; readonly initial: string | null } | null {
  const text = line.toString('latin1', 4).replace(/[ \t]+$/, '');
  const m = /^ ([A-Za-z0-9_-]{1,20})(?: (\S+))?$/.exec(text);
  return m === null ? null : { mechanism: m[1].toUpperCase(), initial: m[2] ?? null };
}

/** Strict base64 (RFC 4648 §4, padded; RFC 4954 §4 asks for it in SASL responses): null for anything else, where `Buffer.from` would guess. */
export function decodeStrictBase64(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** XCLIENT attributes (Postfix XCLIENT_README), in the order the EHLO keyword lists them. */
export const XCLIENT_ATTRIBUTES = ['NAME', 'ADDR', 'PORT', 'PROTO', 'HELO', 'LOGIN', 'DESTADDR', 'DESTPORT'] as const;
const XCLIENT_NAMES: ReadonlySet<string> = new Set(XCLIENT_ATTRIBUTES);

/** xtext (RFC 3461 §4): `+XX`, two upper-case hex digits, stands for that octet; everything else is itself. */
export function decodeXtext(text: string): string {
  return text.replace(/\+([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * `XCLIENT attribute=value …` (Postfix XCLIENT_README), the verb at `line[0..7)`: the attributes by
 * upper-case name, values xtext-decoded, in the order given; null when there is none, or one has
 * no name or an unknown one.
 */
export function parseXclientArgs(line: Buffer): Record<string, string> | null {
  const words = line
    .toString('latin1', 7)
    .split(' ')
    .filter((w) => w !== '');
  if (words.length === 0) return null;
  const attrs: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    const name = w.slice(0, eq).toUpperCase();
    if (eq < 1 || !XCLIENT_NAMES.has(name)) return null;
    attrs[name] = decodeXtext(w.slice(eq + 1));
  }
  return attrs;
}
