/**
 * An in-memory stand-in for a server-side `net.Socket`, for property tests that run thousands of
 * transcripts through one `Connection` synchronously. It records what the server writes and
 * whether it paused or ended; everything socket-level (TLS, timers) is out of its scope, so use
 * it only with STARTTLS off and no faults.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

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
  /** Feeds one chunk as the client's bytes. */
  feed(chunk: Buffer): void {
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
