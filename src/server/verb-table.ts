/**
 * The verbs the reference server's command machine dispatches on, as `verbCodeOf` numbers them
 * (src/protocol/verbs.ts: the first four octets, ASCII case-folded, as one 32-bit number), and per
 * verb what the shell needs: the processing-time histogram (`cmd.<verb>`, in the order of
 * SERVER_COMMANDS) and the fault-table index its faults are drawn from.
 */
import * as verbs from '../protocol/verbs.js';
import { SERVER_COMMANDS } from '../metrics/server-histograms.js';
import type { HistogramSlot } from './context.js';
import { faultIndex, type FaultIndex } from './faults.js';

const { FAULT_VERBS, lowerVerb, verbCode } = verbs;

// Verbs as `verbCodeOf` numbers them (module constants: the dispatch switch in commands.ts compares numbers).
export const HELO = verbCode('HELO');
export const EHLO = verbCode('EHLO');
export const MAIL = verbCode('MAIL');
export const RCPT = verbCode('RCPT');
export const DATA = verbCode('DATA');
export const RSET = verbCode('RSET');
export const NOOP = verbCode('NOOP');
export const QUIT = verbCode('QUIT');
export const VRFY = verbCode('VRFY');
export const HELP = verbCode('HELP');
export const EXPN = verbCode('EXPN');
export const TURN = verbCode('TURN');
export const SEND = verbCode('SEND');
export const SOML = verbCode('SOML');
export const SAML = verbCode('SAML');
export const ATRN = verbCode('ATRN');
export const AUTH = verbCode('AUTH');
export const BDAT = verbCode('BDAT');
export const LHLO = verbCode('LHLO');
export const STARTTLS = verbCode('STARTTLS');
export const XCLIENT = verbCode('XCLIENT');

/** Per verb number: its processing-time histogram (name and slot in `CommandHistograms`) and its fault-table index. */
export interface VerbInfo extends HistogramSlot {
  readonly fault: FaultIndex;
}
/** A verb a fault can name has its own histogram and faults; LHLO takes EHLO's faults, XCLIENT the `*` ones; other verbs share `other`. */
const VERB_LIST: [number, string, FaultIndex][] = [
  ...FAULT_VERBS.map((v): [number, string, FaultIndex] => [verbCode(v), lowerVerb(v), faultIndex(lowerVerb(v))]),
  [LHLO, 'lhlo', faultIndex('ehlo')],
  [XCLIENT, 'xclient', faultIndex('*')],
  [0, 'other', faultIndex('*')],
];
/** Verb number → its `VerbInfo`; a verb not listed is `OTHER`. */
export const VERBS = new Map<number, VerbInfo>(VERB_LIST.map(([v, name, fault], slot) => [v, { hist: `cmd.${name}`, slot, fault }]));
/** The `VerbInfo` of every verb without its own histogram. */
export const OTHER = VERBS.get(0)!;
// Reports and thresholds know the server's histograms by SERVER_HISTOGRAMS (metrics/): the verb table must time exactly those commands.
if ([...VERBS.values()].map((v) => v.hist).join() !== SERVER_COMMANDS.map((c) => `cmd.${c}`).join()) throw new Error('server/verb-table.ts: the verb table and SERVER_COMMANDS differ');
/** AUTH's `VerbInfo`: SASL response lines are timed as AUTH. */
export const AUTH_INFO = VERBS.get(AUTH)!;
