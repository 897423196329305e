/**
 * How far this machine's wall clock is from a reference clock (`--clock-ref URL`), so shards on
 * several machines can start together (`--start-at` on the reference clock) and record how far
 * apart their clocks were. One exchange is read as NTP reads one (RFC 5905 §8): the reference's
 * time minus the midpoint of our request and response times, good to ± half the round trip; of
 * several exchanges the one with the shortest round trip is kept (NTP's clock filter, §10).
 *
 * The reference is any HTTP(S) server: a `smtpbench serve --http` answers `/stats` with its
 * `wallClockMs` (sub-millisecond); any other server's `Date` header (RFC 9110 §6.6.1) has whole
 * seconds only, so its reading adds ± 500 ms to the error bound.
 */
import type { Agent } from 'undici';

/** A measured offset: reference − local, ms (positive: the local clock is behind). */
export interface ClockOffset {
  readonly offsetMs: number;
  /** The bound on the offset's error, ms: half the best round trip, plus 500 for a `Date` header. */
  readonly errorMs: number;
  /** What the reference was: the URL without userinfo, query or fragment, and which field was read. */
  readonly source: string;
}

/** Exchanges per measurement. */
const SAMPLES = 5;
/** The largest body read (a smtpbench /stats is a few KB; anything else is only read for `Date`). */
const MAX_BODY_BYTES = 1 << 20;

/**
 * Measures this clock against `url`.
 * @param timeoutMs for all exchanges together
 * @throws Error with one printable line (no userinfo) when no exchange succeeds, or the server sends
 *   neither `wallClockMs` nor a `Date` header
 */
export async function measureClockOffset(url: URL, timeoutMs = 10_000): Promise<ClockOffset> {
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  // undici is loaded here, not with the module: only runs with --clock-ref need it (start-up, issue 14).
  const { Agent } = await import('../http-client.js');
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const deadline = AbortSignal.timeout(timeoutMs);
  let best: { offsetMs: number; rttMs: number; dateOnly: boolean } | null = null;
  let lastError: string | null = null;
  try {
    for (let i = 0; i < SAMPLES; i++) {
      try {
        const sample = await exchange(url, agent, deadline);
        if (best === null || sample.rttMs < best.rttMs) best = sample;
      } catch (err) {
        lastError = (err as Error).message;
        if (deadline.aborted) break;
      }
    }
  } finally {
    await agent.destroy().catch(() => undefined);
  }
  if (best === null) throw new Error(`--clock-ref ${shown}: ${(lastError ?? 'no answer').split('\n')[0]}`);
  const r3 = (x: number): number => Number(x.toFixed(3));
  return {
    offsetMs: r3(best.offsetMs),
    errorMs: r3(best.rttMs / 2 + (best.dateOnly ? 500 : 0)),
    source: `${shown} (${best.dateOnly ? 'Date header' : 'wallClockMs'})`,
  };
}

async function exchange(url: URL, agent: Agent, signal: AbortSignal): Promise<{ offsetMs: number; rttMs: number; dateOnly: boolean }> {
  const sentMs = performance.timeOrigin + performance.now();
  const { request } = await import('../http-client.js');
  const res = await request(url, { dispatcher: agent, signal, headers: { accept: 'application/json' } });
  const headersMs = performance.timeOrigin + performance.now();
  let text = '';
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.body.destroy();
      break;
    }
    text += chunk.toString('utf8');
  }
  const doneMs = performance.timeOrigin + performance.now();
  let wall: unknown;
  try {
    wall = (JSON.parse(text) as { wallClockMs?: unknown }).wallClockMs;
  } catch {
    wall = undefined;
  }
  // Only a success is a reading: a 404 from a mistyped path would otherwise fall back to `Date`.
  if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`HTTP ${res.statusCode}`);
  if (typeof wall === 'number' && plausible(wall)) {
    return check({ offsetMs: wall - (sentMs + doneMs) / 2, rttMs: doneMs - sentMs, dateOnly: false });
  }
  // The Date header is stamped when the response starts: its whole second began at most 1 s before,
  // so its midpoint (+500 ms) is the best guess, within ± 500 ms.
  const date = Date.parse(String(res.headers.date ?? ''));
  if (!plausible(date)) throw new Error(`HTTP ${res.statusCode} without a usable wallClockMs field or Date header`);
  return check({ offsetMs: date + 500 - (sentMs + headersMs) / 2, rttMs: headersMs - sentMs, dateOnly: true });
}

/** A wall-clock reading of this century (a reference that says 1970 or 10^308 is broken, not ahead). */
const plausible = (ms: number): boolean => Number.isFinite(ms) && ms > Date.UTC(2000, 0, 1) && ms < Date.UTC(2200, 0, 1);

/**
 * Most a reference may differ from this clock: a machine an hour off has no NTP at all, and
 * starting its shards by such a reference would move the whole run; that is refused instead.
 */
export const MAX_CLOCK_OFFSET_MS = 3_600_000;

function check<T extends { offsetMs: number }>(sample: T): T {
  if (Math.abs(sample.offsetMs) > MAX_CLOCK_OFFSET_MS) {
    throw new Error(`the reference clock is ${(sample.offsetMs / 1000).toFixed(1)} s from this one (more than ${MAX_CLOCK_OFFSET_MS / 3_600_000} h): fix the clocks (NTP) or the reference`);
  }
  return sample;
}
