/**
 * The profile's hard limits: the largest values a field may take, shared by the resolver and by
 * the code that sizes buffers and timers from them.
 */

/** Most recipients one message may have (RCPT commands in one transaction). */
export const MAX_RECIPIENTS = 100_000;
/** Largest message size: the body is built in memory once per worker, and dot-stuffing may double it. */
export const MAX_SIZE_BYTES = 256 * 1024 * 1024;
/** Longest duration: Node timers hold at most 2^31 − 1 ms (about 24.8 days). */
export const MAX_DURATION_MS = 2_147_483_647;
