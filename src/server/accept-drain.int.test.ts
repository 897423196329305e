/**
 * Hostile review F7: a server whose established connections keep its event loop busy still
 * accepts the connections waiting in its accept queue at once.
 *
 * libuv accepts one connection per loop turn, and each turn also reads every readable connection.
 * So the measure here is not time (a noisy CI cannot hold a tolerance) but work: how many
 * commands of the busy connections the server processed between the end of a synchronous block
 * (during which the kernel completed every new connection) and the moment the last one was
 * accepted. Without the accept drain that is about one command batch per busy connection per
 * accepted connection (tens of thousands here); with it, at most the turn that began the drain.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveProfile } from '../profile/index.js';
import { DRAIN_MIN_CONNECTIONS } from './accept-drain.js';
import { startReferenceServer, type ReferenceServer } from './server.js';

/** Established connections that pipeline NOOPs as fast as the server answers (over `DRAIN_MIN_CONNECTIONS`). */
const BUSY = 50;
/** NOOPs per batch a busy connection writes whenever it gets a reply. */
const BATCH = 10;
/** Connections that complete in the kernel while the server's loop is blocked. */
const NEW = 300;
const BLOCK_MS = 300;

const servers: ReferenceServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (one check per loop turn) until `done()`, for at most `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) throw new Error('timed out');
    await turn();
  }
}

describe('accepting under load (F7)', () => {
  it('accepts and greets queued connections before giving the busy ones another turn', async () => {
    const srv = await startReferenceServer(resolveProfile({}).server, '127.0.0.1', 0);
    servers.push(srv);
    const c = srv.metrics.counters;
    const noops = Buffer.from('NOOP\r\n'.repeat(BATCH));
    for (let i = 0; i < BUSY; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.setNoDelay(true);
      // Every reply (the greeting first) is answered with another batch: always something to read.
      s.on('data', () => s.write(noops));
      s.on('error', () => {});
      sockets.push(s);
    }
    await until(() => c.connections >= BUSY && c.commands >= BUSY * BATCH * 5, 20_000);

    let greeted = 0;
    for (let i = 0; i < NEW; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.once('data', () => greeted++);
      s.on('error', () => {});
      sockets.push(s);
    }
    // The connects are issued on the next tick; then the loop stays blocked while the kernel
    // completes the handshakes into the accept queue and the busy clients' input piles up.
    await new Promise((resolve) => process.nextTick(resolve));
    const stop = performance.now() + BLOCK_MS;
    while (performance.now() < stop);
    const before = c.commands;
    let atLastAccept = -1;
    await until(() => {
      if (atLastAccept < 0 && c.connections >= BUSY + NEW) atLastAccept = c.commands;
      return atLastAccept >= 0;
    }, 30_000);
    const busyWork = atLastAccept - before;
    // At most the first turn's reads (one batch per busy connection) happen before the drain.
    expect(busyWork).toBeLessThanOrEqual(BUSY * BATCH);
    expect(c.acceptDrains).toBeGreaterThan(0);
    expect(c.drainedConnections).toBeGreaterThanOrEqual(NEW - 1);
    // Every queued connection got its greeting (the busy ones go on once the drain is over).
    await until(() => greeted === NEW, 20_000);
    const resumed = c.commands;
    await until(() => c.commands > resumed + BUSY * BATCH, 20_000);
  });

  it(`does not drain with fewer than ${DRAIN_MIN_CONNECTIONS} connections: a churn of short ones is left alone`, async () => {
    expect(BUSY).toBeGreaterThan(DRAIN_MIN_CONNECTIONS);
    const srv = await startReferenceServer(resolveProfile({}).server, '127.0.0.1', 0);
    servers.push(srv);
    const c = srv.metrics.counters;
    let done = 0;
    for (let i = 0; i < 200; i++) {
      // One connection after another, each greeted and quit: at most a few open at once.
      await new Promise<void>((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1');
        s.once('data', () => s.end('QUIT\r\n'));
        s.on('close', () => (done++, resolve()));
        s.on('error', () => {});
      });
    }
    expect(done).toBe(200);
    expect(c.acceptDrains).toBe(0);
  });
});
