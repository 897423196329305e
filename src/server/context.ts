/**
 * What every connection of one reference server shares, built once per server: the settings, the
 * replies encoded as Buffers, the metrics and per-command histograms, the compiled faults, the
 * session log and the capture ring.
 */
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import type { FastHistogram } from '../metrics/histogram.js';
import type { ServerSettings } from '../profile/types.js';
import { FaultPlan } from './faults.js';
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
  readonly faults: FaultPlan;
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
}

/**
 * Builds the shared state of one server: replies encoded once, fresh metrics, the compiled
 * faults. `secureContext` is null when STARTTLS is not offered.
 */
export function serverContext(settings: ServerSettings, secureContext: tls.SecureContext | null): ServerContext {
  const metrics = new ServerMetrics();
  return {
    settings,
    replies: buildReplies(settings, secureContext !== null),
    metrics,
    commandHistograms: new CommandHistograms(metrics),
    faults: new FaultPlan(settings.faults),
    secureContext,
    authOffered: Object.keys(settings.auth.users).length > 0,
    refusedLocalParts: settings.refusedLocalParts.map((lp) => Buffer.from(lp.toLowerCase(), 'latin1')),
    sessions: new SessionLog(settings.sessionLog),
    captured: new Ring(settings.capture),
    clock: { nowMs: performance.now() },
    readBuffer: Buffer.allocUnsafe(READ_BUFFER_SIZE),
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
