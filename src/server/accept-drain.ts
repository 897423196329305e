/**
 * Accepting promptly while established connections keep the event loop busy (hostile review F7).
 *
 * Why this exists: libuv accepts ONE connection each time epoll reports a listening socket
 * readable, and relies on level-triggered polling to report it again (libuv v1.46.0, which Node 20
 * ships: src/unix/stream.c `uv__server_io`, lines 508-533, since commit 6c692ad "unix: don't
 * accept() connections in a loop", #3696, v1.45.0; the `UV_TCP_SINGLE_ACCEPT` switch went with it
 * on Unix, so setting it changes nothing). epoll hands out ready descriptors round-robin, at most
 * 1,024 per `epoll_wait` (src/unix/linux.c `uv__io_poll`, line 1260), and a reported
 * level-triggered descriptor goes to the back of the kernel's ready list. So a listening socket is
 * reported once per pass over every readable connection: with 5,000 sessions pipelining, one pass
 * is a few hundred milliseconds of SMTP work, the server accepts a handful of connections a second,
 * and thousands of connections the kernel has completed wait in the accept queue for seconds
 * (`ss -lnt` Recv-Q), which the client then measures as greeting latency.
 *
 * The remedy from JavaScript: when a connection is accepted, the other connections stop reading
 * (a `readStop`: libuv forgets the descriptor at once, epoll drops it the next time it reports it).
 * The next loop turns then poll little besides the listening socket, so each costs microseconds and
 * each accepts one more connection. The drain ends at the first turns without an accept (the queue
 * is empty) or after `DRAIN_MAX_MS`, and the connections read again. Turns are counted in the check
 * phase (`setImmediate`), which runs once per turn after the poll phase.
 *
 * Every connection is paused, not only the ones that read lately: a drain begins once per pass over
 * the ready connections, so "read since the last drain" would leave out the half of the pass that
 * comes after the listening socket (tried: the queue stayed at about 2,300). A pause is a
 * `readStop` (no system call); ending the drain costs a `readStart` and an `epoll_ctl` per
 * connection, a few milliseconds for 5,000, once per pass. Connections accepted during a drain
 * start paused after their greeting, so a drain turn costs one accept and one greeting. With no
 * backlog, a drain is one turn with nothing to accept.
 *
 * A drain costs a pause and a resume per connection, and established connections wait while it
 * runs, so one begins at most `DRAIN_GAP_MS` after the previous one ended: a steady churn of
 * connections beside thousands of busy ones pays at most a few per cent of the loop for drains, and
 * under a lasting accept backlog the established connections still get the loop between drains.
 * While a backlog lasts (a drain accepted something), the next drain starts on a timer after that
 * gap rather than at the next accept, which epoll reports only after a whole pass.
 */
import { performance } from 'node:perf_hooks';

/** What the drain needs of a connection (`Connection` implements it). */
export interface Yielding {
  /** True: stop reading until called with false. */
  yieldReading(on: boolean): void;
}

/**
 * Longest drain, ms: connections that are mid-transaction wait this long at most; what is still
 * queued waits for the next accept (at most one pass over the connections). Measured at 5,000
 * sessions on 2 vCPUs (about 7,000 accepts a second while draining): 100 ms left greeting p99 at
 * about 550 ms, 250 ms at about 270 ms, 500 ms at about 230 ms.
 */
export const DRAIN_MAX_MS = 250;

/** epoll_wait's batch in libuv (src/unix/linux.c `uv__io_poll`: `struct epoll_event events[1024]`). */
const EPOLL_BATCH = 1024;

/**
 * Fewest open connections for a drain. With a handful, a loop turn reads them all in a moment and
 * accepts one more, so a queue drains in a few short turns anyway; and a churn of short connections
 * (one message each, the shape of inbound mail: smtp-source's 20 sessions) arrives one per turn
 * with no queue at all, where a drain would only pause the others.
 */
export const DRAIN_MIN_CONNECTIONS = 32;

/** Least time between the end of one drain and the start of the next, ms (longer after a longer drain). */
export const DRAIN_GAP_MS = 100;

/** Counts of what the drains did (the server's `acceptDrains` and `drainedConnections` counters). */
export interface DrainCounters {
  acceptDrains: number;
  drainedConnections: number;
}

/** One per server, shared by its listeners. */
export class AcceptDrain {
  /** Every open connection. */
  private readonly connections = new Set<Yielding>();
  private readonly paused: Yielding[] = [];
  private draining = false;
  private startedMs = 0;
  /** Accepts since the last check-phase visit. */
  private acceptsThisTurn = 0;
  /** Consecutive turns without an accept. */
  private quietTurns = 0;
  /** Turns without an accept that end the drain: see `begin`. */
  private quietLimit = 1;
  private immediate: NodeJS.Immediate | null = null;
  /** When the last drain ended (`performance.now()`, ms). */
  private endedMs = -Infinity;
  /** Least time from the last drain's end to the next one's start: `DRAIN_GAP_MS`, or as long as that drain lasted. */
  private gapMs = DRAIN_GAP_MS;
  private stopped = false;
  /** Connections accepted during the current drain (after the one that began it). */
  private acceptedInDrain = 0;
  /** The next drain, due `DRAIN_GAP_MS` after one that found a backlog. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly counters: DrainCounters) {}

  /** True while a drain is under way: a connection created now starts without being paused. */
  get active(): boolean {
    return this.draining;
  }

  /**
   * A connection opened (after `accepted`). During a drain it starts paused too: its greeting goes
   * out at once, its first command waits for the drain's end, so a drain turn costs one accept.
   */
  add(c: Yielding): void {
    this.connections.add(c);
    if (!this.draining) return;
    c.yieldReading(true);
    this.paused.push(c);
  }

  /** A connection closed: forget it. */
  forget(c: Yielding): void {
    this.connections.delete(c);
  }

  /** A listener accepted a socket (call it before the socket's connection reads anything). */
  accepted(): void {
    this.acceptsThisTurn++;
    if (this.draining) {
      this.counters.drainedConnections++;
      this.acceptedInDrain++;
      return;
    }
    if (this.connections.size < DRAIN_MIN_CONNECTIONS || performance.now() - this.endedMs < this.gapMs) return;
    this.begin();
  }

  private begin(): void {
    this.draining = true;
    this.acceptedInDrain = 0;
    this.counters.acceptDrains++;
    this.startedMs = performance.now();
    for (const c of this.connections) {
      c.yieldReading(true);
      this.paused.push(c);
    }
    // A paused descriptor that still has input stays on epoll's ready list until libuv sees it
    // reported and removes it (EPOLL_CTL_DEL), up to 1,024 per turn; such a turn calls no callback,
    // so libuv ends its poll phase early and the listening socket may not be reached. Allow one
    // quiet turn per batch of paused descriptors, and one more, before concluding the queue is empty.
    this.quietLimit = Math.ceil(this.paused.length / EPOLL_BATCH) + 1;
    this.quietTurns = 0;
    this.immediate = setImmediate(this.check);
  }

  private readonly check = (): void => {
    this.immediate = null;
    if (this.acceptsThisTurn > 0) this.quietTurns = 0;
    else this.quietTurns++;
    this.acceptsThisTurn = 0;
    if (this.quietTurns < this.quietLimit && performance.now() - this.startedMs < DRAIN_MAX_MS) {
      this.immediate = setImmediate(this.check);
      return;
    }
    this.end();
  };

  private end(): void {
    this.draining = false;
    this.endedMs = performance.now();
    // Drains never take more than half the loop's time, whatever the rate of new connections
    // (a flood of connects would otherwise pause established sessions 250 ms in every 350 ms).
    this.gapMs = Math.max(DRAIN_GAP_MS, this.endedMs - this.startedMs);
    // A drain that found a backlog is likely to find one again: the next begins after the gap,
    // without waiting for epoll to report the listening socket after a whole pass over the busy
    // connections (hundreds of milliseconds at 5,000 sessions). One that found none schedules none.
    if (this.acceptedInDrain > 0 && this.timer === null && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.draining && this.connections.size >= DRAIN_MIN_CONNECTIONS) this.begin();
      }, this.gapMs);
      this.timer.unref();
    }
    for (const c of this.paused) c.yieldReading(false);
    this.paused.length = 0;
  }

  /** Ends a drain at once (the server is closing). */
  stop(): void {
    this.stopped = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
    if (this.draining) this.end();
  }
}
