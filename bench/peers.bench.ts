/**
 * Side by side in one run: the reference server's `Connection` and Node's smtp-server library
 * (nodemailer's, a devDependency of the benchmarks only), fed the same pipelined input from memory
 * through an in-memory socket, so the figures are parser and dispatch cost, no kernel. One op feeds
 * the whole input and waits until every reply has been written. Multiply ops/s by the commands (or
 * octets) per op, as named in each group; the ratio of the two rows is the figure to quote.
 */
import { Duplex } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { bench, describe } from 'vitest';
import { FakeSocket } from '../test/helpers/fake-socket.js';
import { type ServerEngine, serverEngines } from './server-engines.js';

/** This tree's server, and another checkout's with `CONNECTION_BENCH_BASE=DIR` (issue 12's before/after). */
const engines = await serverEngines();

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** A greeted reference-server connection that counts the replies it writes (one write per reply). */
function ours(engine: ServerEngine): { feed(chunks: Buffer[]): void; replies(): number } {
  const ctx = engine.serverContext(engine.resolveProfile({ server: { tls: { starttls: false } } }).server, null);
  const sock = new FakeSocket();
  let n = 0;
  sock.write = () => (n++, true);
  new engine.Connection(sock.asSocket(), ctx);
  sock.feedDirect(Buffer.from('EHLO bench.example\r\n'));
  return { feed: (chunks) => chunks.forEach((c) => sock.feedDirect(c)), replies: () => n };
}

/** An in-memory socket for smtp-server: what is pushed is the client's input; each write is one reply. */
class MemorySocket extends Duplex {
  written = 0;
  private waiting: { until: number; done: () => void } | null = null;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 25;
  /** smtp-server writes only to a socket whose `readyState` is 'open' (as net.Socket says once connected). */
  readonly readyState = 'open';
  override _read(): void {}
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written++;
    if (this.waiting !== null && this.written >= this.waiting.until) {
      this.waiting.done();
      this.waiting = null;
    }
    cb();
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  override setTimeout(): this {
    return this;
  }
  /** Resolves once `n` replies in all have been written. */
  repliesReach(n: number): Promise<void> {
    return this.written >= n ? Promise.resolve() : new Promise((done) => (this.waiting = { until: n, done }));
  }
}

/** A greeted smtp-server connection (no AUTH, no STARTTLS, no reverse lookup; message content read and dropped). */
async function theirs(): Promise<MemorySocket> {
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    size: 0,
    onData(stream, _session, done) {
      stream.on('data', () => {});
      stream.on('end', () => done());
    },
  });
  const sock = new MemorySocket();
  server.connect(sock as never, {});
  await sock.repliesReach(1); // the greeting (smtp-server waits 100 ms for early talkers first)
  sock.push(Buffer.from('EHLO bench.example\r\n'));
  await sock.repliesReach(2);
  return sock;
}

/** Adds one op per engine: `chunks` in, `replies` replies out. */
function sideBySide(chunks: Buffer[], replies: number): void {
  for (const e of engines) {
    const a = ours(e);
    bench(`smtpbench Connection${e.label}`, () => {
      const before = a.replies();
      a.feed(chunks);
      if (a.replies() - before !== replies) throw new Error(`smtpbench: ${a.replies() - before} replies, expected ${replies}`);
    });
  }
  let b: MemorySocket | null = null;
  bench(
    'smtp-server library',
    async () => {
      const target = b!.written + replies;
      for (const c of chunks) b!.push(c);
      await b!.repliesReach(target);
    },
    { setup: async () => void (b ??= await theirs()) },
  );
}

const TXNS = 200;
const txn = 'MAIL FROM:<bench@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nRSET\r\n';
describe(`side by side: ${TXNS} pipelined transactions, ${TXNS * 5} commands (MAIL, RCPT, DATA, end of data, RSET), 64 KiB chunks`, () => {
  sideBySide(chunked(Buffer.from(txn.repeat(TXNS)), 65_536), TXNS * 5);
});

describe('side by side: fan-out, 1002 commands (MAIL, 1000 RCPT, RSET), 64 KiB chunks', () => {
  sideBySide(chunked(Buffer.from(`MAIL FROM:<bench@example.test>\r\n${'RCPT TO:<rcpt@example.test>\r\n'.repeat(1000)}RSET\r\n`), 65_536), 1002);
});

const line = `${'x'.repeat(76)}\r\n`;
const body = Buffer.from(`${line.repeat(Math.ceil(1_048_576 / 78))}.\r\n`);
describe(`side by side: DATA path, ${body.length} octets of 78-octet lines per message, 64 KiB chunks`, () => {
  const envelope = Buffer.from('MAIL FROM:<bench@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\nDATA\r\n');
  sideBySide([envelope, ...chunked(body, 65_536)], 4);
});
