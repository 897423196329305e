/**
 * An in-memory stand-in for a server-side `net.Socket`, for property tests that run thousands of
 * transcripts through one `Connection` synchronously. It records what the server writes and
 * whether it paused or ended; everything socket-level (TLS, timers) is out of its scope, so use
 * it only with STARTTLS off and no faults. A test kit: kept out of dist/ (tsconfig.build.json), and
 * beside the sources because unit tests under src/ may import only from src/ (tsconfig `rootDir`).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/** The read buffer every FakeSocket shares, as all plain connections of one server do. */
let shared = Buffer.alloc(64 * 1024);

export class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  ended = false;
  destroyed = false;
  paused = false;
  writableNeedDrain = false;
  setNoDelay(): this {
    return this;
  }
  write(b: Buffer): boolean {
    this.written.push(b);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(): this {
    this.ended = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
  /**
   * Feeds one chunk as the client's bytes, the way the real server reads them: copied into one
   * reused buffer, handed over as a view, and overwritten with garbage once the call returns, so a
   * `Connection` that kept a view of an input chunk sees corrupt octets later (src/server/read-into.ts).
   */
  feed(chunk: Buffer): void {
    if (shared.length < chunk.length) shared = Buffer.alloc(Math.max(chunk.length, 2 * shared.length));
    chunk.copy(shared);
    this.emit('data', shared.subarray(0, chunk.length));
    shared.fill(0xa5, 0, chunk.length);
  }
  /** Feeds one chunk as it is, with no copy and no scribbling: for benchmarks, which measure the server, not this helper. */
  feedDirect(chunk: Buffer): void {
    this.emit('data', chunk);
  }
  /** Reply codes written so far (first line of each reply line that ends one). */
  codes(): number[] {
    return Buffer.concat(this.written)
      .toString('latin1')
      .split('\r\n')
      .filter((l) => l.length >= 4 && l[3] === ' ')
      .map((l) => Number(l.slice(0, 3)));
  }
  asSocket(): Socket {
    return this as unknown as Socket;
  }
}
