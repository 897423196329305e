/**
 * The hard limits of a profile: what the resolver (and the fault parser, and the files read beside
 * a profile) accept at most, and why. Defaults are in defaults.ts; these are bounds, not defaults.
 */

/** Most recipients one message may have (RCPT commands in one transaction, and the recipients of an empirical file). */
export const MAX_RECIPIENTS = 100_000;

/** Largest message size: the body is built in memory once per worker, and dot-stuffing may double it. */
export const MAX_SIZE_BYTES = 256 * 1024 * 1024;

/**
 * Longest duration (a run, a timeout, a fault's delay, stall or tarpit), ms: Node timers hold at most
 * 2^31 − 1 ms (about 24.8 days); longer, `setTimeout` fires after 1 ms, over and over.
 */
export const MAX_DURATION_MS = 2_147_483_647;

/** Upper bound on `workers` (validation) and on the default worker count. */
export const MAX_WORKERS = 256;
