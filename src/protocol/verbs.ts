/**
 * The one list of SMTP and LMTP command verbs smtpbench knows, client or server side, and the
 * subsets other modules derive their lists from (each subset is checked against the list by the
 * compiler, and no other module spells a list of verbs):
 * - scenario steps (`STEP_VERBS`): the client's `scenario` weights (src/client/steps.ts), the
 *   profile resolver's `scenario` keys and their phases (src/metrics/phases.ts);
 * - fault targets (`FAULT_VERBS`): the reference server's `server.faults[].command` names
 *   (src/profile/faults.ts) and its per-command histograms (src/server/verb-table.ts);
 * - the reference server's HELP reply (src/server/replies.ts) and its verb recognition from bytes
 *   (`verbCodeOf`).
 *
 * A new verb goes into `VERBS` (and a subset, if it is a step or a fault target); the compiler
 * then asks every switch over `Verb` that must decide about it (HELP, for one).
 */
import * as bytes from './bytes.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { SP, startsWithCI } = bytes;

/**
 * Every verb, in the order the reference server's HELP lists them: greeting, transaction, the
 * other RFC 5321 commands, RFC 821's legacy ones, then the extensions.
 */
export const VERBS = [
  'HELO', // RFC 5321 §4.1.1.1
  'EHLO', // RFC 5321 §4.1.1.1
  'LHLO', // RFC 2033 §4.1: LMTP's EHLO
  'MAIL', // RFC 5321 §4.1.1.2
  'RCPT', // RFC 5321 §4.1.1.3
  'DATA', // RFC 5321 §4.1.1.4
  'BDAT', // RFC 3030 §2
  'RSET', // RFC 5321 §4.1.1.5
  'NOOP', // RFC 5321 §4.1.1.9
  'QUIT', // RFC 5321 §4.1.1.10
  'VRFY', // RFC 5321 §4.1.1.6
  'HELP', // RFC 5321 §4.1.1.8
  'EXPN', // RFC 5321 §4.1.1.7
  'SEND', // RFC 821 §4.1.1
  'SOML', // RFC 821 §4.1.1
  'SAML', // RFC 821 §4.1.1
  'TURN', // RFC 821 §4.1.1; RFC 5321 Appendix F.1
  'ATRN', // RFC 2645 §4
  'XCLIENT', // Postfix XCLIENT_README
  'AUTH', // RFC 4954 §4
  'STARTTLS', // RFC 3207 §4
] as const;

/** A command verb, upper case. */
export type Verb = (typeof VERBS)[number];

/**
 * The scenario steps: verbs the client can mix into a run by weight (profile `scenario`), each
 * recorded in its own phase. The client numbers steps by their position here, and the phases list
 * them in this order.
 */
export const STEP_VERBS = ['VRFY', 'EXPN', 'HELP', 'NOOP', 'RSET', 'SEND', 'SOML', 'SAML', 'TURN', 'ATRN'] as const satisfies readonly Verb[];
export type StepVerb = (typeof STEP_VERBS)[number];

/**
 * The verbs whose reply the reference server's faults can name (`server.faults[].command`, in
 * lower case), in the order the fault commands are listed. Each also has its own processing-time
 * histogram on the server (as LHLO and XCLIENT do; LHLO takes EHLO's faults).
 */
export const FAULT_VERBS = ['HELO', 'EHLO', 'AUTH', 'STARTTLS', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP'] as const satisfies readonly Verb[];
export type FaultVerb = (typeof FAULT_VERBS)[number];

/** A verb in lower case, as phases, fault commands and histogram names spell it. */
export const lowerVerb = <V extends Verb>(v: V): Lowercase<V> => v.toLowerCase() as Lowercase<V>;

// ---------------------------------------------------------------------------------------
// Verbs from bytes (house style §4): a four-letter verb, case-folded, is one 32-bit number, so
// the server recognises a command with one comparison and no string. Longer verbs get small
// negative numbers, outside that space.

/** Verbs longer than four letters, with their words to match. */
const LONG_VERBS = VERBS.filter((v) => v.length !== 4);
const LONG_WORDS = LONG_VERBS.map((v) => Buffer.from(v, 'latin1'));

/** The `verbCodeOf` of a line that starts with no verb (nor any other four-letter word). */
export const NO_VERB = 0;

/** Four octets, each with bit 5 set (ASCII letters folded to lower case), as one unsigned 32-bit number. */
const pack = (a: number, b: number, c: number, d: number): number => (((a | 0x20) << 24) | ((b | 0x20) << 16) | ((c | 0x20) << 8) | (d | 0x20)) >>> 0;

/** The number `verbCodeOf` gives a line that starts with `verb`. */
export function verbCode(verb: Verb): number {
  if (verb.length !== 4) return -2 - LONG_VERBS.indexOf(verb);
  return pack(verb.charCodeAt(0), verb.charCodeAt(1), verb.charCodeAt(2), verb.charCodeAt(3));
}

/**
 * The verb a command line (CRLF removed) starts with, as `verbCode` numbers it, in any letter case.
 * A line whose first word has four octets gets their packed number even when it is no verb (the
 * caller looks the number up); `NO_VERB` otherwise. The word ends at the line's end or a space
 * (RFC 5321 §4.1.1: `verb [SP arguments] CRLF`).
 */
export function verbCodeOf(line: Buffer): number {
  const len = line.length;
  if (len >= 4 && (len === 4 || line[4] === SP)) return pack(line[0], line[1], line[2], line[3]);
  for (let i = 0; i < LONG_WORDS.length; i++) {
    const w = LONG_WORDS[i];
    if (startsWithCI(line, 0, w) && (len === w.length || line[w.length] === SP)) return -2 - i;
  }
  return NO_VERB;
}
