/**
 * The reference server's live statistics for `smtpbench serve`: a JSON document, the Prometheus
 * text exposition format (version 0.0.4), a one-line per-second summary, and a small `node:http`
 * server that serves the first two (`GET /stats`, `GET /metrics`) and the session records
 * (`GET /sessions`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sizeStatsOf, statsOf, type PhaseStats, type SizeStats } from '../metrics/histogram.js';
import type { Histogram } from '../metrics/histogram.js';
import type { ControlResult, ServerControl } from './control.js';
import type { DomainCount } from './domains.js';
import type { ServerChange, ServerCounters, ServerMetrics } from './stats.js';

/**
 * `GET /stats`: counters, the active-connection gauge, each histogram's summary in ms, and what a
 * client needs to merge exactly (`smtpbench run --sink`): every histogram encoded (HdrHistogram V2
 * compressed base64, µs; sizes in bytes) and the server's wall clock for a clock-offset estimate.
 */
export interface LiveStats {
  readonly uptimeS: number;
  /** The server's wall clock when the document was made, epoch milliseconds (fractional). */
  readonly wallClockMs: number;
  readonly activeConnections: number;
  readonly counters: ServerCounters;
  readonly histograms: Record<string, PhaseStats>;
  readonly sizes: Record<string, SizeStats>;
  /** The same histograms, encoded: `histograms` (µs) and `sizes` (bytes), by name; empty ones included. */
  readonly encoded: { readonly histograms: Record<string, string>; readonly sizes: Record<string, string> };
  /** RCPT outcomes per recipient domain (`countDomains`, on with any domain policy); `{}` otherwise. */
  readonly domains: Record<string, DomainCount>;
  /** Run-time changes of faults and domain policies, oldest first (epoch ms). */
  readonly changes: readonly ServerChange[];
}

/** A snapshot of `metrics` as `LiveStats`. */
export function liveStats(metrics: ServerMetrics, uptimeS: number): LiveStats {
  const histograms: Record<string, PhaseStats> = {};
  for (const [name, h] of metrics.histograms) if (h.totalCount > 0) histograms[name] = statsOf(h);
  const sizes: Record<string, SizeStats> = {};
  for (const [name, h] of metrics.sizes) if (h.totalCount > 0) sizes[name] = sizeStatsOf(h);
  // One snapshot: the counters and the encoded histograms describe the same instant.
  const snap = metrics.snapshot();
  const wallClockMs = performance.timeOrigin + performance.now();
  return {
    uptimeS,
    wallClockMs,
    activeConnections: metrics.activeConnections,
    counters: snap.counters,
    histograms,
    sizes,
    encoded: { histograms: snap.histograms, sizes: snap.sizes },
    domains: snap.domains,
    changes: snap.changes,
  };
}

const HELP: Record<keyof ServerCounters, string> = {
  connections: 'Connections accepted.',
  commands: 'Command lines processed.',
  messages: 'Messages accepted.',
  recipients: 'Recipients of accepted messages.',
  bytes: 'Message octets of accepted messages (DATA as received, terminator excluded; BDAT chunk octets).',
  messagesRejected: 'Messages refused at end of data (size, injected faults).',
  negativeReplies: 'Replies with a 4xx or 5xx code.',
  faults: 'Injected faults that fired (replaced replies, dropped connections).',
  delayedReplies: 'Replies held back by a delay, stall or tarpit fault.',
  refusedConnections: 'Connections refused with 421 over the connection limit.',
  timeouts: 'Connections closed with 421 by the idle or command-line timeout.',
  tlsUpgrades: 'STARTTLS upgrades begun.',
  discardedPlaintext: 'Plaintext octets pipelined after STARTTLS and dropped.',
  authFailures: 'AUTH exchanges that ended in 535.',
  badProxyHeaders: 'Connections closed for a missing or malformed PROXY header.',
  nulOctets: 'NUL octets in DATA content (passed through).',
  acceptDrains: 'Accept drains: other connections paused until the accept queue was empty.',
  drainedConnections: 'Connections accepted during an accept drain (they had waited in the accept queue).',
  policyDeferrals: 'Recipients deferred (4xx) by a domain policy draw.',
  policyBounces: 'Recipients bounced (5xx) by a domain policy draw.',
  rateLimited: 'Recipients refused over a domain policy rate limit.',
  forcedOutcomes: 'Forced outcomes by local part (tempfail@, permfail@, slow@, disconnect@).',
  refusedPerClient: 'Connections refused with 421 over the per-client-address limit.',
};

/** snake_case for metric names: `messagesRejected` → `messages_rejected`. */
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The Prometheus text format: every counter as `smtpbench_server_<name>_total`, the active
 * connections gauge, and each histogram as a summary in seconds (quantiles 0.5, 0.9, 0.99, 0.999,
 * `_sum` from the mean, `_count`), labelled `name="cmd.mail"`.
 */
export function prometheusText(metrics: ServerMetrics): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(metrics.counters) as [keyof ServerCounters, number][]) {
    const name = `smtpbench_server_${snake(key)}_total`;
    out.push(`# HELP ${name} ${HELP[key]}`, `# TYPE ${name} counter`, `${name} ${value}`);
  }
  out.push('# HELP smtpbench_server_active_connections Connections open now.', '# TYPE smtpbench_server_active_connections gauge');
  out.push(`smtpbench_server_active_connections ${metrics.activeConnections}`);
  const summary = 'smtpbench_server_duration_seconds';
  out.push(`# HELP ${summary} Server-side time per command (cmd.*), per DATA/BDAT stream (data-stream), and delivery time (delivery).`);
  out.push(`# TYPE ${summary} summary`);
  const quantiles = (metric: string, table: Map<string, Histogram>, scale: number) => {
    for (const [name, h] of table) {
      const label = `name="${name}"`;
      for (const q of [0.5, 0.9, 0.99, 0.999]) out.push(`${metric}{${label},quantile="${q}"} ${h.getValueAtPercentile(q * 100) / scale}`);
      out.push(`${metric}_sum{${label}} ${(h.mean * h.totalCount) / scale}`, `${metric}_count{${label}} ${h.totalCount}`);
    }
  };
  quantiles(summary, metrics.histograms, 1e6);
  out.push('# HELP smtpbench_server_size_bytes Size of each accepted message (message-bytes).', '# TYPE smtpbench_server_size_bytes summary');
  quantiles('smtpbench_server_size_bytes', metrics.sizes, 1);
  return `${out.join('\n')}\n`;
}

/**
 * One line of per-second progress: rates since `prev` (a counters snapshot taken `dtS` seconds
 * earlier) and totals.
 */
export function progressLine(metrics: ServerMetrics, prev: ServerCounters, dtS: number, uptimeS: number, changed: readonly ServerChange[] = []): string {
  const c = metrics.counters;
  const rate = (k: keyof ServerCounters) => ((c[k] - prev[k]) / dtS).toFixed(0);
  const mbs = ((c.bytes - prev.bytes) / dtS / 1e6).toFixed(2);
  return (
    `${uptimeS.toFixed(0)}s conns ${metrics.activeConnections} open/${c.connections} · msg/s ${rate('messages')} · rcpt/s ${rate('recipients')} · ` +
    `cmd/s ${rate('commands')} · MB/s ${mbs} · messages ${c.messages} · 4xx/5xx ${c.negativeReplies} · faults ${c.faults}` +
    (changed.length === 0 ? '' : ` · changed ${[...new Set(changed.map((ch) => ch.target))].join(', ')}`)
  );
}

/** Largest `PUT` body taken, octets (a fault list or a policy mapping is a few KB). */
const MAX_BODY = 1 << 20;

/** Reads a request body (at most `MAX_BODY` octets; null past it). */
function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (b: Buffer) => {
      n += b.length;
      if (n <= MAX_BODY) parts.push(b);
    });
    req.on('end', () => resolve(n > MAX_BODY ? null : Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * `/faults` and `/domains`: GET the running plan, PUT a new one (400 with one reason a line when
 * it is invalid: the running plan is kept), DELETE it.
 */
async function controlRoute(control: ServerControl, what: 'faults' | 'domains', req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  let r: ControlResult;
  if (req.method === 'GET') return json(200, what === 'faults' ? control.faults() : await control.domains());
  if (req.method === 'DELETE') r = what === 'faults' ? control.clearFaults() : await control.clearDomains();
  else if (req.method === 'PUT') {
    const body = await readBody(req);
    if (body === null) return void res.writeHead(413, { 'content-type': 'text/plain' }).end(`${what}: body over ${MAX_BODY} octets\n`);
    r = what === 'faults' ? control.setFaults(body) : await control.setDomains(body);
  } else return void res.writeHead(405, { allow: 'GET, PUT, DELETE', 'content-type': 'text/plain; charset=utf-8' }).end(`${req.method} is not allowed here: GET, PUT or DELETE\n`);
  if (r.ok) json(200, r.body);
  else res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`${r.reasons.join('\n')}\n`);
}

/**
 * Serves `GET /stats` (JSON), `GET /metrics` (Prometheus) and `GET /sessions` on `host:port` (0:
 * any free port); with `control`, also `GET`/`PUT`/`DELETE` `/faults` and `/domains`.
 * @returns the bound port and a `close()`
 * @throws the `listen` error as Node reports it
 */
export async function startStatsHttp(
  metrics: ServerMetrics,
  host: string,
  port: number,
  startedMs: number,
  sessions: () => unknown[] = () => [],
  control: ServerControl | null = null,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (control !== null && (path === '/faults' || path === '/domains')) {
      controlRoute(control, path.slice(1) as 'faults' | 'domains', req, res).catch(() => res.destroy());
    } else if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(prometheusText(metrics));
    } else if (path === '/sessions') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sessions()));
    } else if (path === '/stats' || path === '/') {
      const body = JSON.stringify(liveStats(metrics, (performance.now() - startedMs) / 1000));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /stats (JSON), /metrics (Prometheus) or /sessions (JSON); GET, PUT, DELETE /faults and /domains\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
