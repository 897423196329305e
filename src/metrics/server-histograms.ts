/**
 * The names of the reference server's own µs histograms (`ServerStats.histograms`), read by the
 * server, which records them, and by reports and thresholds (`server.<name>.<stat>`), which name
 * them. Kept here, below both, so report code never reaches into the server's connection.
 */

import { FAULT_VERBS, lowerVerb } from '../protocol/verbs.js';

/**
 * The commands the server times, each from its parsed line to its queued reply (`cmd.<name>`), in
 * `server/verb-table.ts`'s order: every verb a fault can name (src/protocol/verbs.ts),
 * LHLO and XCLIENT; `other` is any command it does not know.
 */
export const SERVER_COMMANDS: readonly string[] = [...FAULT_VERBS.map(lowerVerb), 'lhlo', 'xclient', 'other'];

/**
 * Every µs histogram the server may report: one per command (`cmd.mail`), the DATA/BDAT stream time
 * per message (`data-stream`) and the delivery time (`delivery`). `server/verb-table.ts` checks
 * when it loads that its verb table names exactly these commands.
 */
export const SERVER_HISTOGRAMS: readonly string[] = [...SERVER_COMMANDS.map((c) => `cmd.${c}`), 'data-stream', 'delivery'];
