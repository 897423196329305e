/**
 * End-to-end delivery through a relaying MTA (issue 10 item 3): `smtpbench run --sink URL` reads a
 * `smtpbench serve --http` sink's `GET /stats` (src/server/stats-http.ts) with undici before the
 * load and after it, polling until the sink has received as many messages as the MTA accepted or
 * the drain timeout runs out. The run's figures are end minus start (HdrHistogram `subtract`,
 * counters subtracted), so one long-running sink serves many runs.
 *
 * Clocks: the sink's `delivery` histogram is its arrival time minus the client's `X-Smtpbench-Sent`
 * wall clock, so client and sink clocks must agree. On one host they are the same clock. For two
 * hosts each fetch estimates the sink's offset as NTP does for one exchange: the sink's reported
 * clock minus the midpoint of the client's request and response times, within ± half the round trip.
 */
import * as hdr from 'hdr-histogram-js';
import { Agent, request } from 'undici';
import { newHistogram, type Histogram } from '../metrics/histogram.js';
import type { ServerCounters } from '../server/stats.js';

/** One reading of the sink. */
export interface SinkSnapshot {
  readonly counters: ServerCounters;
  /** The sink's `delivery` histogram, µs (empty before its first stamped message). */
  readonly delivery: Histogram;
  /** The sink's wall clock minus the client's at the request's midpoint, ms. */
  readonly offsetMs: number;
  /** Request to response on the client's clock, ms: the offset is good to ± half of it. */
  readonly rttMs: number;
}

/** Per-request limits of a sink fetch, ms. */
export interface SinkTimeouts {
  readonly connectMs: number;
  /** For the response headers and for each pause in the body. */
  readonly idleMs: number;
}

export const DEFAULT_SINK_TIMEOUTS: SinkTimeouts = { connectMs: 2000, idleMs: 3000 };

/** How often the drain polls the sink, ms. */
export const DRAIN_POLL_MS = 200;

/** Default `--drain-timeout`, ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;

/** `summary.json`'s `delivery` section: what the sink received of what the MTA accepted. */
export interface DeliveryReport {
  /** The sink's stats URL as given to `--sink`, without userinfo. */
  readonly sink: string;
  /** Messages the MTA under test accepted from smtpbench (`totals.messages.accepted`). */
  readonly accepted: number;
  /** Messages the sink accepted in the run's window (its `messages` counter, end minus start). */
  readonly delivered: number;
  /** Delivered by the time the load stopped (the first poll after it). */
  readonly deliveredAtLoadEnd: number;
  /** accepted − delivered, not below 0: still queued (or lost) when the drain ended. */
  readonly queued: number;
  /** True when delivered reached accepted before the drain timeout. */
  readonly drained: boolean;
  /** Seconds from the load's end to the poll that saw delivered ≥ accepted (or to the timeout). */
  readonly drainS: number;
  readonly drainTimeoutS: number;
  /** Delivered messages per second over the window: the first sink reading to the last. */
  readonly ratePerS: number;
  /** Seconds from the first sink reading (before the load) to the last. */
  readonly windowS: number;
  /**
   * The sink's wall clock minus the client's, ms, from the reading with the shortest round trip,
   * good to ± `uncertaintyMs`. On one host ≈ 0; between hosts the delivery times are off by it.
   */
  readonly clockOffsetMs: number;
  readonly clockUncertaintyMs: number;
  /** Why the figures are incomplete (a reading failed), or null. */
  readonly error: string | null;
}

/** The client's wall clock, epoch ms (fractional). */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** The URL shown in messages and in summary.json: no userinfo, no query. */
export function sinkName(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * The `--sink` URL: an http(s) URL; a bare `http://HOST:PORT` (path `/`) means its `/stats`.
 * @returns the URL, or a message naming what is wrong with it
 */
export function parseSinkUrl(value: string): URL | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an http URL such as http://127.0.0.1:8025';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected http:// or https://, got ${url.protocol}`;
  if (url.pathname === '/') url.pathname = '/stats';
  return url;
}

/** The undici agent of one run's sink readings; `destroy()` it when done. */
export function sinkAgent(timeouts: SinkTimeouts = DEFAULT_SINK_TIMEOUTS): Agent {
  return new Agent({ connect: { timeout: timeouts.connectMs }, headersTimeout: timeouts.idleMs, bodyTimeout: timeouts.idleMs });
}

/**
 * Reads the sink once.
 * @throws Error with one printable line (no URL): refused, timed out, HTTP status, not a sink's JSON
 */
export async function readSink(url: URL, agent: Agent, signal?: AbortSignal): Promise<SinkSnapshot> {
  const sentMs = wallMs();
  let text: string;
  try {
    const res = await request(url, { dispatcher: agent, signal });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    text = await res.body.text();
  } catch (err) {
    throw new Error(failure(err), { cause: err });
  }
  const doneMs = wallMs();
  let doc: { counters?: ServerCounters; wallClockMs?: number; encoded?: { histograms?: Record<string, string> } };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('the answer is not JSON');
  }
  if (typeof doc?.counters?.messages !== 'number' || typeof doc.wallClockMs !== 'number' || typeof doc.encoded?.histograms !== 'object') {
    throw new Error('not a smtpbench sink (no counters, wallClockMs or encoded histograms: is it `smtpbench serve --http` of this version?)');
  }
  const b64 = doc.encoded.histograms?.delivery;
  let delivery: Histogram;
  try {
    delivery = b64 ? hdr.decodeFromCompressedBase64(b64, 32, false) : newHistogram();
  } catch {
    throw new Error('its delivery histogram does not decode');
  }
  return { counters: doc.counters, delivery, offsetMs: doc.wallClockMs - (sentMs + doneMs) / 2, rttMs: doneMs - sentMs };
}

/** A failed request in a few words (undici and socket error codes). */
function failure(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'no connection in time';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'no answer in time';
  if (e.name === 'AbortError') return 'stopped';
  return e.message || code || String(err);
}

/**
 * The run's part of the sink's figures: `end` minus `start`. Counters must not go back.
 * @returns the delivered count and the delivery histogram (a new one), or a message when the sink restarted
 */
export function sinkDelta(start: SinkSnapshot, end: SinkSnapshot): { delivered: number; delivery: Histogram } | string {
  const delivered = end.counters.messages - start.counters.messages;
  if (delivered < 0 || end.delivery.totalCount < start.delivery.totalCount) return 'the sink restarted during the run (its counters went back)';
  const delivery = newHistogram();
  delivery.add(end.delivery);
  delivery.subtract(start.delivery);
  return { delivered, delivery };
}

/** What `drainSink` saw. */
export interface DrainResult {
  /** The last successful reading (null: none after the load). */
  readonly end: SinkSnapshot | null;
  /** The first successful reading after the load stopped. */
  readonly atLoadEnd: SinkSnapshot | null;
  readonly drained: boolean;
  /** From the call to the reading that saw delivered ≥ accepted, or to the timeout, ms. */
  readonly drainMs: number;
  /** The last failed reading's reason, when the drain never got a good one after it. */
  readonly error: string | null;
}

/**
 * Polls the sink every `DRAIN_POLL_MS` until it has received `accepted` messages since `start`
 * or `timeoutMs` has passed (a sink that never receives anything ends at the timeout, 0
 * delivered). A failed reading is retried until the timeout. `signal` ends the drain at once.
 */
export async function drainSink(url: URL, agent: Agent, start: SinkSnapshot, accepted: number, timeoutMs: number, signal?: AbortSignal): Promise<DrainResult> {
  const began = performance.now();
  const deadline = began + timeoutMs;
  let end: SinkSnapshot | null = null;
  let atLoadEnd: SinkSnapshot | null = null;
  let error: string | null = null;
  for (;;) {
    const left = deadline - performance.now();
    try {
      // A reading runs past the drain's deadline by 1 s at most, so one is always tried
      // (AbortSignal.timeout wants an integer).
      const limit = AbortSignal.timeout(Math.max(Math.ceil(left), 1000));
      const snap = await readSink(url, agent, signal ? AbortSignal.any([limit, signal]) : limit);
      end = snap;
      atLoadEnd ??= snap;
      error = null;
      if (snap.counters.messages - start.counters.messages >= accepted) return { end, atLoadEnd, drained: true, drainMs: performance.now() - began, error };
    } catch (err) {
      error = (err as Error).message;
    }
    if (signal?.aborted || performance.now() + DRAIN_POLL_MS > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
  return { end, atLoadEnd, drained: false, drainMs: Math.min(performance.now() - began, timeoutMs), error };
}

/**
 * The `delivery` section and the run's delivery histogram from a drain.
 * @param windowMs the first sink reading to the drain's end, ms
 */
export function deliveryReport(
  sink: URL,
  start: SinkSnapshot,
  drain: DrainResult,
  accepted: number,
  timeoutMs: number,
  windowMs: number,
): { report: DeliveryReport; delivery: Histogram | null } {
  const delta = drain.end ? sinkDelta(start, drain.end) : (drain.error ?? 'no reading after the load');
  const ok = typeof delta !== 'string';
  const delivered = ok ? delta.delivered : 0;
  const atEnd = drain.atLoadEnd ? Math.max(0, drain.atLoadEnd.counters.messages - start.counters.messages) : 0;
  const best = [start, drain.atLoadEnd, drain.end].filter((s) => s !== null).sort((a, b) => a.rttMs - b.rttMs)[0];
  const r3 = (x: number): number => Number(x.toFixed(3));
  return {
    report: {
      sink: sinkName(sink),
      accepted,
      delivered,
      deliveredAtLoadEnd: atEnd,
      queued: Math.max(0, accepted - delivered),
      drained: drain.drained,
      drainS: r3(drain.drainMs / 1000),
      drainTimeoutS: r3(timeoutMs / 1000),
      ratePerS: windowMs > 0 ? Number(((delivered * 1000) / windowMs).toFixed(1)) : 0,
      windowS: r3(windowMs / 1000),
      clockOffsetMs: r3(best.offsetMs),
      clockUncertaintyMs: r3(best.rttMs / 2),
      error: ok ? drain.error : delta,
    },
    delivery: ok ? delta.delivery : null,
  };
}
