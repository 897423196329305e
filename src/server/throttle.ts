/**
 * Per-connection bandwidth (`server.bandwidth`, bytes/s), like a slow link or a provider that
 * throttles a sender: message content read (DATA, BDAT) and replies written are charged to one
 * clock that advances by `octets / rate`. The connection stops reading while it is ahead of that
 * clock and resumes on a timer; a reply queued while it is ahead is held until the clock catches
 * up, so a message's final reply leaves when all its octets have been paid for (1 MiB at
 * 100 KiB/s: about 10 s after the first octet). Idle time is not banked: no bursts.
 */

/** The charging clock of one connection. */
export class Throttle {
  /** `performance.now()` ms until which the octets charged so far are paid for. */
  private paidUntil = 0;

  /** @param bytesPerS the rate, at least 1 */
  constructor(private readonly bytesPerS: number) {}

  /** Charges `octets` at `nowMs`; returns how long (ms) until everything charged is paid for. */
  charge(octets: number, nowMs: number): number {
    this.paidUntil = Math.max(this.paidUntil, nowMs) + (octets * 1000) / this.bytesPerS;
    return this.paidUntil - nowMs;
  }

  /** How long (ms) until everything charged is paid for; 0 when nothing is owed. */
  owedMs(nowMs: number): number {
    return Math.max(0, this.paidUntil - nowMs);
  }
}
