/**
 * What every connection of one reference server shares, built once per server: the settings, the
 * replies encoded as Buffers, the metrics and per-command histograms, the compiled faults, the
 * session log and the capture ring.
 */
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import type { FastHistogram } from '../metrics/histogram.js';
import type { ServerSettings } from '../profile/types.js';
import { AcceptDrain } from './accept-drain.js';
import { DomainPlan } from './domains.js';
import { FaultPlan, type FaultIndex } from './faults.js';
import { READ_BUFFER_SIZE } from './read-into.js';
import { buildReplies, type Replies } from './replies.js';
import { Ring } from './ring.js';
import { SessionLog } from './sessions.js';
import { ServerMetrics } from './stats.js';

/** One accepted message as a capturing sink keeps it (`capture` > 0). */
export interface CapturedMessage {
  /** `SessionRecord.id` of the session that sent it. */
  readonly session: number;
  /** The content: headers and body, dot-unstuffed (DATA) or as chunked (BDAT). */
  readonly content: Buffer;
}

/** Everything a connection shares with the other connections of its server, built once. */
export interface ServerContext {
  readonly settings: ServerSettings;
  readonly replies: Replies;
  readonly metrics: ServerMetrics;
  readonly commandHistograms: CommandHistograms;
  /** The compiled faults; replaced whole at run time (`PUT /faults`), so read it at each use. */
  faults: FaultPlan;
  /** The compiled domain policies and the per-domain counting switch; replaced whole by `PUT /domains`. */
  domains: DomainPlan;
  /** Server start on the `performance.now()` clock (stall windows count from it). */
  readonly startMs: number;
  /** For STARTTLS; null when STARTTLS is not offered. */
  readonly secureContext: tls.SecureContext | null;
  /** AUTH is offered: at least one account is configured. */
  readonly authOffered: boolean;
  /** `settings.refusedLocalParts`, ASCII lower-cased, as Buffers: compared without decoding. */
  readonly refusedLocalParts: readonly Buffer[];
  readonly sessions: SessionLog;
  readonly captured: Ring<CapturedMessage>;
  /** A coarse clock (`performance.now()` ms), advanced by the server's sweeper: deadlines cost no clock read. */
  readonly clock: { nowMs: number };
  /** The buffer every plain TCP connection of this server reads into (one thread, one read at a time). */
  readonly readBuffer: Buffer;
  /** Pauses reading while the listeners drain their accept queue (src/server/accept-drain.ts). */
  readonly drain: AcceptDrain;
}

/**
 * Builds the shared state of one server: replies encoded once, fresh metrics, the compiled
 * faults. `secureContext` is null when STARTTLS is not offered.
 */
export function serverContext(settings: ServerSettings, secureContext: tls.SecureContext | null): ServerContext {
  const metrics = new ServerMetrics();
  const startMs = performance.now();
  return {
    settings,
    replies: buildReplies(settings, secureContext !== null),
    metrics,
    commandHistograms: new CommandHistograms(metrics),
    faults: new FaultPlan(settings.faults, startMs, settings.seed),
    domains: new DomainPlan(settings.domains, settings.countDomains, settings.seed),
    startMs,
    secureContext,
    authOffered: Object.keys(settings.auth.users).length > 0,
    refusedLocalParts: settings.refusedLocalParts.map((lp) => Buffer.from(lp.toLowerCase(), 'latin1')),
    sessions: new SessionLog(settings.sessionLog),
    captured: new Ring(settings.capture),
    clock: { nowMs: performance.now() },
    readBuffer: Buffer.allocUnsafe(READ_BUFFER_SIZE),
    drain: new AcceptDrain(metrics.counters),
  };
}

/** A command's processing-time histogram: its name (`cmd.<verb>`) and its slot in `CommandHistograms`. */
export interface HistogramSlot {
  readonly hist: string;
  readonly slot: number;
}

/**
 * The per-command recorders of one server, by `HistogramSlot.slot`, created on first use: the hot
 * path then records with one array load instead of a Map lookup by name.
 */
export class CommandHistograms {
  private readonly bySlot: (FastHistogram | undefined)[] = [];
  constructor(private readonly metrics: ServerMetrics) {}
  get(info: HistogramSlot): FastHistogram {
    return (this.bySlot[info.slot] ??= this.metrics.recorder(info.hist));
  }
}

/**
 * Where the command machine and the message stream send their decisions; the connection (the
 * socket shell) implements it, a test records it. Replies go out in the order given.
 */
export interface ReplySink {
  /** Queues a reply (a complete, CRLF-ended reply Buffer) to the command being answered. */
  reply(buf: Buffer): void;
  /** The command now being answered, by fault-table index: its reply delays are drawn from it. */
  answering(fc: FaultIndex): void;
  /** Holds the reply just queued `ms` longer (a domain policy's latency, `slow@`); later replies wait behind it. */
  delay(ms: number): void;
  /** After 354: what follows is message data up to `<CRLF>.<CRLF>` (RFC 5321 §4.1.1.4). */
  startData(): void;
  /** After a BDAT command: what follows is the chunk's octets (RFC 3030 §2). */
  startBdat(): void;
  /** After 220 to STARTTLS: the TLS handshake once the 220 is written (RFC 3207 §4). */
  startTls(): void;
  /** Close once the queued replies are written (QUIT, a 421, an injected disconnect). */
  close(): void;
}

/**
 * Draws the faults of command `fc`: a disconnect, or a reply that replaces the command's own
 * (closing after a 421). Returns the reply sent, `DROPPED` for a disconnect (the command must not
 * run in either case), or null when no fault fired.
 */
export function injectFault(ctx: ServerContext, fc: FaultIndex, sink: ReplySink): Buffer | typeof DROPPED | null {
  const f = ctx.faults;
  if (f.disconnectNow(fc)) {
    ctx.metrics.counters.faults++;
    sink.close();
    return DROPPED;
  }
  const o = f.override(fc);
  if (o === undefined) return null;
  ctx.metrics.counters.faults++;
  sink.reply(o.reply);
  if (o.close) sink.close();
  return o.reply;
}

/** `injectFault` closed the connection without a reply. */
export const DROPPED = 'dropped';
