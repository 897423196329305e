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
import type { Agent } from 'undici';
import { decodeHistogram, newHistogram, type Histogram } from '../metrics/histogram.js';
import type { ServerChange, ServerCounters } from '../server/stats.js';

/** One reading of the sink. */
export interface SinkSnapshot {
  readonly counters: ServerCounters;
  /** The sink's `delivery` histogram, µs (empty before its first stamped message). */
  readonly delivery: Histogram;
  /** The sink's wall clock minus the client's at the request's midpoint, ms. */
  readonly offsetMs: number;
  /** Request to response on the client's clock, ms: the offset is good to ± half of it. */
  readonly rttMs: number;
  /** The sink's run-time changes of faults and domain policies it still lists, oldest first ([] from a sink without them). */
  readonly changes: readonly ServerChange[];
}

/**
 * One run-time change of the sink (`PUT`/`DELETE /faults` or `/domains` on its `serve --http`),
 * placed on the run's timeline so a report can line a step in latency or replies up with it.
 */
export interface SinkChange {
  /** Seconds on the run's timeline (0 = the load's start; the sink's clock offset taken out). */
  readonly atS: number;
  readonly target: ServerChange['target'];
  readonly action: ServerChange['action'];
  /** The new plan in one line, as the sink logged it (`rcpt: reply 451 4.7.1 Try again later`). */
  readonly what: string;
}

/** At most this many changes in one summary (the first ones; the sink keeps more). */
export const MAX_SINK_CHANGES = 100;
/** Longest `what` kept of a sink's change, characters (the sink's own bound, src/server/control.ts). */
const MAX_WHAT = 2000;

/** Per-request limits of a sink fetch, ms. */
export interface SinkTimeouts {
  readonly connectMs: number;
  /** For the response headers and for each pause in the body. */
  readonly idleMs: number;
  /**
   * The whole reading, connection to the body's last byte: a sink that answers its headers and
   * then trickles the body would otherwise hold the run for ever (each pause stays under idleMs).
   */
  readonly totalMs: number;
}

export const DEFAULT_SINK_TIMEOUTS: SinkTimeouts = { connectMs: 2000, idleMs: 3000, totalMs: 5000 };

/** The largest `/stats` answer read, bytes: a sink's is tens of KB (its encoded histograms). */
export const MAX_SINK_BODY_BYTES = 8 * 2 ** 20;

/** How often `run` reads the sink during the load, ms (the last good reading stands if it dies). */
export const LOAD_POLL_MS = 1000;

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
  /**
   * Messages the sink accepted in the run's window (its `messages` counter, end minus start); a
   * lower bound when `deliveredAtLeast`; null when the sink restarted (its count cannot be told).
   */
  readonly delivered: number | null;
  /** True when the last reading failed and `delivered` is from the last good reading before it. */
  readonly deliveredAtLeast: boolean;
  /** Delivered by the time the load stopped (the first poll after it); null without that reading. */
  readonly deliveredAtLoadEnd: number | null;
  /**
   * accepted − delivered, not below 0: still queued (or lost) when the drain ended; null when the
   * last reading failed or the sink restarted (unknown, not claimed).
   */
  readonly queued: number | null;
  /** True when delivered reached accepted, false when it did not; null when that is unknown (as queued). */
  readonly drained: boolean | null;
  /** True when Ctrl-C (or SIGTERM) stopped the drain before it ended. */
  readonly drainStopped: boolean;
  /** Seconds from the load's end to the poll that saw delivered ≥ accepted (or to the timeout or the stop). */
  readonly drainS: number;
  readonly drainTimeoutS: number;
  /** Delivered messages per second over the window: the first sink reading to the last; null when delivered is. */
  readonly ratePerS: number | null;
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
  /**
   * The sink's run-time changes of faults and domain policies made between the first reading and
   * the last, oldest first, at most MAX_SINK_CHANGES. Absent in older summaries.
   */
  readonly changes?: readonly SinkChange[];
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
export async function sinkAgent(timeouts: SinkTimeouts = DEFAULT_SINK_TIMEOUTS): Promise<Agent> {
  // undici is loaded here, not with the module: only runs with --sink need it (start-up, issue 14).
  const { Agent } = await import('../http-client.js');
  return new Agent({ connect: { timeout: timeouts.connectMs }, headersTimeout: timeouts.idleMs, bodyTimeout: timeouts.idleMs });
}

/**
 * Reads the sink once, within `timeouts.totalMs` for the whole reading (headers and body) and at
 * most MAX_SINK_BODY_BYTES of body.
 * @param signal stops the reading (the error then reads "stopped")
 * @throws Error with one printable line (no URL): refused, no answer in time, HTTP status, TLS, too
 *   large, not a sink's JSON
 */
export async function readSink(url: URL, agent: Agent, signal?: AbortSignal, timeouts: SinkTimeouts = DEFAULT_SINK_TIMEOUTS): Promise<SinkSnapshot> {
  const sentMs = wallMs();
  const deadline = AbortSignal.timeout(timeouts.totalMs);
  let text: string;
  try {
    const { request } = await import('../http-client.js');
    const res = await request(url, { dispatcher: agent, signal: signal ? AbortSignal.any([deadline, signal]) : deadline });
    if (res.statusCode !== 200) {
      res.body.destroy();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (declared > MAX_SINK_BODY_BYTES) {
      res.body.destroy();
      throw new Error(`the answer is too large (${declared} bytes; a sink's is far under ${MAX_SINK_BODY_BYTES})`);
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_SINK_BODY_BYTES) {
        res.body.destroy();
        throw new Error(`the answer is too large (over ${MAX_SINK_BODY_BYTES} bytes)`);
      }
      parts.push(chunk);
    }
    text = Buffer.concat(parts).toString('utf8');
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('the answer is too large')) throw err;
    if (err instanceof Error && /^HTTP \d+$/.test(err.message)) throw err;
    throw new Error(deadline.aborted && !signal?.aborted ? 'no answer in time' : failure(err), { cause: err });
  }
  const doneMs = wallMs();
  let doc: { counters?: ServerCounters; wallClockMs?: number; encoded?: { histograms?: Record<string, string> }; changes?: unknown };
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
    delivery = b64 ? decodeHistogram(b64) : newHistogram();
  } catch {
    throw new Error('its delivery histogram does not decode');
  }
  return { counters: doc.counters, delivery, offsetMs: doc.wallClockMs - (sentMs + doneMs) / 2, rttMs: doneMs - sentMs, changes: changesOf(doc.changes) };
}

/** The well-formed entries of a sink's `changes`, `what` cut to MAX_WHAT (an older sink has none; a malformed entry is skipped, not fatal). */
function changesOf(list: unknown): ServerChange[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter(
      (c): c is ServerChange =>
        typeof c === 'object' &&
        c !== null &&
        Number.isFinite(c.atMs) &&
        (c.seq === undefined || Number.isSafeInteger(c.seq)) &&
        (c.target === 'faults' || c.target === 'domains') &&
        (c.action === 'set' || c.action === 'clear') &&
        typeof c.what === 'string',
    )
    .map((c) => (c.what.length > MAX_WHAT ? { ...c, what: `${c.what.slice(0, MAX_WHAT)}…` } : c));
}

/**
 * The changes `end` lists that `start` did not, in the order the sink made them, on the run's
 * timeline: `atS` = (the change's sink time − `offsetMs` − `zeroMs`) / 1000. New means a higher
 * `seq` than any of `start`'s (a sink without `seq`: a later `atMs`), so a sink whose clock was
 * stepped back still has its changes listed (hostile review of issue 15, B3).
 * @param zeroMs the client's wall clock at the timeline's 0 (the load's start), epoch ms
 * @param offsetMs the sink's clock minus the client's, ms (`DeliveryReport.clockOffsetMs`)
 */
export function sinkChanges(start: SinkSnapshot, end: SinkSnapshot, zeroMs: number, offsetMs: number): SinkChange[] {
  const numbered = end.changes.every((c) => c.seq !== undefined) && start.changes.every((c) => c.seq !== undefined);
  const key = (c: ServerChange): number => (numbered ? c.seq : c.atMs);
  const seen = start.changes.reduce((max, c) => Math.max(max, key(c)), -Infinity);
  return end.changes
    .filter((c) => key(c) > seen)
    .sort((a, b) => key(a) - key(b))
    .slice(0, MAX_SINK_CHANGES)
    .map((c) => ({ atS: Number(((c.atMs - offsetMs - zeroMs) / 1000).toFixed(3)), target: c.target, action: c.action, what: c.what }));
}

/** A failed request in one line of a few words (undici, socket and OpenSSL error codes). */
export function failure(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; reason?: string; library?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'no connection in time';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'no answer in time';
  if (e.name === 'TimeoutError') return 'no answer in time';
  if (e.name === 'AbortError') return 'stopped';
  // OpenSSL's message is several lines with source paths; its `reason` is the words that matter
  // (https:// against a plain-HTTP sink: "wrong version number").
  if (e.library !== undefined || code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_')) return `TLS: ${e.reason ?? firstLine(e.message ?? code ?? '')}`;
  return firstLine(e.message || code || String(err));
}

const firstLine = (text: string): string => text.split('\n')[0].trim();

/** True when `end` cannot follow `start` on one sink: its counters went back (a restart). */
export function restarted(start: SinkSnapshot, end: SinkSnapshot): boolean {
  return end.counters.messages < start.counters.messages || end.delivery.totalCount < start.delivery.totalCount;
}

/**
 * The run's part of the sink's figures: `end` minus `start`. Counters must not go back.
 * @returns the delivered count and the delivery histogram (a new one), or a message when the sink restarted
 */
export function sinkDelta(start: SinkSnapshot, end: SinkSnapshot): { delivered: number; delivery: Histogram } | string {
  if (restarted(start, end)) return RESTARTED;
  const delivered = end.counters.messages - start.counters.messages;
  const delivery = newHistogram();
  delivery.add(end.delivery);
  delivery.subtract(start.delivery);
  return { delivered, delivery };
}

/** The `error` of a run whose sink restarted. */
export const RESTARTED = 'the sink restarted during the run (its counters went back), so what it received cannot be told';

/** What `drainSink` saw. */
export interface DrainResult {
  /** The last successful reading (null: none after the load). */
  readonly end: SinkSnapshot | null;
  /** The first successful reading after the load stopped. */
  readonly atLoadEnd: SinkSnapshot | null;
  readonly drained: boolean;
  /** From the call to the reading that saw delivered ≥ accepted, or to the timeout or the stop, ms. */
  readonly drainMs: number;
  /** The last failed reading's reason, when the drain never got a good one after it. */
  readonly error: string | null;
  /** A reading's counters went back: the sink restarted, and the drain stopped there. */
  readonly restarted: boolean;
  /** `signal` stopped the drain (Ctrl-C). */
  readonly stopped: boolean;
}

/**
 * Polls the sink every `DRAIN_POLL_MS` until it has received `accepted` messages since `start`
 * or `timeoutMs` has passed (a sink that never receives anything ends at the timeout, 0
 * delivered). A failed reading is retried until the timeout. A reading whose counters are below
 * `previous`'s (the last good reading before the drain: `start`, or one taken during the load)
 * or its own predecessor's means the sink restarted: the drain ends at once, as it does on `signal`.
 */
export async function drainSink(url: URL, agent: Agent, start: SinkSnapshot, previous: SinkSnapshot, accepted: number, timeoutMs: number, signal?: AbortSignal): Promise<DrainResult> {
  const began = performance.now();
  const deadline = began + timeoutMs;
  let end: SinkSnapshot | null = null;
  let atLoadEnd: SinkSnapshot | null = null;
  let error: string | null = null;
  let prev = previous;
  const result = (drained: boolean, more: Partial<DrainResult> = {}): DrainResult => ({
    end,
    atLoadEnd,
    drained,
    drainMs: Math.min(performance.now() - began, timeoutMs),
    error,
    restarted: false,
    stopped: signal?.aborted ?? false,
    ...more,
  });
  if (restarted(start, previous)) return result(false, { end: previous, restarted: true });
  for (;;) {
    try {
      const snap = await readSink(url, agent, signal);
      if (restarted(prev, snap)) return result(false, { end: snap, restarted: true, error: null });
      prev = end = snap;
      atLoadEnd ??= snap;
      error = null;
      if (snap.counters.messages - start.counters.messages >= accepted) return result(true, { drainMs: performance.now() - began });
    } catch (err) {
      // A reading cut short by the stop says nothing about the sink: the reading before it stands.
      if (!signal?.aborted) error = (err as Error).message;
    }
    if (signal?.aborted || performance.now() + DRAIN_POLL_MS > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    if (signal?.aborted) break;
  }
  return result(false);
}

/**
 * The `delivery` section and the run's delivery histogram from a drain. Figures are stated only
 * as far as they are known: after a restart delivered, queued and drained are null; when the last
 * reading failed, delivered is "at least" the last good reading's (the drain's, else `duringLoad`,
 * the last one taken during the load) and queued and drained are null.
 * @param duringLoad the last good reading taken during the load, or null
 * @param windowMs the first sink reading to the drain's end, ms
 * @param zeroMs the client's wall clock at the run timeline's 0, epoch ms: with it the report lists
 *   the sink's run-time changes (`changes`)
 */
export function deliveryReport(
  sink: URL,
  start: SinkSnapshot,
  drain: DrainResult,
  accepted: number,
  timeoutMs: number,
  windowMs: number,
  duringLoad: SinkSnapshot | null = null,
  zeroMs: number | null = null,
): { report: DeliveryReport; delivery: Histogram | null } {
  const failed = drain.error !== null || drain.end === null;
  const last = drain.end ?? duringLoad;
  const delta = last ? sinkDelta(start, last) : null;
  const known = !drain.restarted && delta !== null && typeof delta !== 'string';
  const delivered = known ? delta.delivered : null;
  const atLeast = known && failed;
  const reached = delivered !== null && delivered >= accepted;
  const error = drain.restarted || typeof delta === 'string' ? RESTARTED : failed ? (drain.error ?? (drain.stopped ? 'the drain was stopped before a reading' : 'no reading after the load')) : null;
  const atEnd = drain.atLoadEnd && !drain.restarted ? Math.max(0, drain.atLoadEnd.counters.messages - start.counters.messages) : null;
  const best = [start, drain.atLoadEnd, drain.end, duringLoad].filter((s) => s !== null).sort((a, b) => a.rttMs - b.rttMs)[0];
  const r3 = (x: number): number => Number(x.toFixed(3));
  return {
    report: {
      sink: sinkName(sink),
      accepted,
      delivered,
      deliveredAtLeast: atLeast,
      deliveredAtLoadEnd: atEnd,
      // Never claim a message is queued when the sink could not be read: that is unknown.
      queued: delivered === null || atLeast ? null : Math.max(0, accepted - delivered),
      drained: delivered === null ? null : atLeast ? (reached ? true : null) : drain.drained,
      drainStopped: drain.stopped,
      drainS: r3(drain.drainMs / 1000),
      drainTimeoutS: r3(timeoutMs / 1000),
      ratePerS: delivered === null ? null : windowMs > 0 ? Number(((delivered * 1000) / windowMs).toFixed(1)) : 0,
      windowS: r3(windowMs / 1000),
      clockOffsetMs: r3(best.offsetMs),
      clockUncertaintyMs: r3(best.rttMs / 2),
      error,
      ...(zeroMs !== null && last ? { changes: sinkChanges(start, last, zeroMs, best.offsetMs) } : {}),
    },
    delivery: known ? delta.delivery : null,
  };
}
