/**
 * The argument grammar of SMTP commands, as the reference server reads it: paths and their local
 * parts (RFC 5321 §4.1.2), MAIL parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8,
 * RFC 4954 §5 AUTH), BDAT sizes (RFC 3030 §2), AUTH's arguments and strict base64 (RFC 4954 §4),
 * and XCLIENT's attributes in xtext (Postfix XCLIENT_README, RFC 3461 §4). Pure functions on a
 * command line (CRLF removed): what a valid argument means for the session is the caller's.
 *
 * Paths are scanned as octets (per recipient, on the hot path); the rest is decoded as text:
 * it is short, and comes once per message or session.
 */
import * as bytes from './bytes.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { AT, COLON, CR, DIGIT_0, GT, LF, LT, SP, startsWithCI } = bytes;

const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/**
 * Index of the `>` that closes the path starting at `at` (after optional spaces, which many
 * clients send although RFC 5321 has none), or -1 when there is no `<…>`. Source routes
 * (`<@a,@b:user@d>`, RFC 5321 §4.1.2 / Appendix C) are accepted and ignored. A quoted local part
 * may hold `>` and escaped quotes (RFC 5321 §4.1.2 Quoted-string).
 */
export function pathEnd(line: Buffer, at: number): number {
  let i = at;
  while (i < line.length && line[i] === SP) i++;
  if (line[i] !== LT) return -1;
  let quoted = false;
  for (let j = i + 1; j < line.length; j++) {
    const b = line[j];
    if (b === BACKSLASH && quoted) j++;
    else if (b === QUOTE) quoted = !quoted;
    else if (b === GT && !quoted) return j;
  }
  return -1;
}

/**
 * The local part of the path whose `>` is at `close` (`pathEnd`), as `[start, end)` in `line`: from
 * after `<` (or after a source route's `:`) to the last `@`, or to `>` for a mailbox without one.
 */
export function localPartOf(line: Buffer, close: number): { readonly start: number; readonly end: number } {
  let start = line.lastIndexOf(LT, close) + 1;
  // A source route `<@a,@b:user@d>` (RFC 5321 §4.1.2) ends at its colon.
  if (line[start] === AT) start = line.indexOf(COLON, start) + 1;
  const at = line.lastIndexOf(AT, close);
  return { start, end: at >= start ? at : close };
}

/** What `checkMailParameters` found: all acceptable, a malformed value, a declared size over the limit, or a parameter we do not take. */
export type MailParametersCheck = 'ok' | 'syntax' | 'size-too-big' | 'unknown';

/**
 * Checks the `mail-parameters` after the reverse-path of `MAIL FROM:<…>` (from `from` on):
 * `SIZE=digits` (RFC 1870 §6; over `maxMessageSize` when that is > 0 is `size-too-big`),
 * `BODY=7BIT|8BITMIME` (RFC 6152; `BINARYMIME` only with CHUNKING, RFC 3030 §3), `SMTPUTF8`
 * (RFC 6531), `AUTH=…` (RFC 4954 §5, only when AUTH is offered; its value is not used). Keywords in
 * any case; parameters separated by spaces.
 */
export function checkMailParameters(line: Buffer, from: number, maxMessageSize: number, chunking: boolean, authOffered: boolean): MailParametersCheck {
  const params = line.toString('latin1', from).trim();
  if (params.length === 0) return 'ok';
  for (const p of params.split(/ +/)) {
    const eq = p.indexOf('=');
    const key = (eq === -1 ? p : p.slice(0, eq)).toUpperCase();
    const value = eq === -1 ? '' : p.slice(eq + 1);
    if (key === 'SIZE') {
      if (!/^\d{1,20}$/.test(value)) return 'syntax';
      if (maxMessageSize > 0 && Number(value) > maxMessageSize) return 'size-too-big';
    } else if (key === 'BODY') {
      const body = value.toUpperCase();
      // RFC 3030 §3: BINARYMIME needs CHUNKING; it is taken as any other body (content is not inspected).
      if (body !== '7BIT' && body !== '8BITMIME' && !(body === 'BINARYMIME' && chunking)) return 'syntax';
    } else if (key === 'AUTH' && authOffered) {
      // RFC 4954 §5: the original submitter, or <>; accepted and not used.
    } else if (key !== 'SMTPUTF8') {
      return 'unknown';
    }
  }
  return 'ok';
}

/**
 * Checks the `rcpt-parameters` after the forward-path of `RCPT TO:<…>` (from `from` on; RFC 5321
 * §4.1.1.3): only service extensions define them, and this server offers none that does (DSN's
 * NOTIFY and ORCPT are not advertised), so any parameter is one it does not take: `unknown`, a
 * 555 (§4.1.1.11), as for MAIL. Spaces and the line end alone are `ok`. One octet compare on the
 * common line with nothing after the path.
 */
export function checkRcptParameters(line: Buffer, from: number): 'ok' | 'unknown' {
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (c !== SP && c !== CR && c !== LF) return 'unknown';
  }
  return 'ok';
}

/** `BDAT`'s arguments: the chunk's size in octets, and whether it is the last. */
export interface BdatArgs {
  readonly size: number;
  readonly last: boolean;
}

/** Most digits a BDAT size may have: exact in a double, and far beyond any message we would accept. */
export const BDAT_MAX_DIGITS = 15;
const LAST_WORD = Buffer.from('LAST');

/**
 * `BDAT chunk-size [SP "LAST"]` (RFC 3030 §2), the verb at `line[0..4)`: the size (1 to
 * `BDAT_MAX_DIGITS` digits) and LAST in any case, or null when malformed. Without a valid size
 * nobody knows where the chunk ends, so the caller must read what follows as commands.
 */
export function parseBdatArgs(line: Buffer): BdatArgs | null {
  let i = 5;
  let size = 0;
  // One digit more than allowed is read, so that an over-long size fails below.
  while (i < line.length && i <= 5 + BDAT_MAX_DIGITS && line[i] >= DIGIT_0 && line[i] <= DIGIT_0 + 9) size = size * 10 + (line[i++] - DIGIT_0);
  const digits = i - 5;
  if (digits === 0 || digits > BDAT_MAX_DIGITS) return null;
  if (i === line.length) return { size, last: false };
  if (line[i] === SP && i + 5 === line.length && startsWithCI(line, i + 1, LAST_WORD)) return { size, last: true };
  return null;
}

/**
 * The chunk size of a malformed BDAT line, read leniently (spaces before it, anything after it:
 * `BDAT  5`, `BDAT 5 LAST extra`), or null when there is none. The command is refused all the same
 * (501), but a size the client meant tells where its chunk ends: those octets are skipped, never
 * read as commands (they could carry a smuggled MAIL or RCPT).
 */
export function bdatSizeLenient(line: Buffer): number | null {
  let i = 4;
  while (i < line.length && line[i] === SP) i++;
  const from = i;
  let size = 0;
  while (i < line.length && i - from <= BDAT_MAX_DIGITS && line[i] >= DIGIT_0 && line[i] <= DIGIT_0 + 9) size = size * 10 + (line[i++] - DIGIT_0);
  const digits = i - from;
  return digits === 0 || digits > BDAT_MAX_DIGITS || (i < line.length && line[i] !== SP) ? null : size;
}

/**
 * `AUTH mechanism [initial-response]` (RFC 4954 §4), the verb at `line[0..4)`: the mechanism as
 * given and the initial response if any, or null for no argument or more than two.
 */
export function parseAuthArgs(line: Buffer): { readonly mechanism: string; readonly initial: string | null } | null {
  const args = line
    .toString('latin1', 5)
    .split(' ')
    .filter((a) => a !== '');
  if (args.length < 1 || args.length > 2) return null;
  return { mechanism: args[0], initial: args.length === 2 ? args[1] : null };
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
