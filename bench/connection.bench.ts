/**
 * The reference server's input path through `Connection` (framing, verb dispatch, replies,
 * DATA scan), fed from memory through an in-memory socket, so the figure is parser and dispatch
 * cost only (no kernel). Multiply ops/s by the commands (or octets) per op:
 * - command parser: 1000 pipelined transactions = 4000 commands (MAIL, RCPT, DATA, end of data) + RSET…
 * - DATA path: one 1 MiB body of 78-octet lines in 1 KiB .. 64 KiB chunks (issue target: ≥ 2 GB/s at 64 KiB),
 *   with the default text-line check (1000 octets) and without it.
 */
import { bench, describe } from 'vitest';
import { FakeSocket } from '../test/helpers/fake-socket.js';
import { type ServerEngine, serverEngines } from './server-engines.js';

/** This tree's server, and another checkout's with `CONNECTION_BENCH_BASE=DIR` (issue 12's before/after). */
const engines = await serverEngines();

/**
 * A greeted connection of `engine` whose socket forgets what it writes (so memory stays flat);
 * `maxTextLine: 0` turns the text-line check off (the default checks 1000 octets, RFC 5321 §4.5.3.1.6).
 */
function connection(engine: ServerEngine, maxTextLine?: number): FakeSocket {
  const settings = engine.resolveProfile({ server: { tls: { starttls: false }, ...(maxTextLine === undefined ? {} : { maxTextLine }) } }).server;
  const sock = new FakeSocket();
  sock.write = () => true;
  new engine.Connection(sock.asSocket(), engine.serverContext(settings, null));
  sock.feedDirect(Buffer.from('EHLO bench.example\r\n'));
  return sock;
}

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

const TXNS = 1000;
const txn = 'MAIL FROM:<bench@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n';
const commands = Buffer.from(txn.repeat(TXNS));
const commandChunks = chunked(commands, 65_536);
const fanout = Buffer.from(`MAIL FROM:<bench@example.test>\r\n${'RCPT TO:<rcpt@example.test>\r\n'.repeat(4000)}RSET\r\n`);
const fanoutChunks = chunked(fanout, 65_536);

describe(`command parser: ${TXNS} pipelined transactions (${TXNS * 4} commands incl. end of data), 64 KiB chunks`, () => {
  for (const e of engines) {
    const sock = connection(e);
    bench(`MAIL/RCPT/DATA/body transactions${e.label}`, () => {
      for (const c of commandChunks) sock.feedDirect(c);
    });
  }
});

describe('command parser: fan-out, 4002 commands (MAIL, 4000 RCPT, RSET), 64 KiB chunks', () => {
  for (const e of engines) {
    const sock = connection(e);
    bench(`MAIL + 4000 RCPT + RSET${e.label}`, () => {
      for (const c of fanoutChunks) sock.feedDirect(c);
    });
  }
});

const line = `${'x'.repeat(76)}\r\n`;
const body = Buffer.from(`${line.repeat(Math.ceil(1_048_576 / 78))}.\r\n`);
const envelope = Buffer.from('MAIL FROM:<bench@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\nDATA\r\n');

describe(`DATA path through Connection: ${body.length} octets per message`, () => {
  for (const size of [1024, 4096, 16_384, 65_536]) {
    const parts = chunked(body, size);
    for (const e of engines) {
      const sock = connection(e);
      bench(`${size / 1024} KiB chunks${e.label}`, () => {
        sock.feedDirect(envelope);
        for (const p of parts) sock.feedDirect(p);
      });
    }
  }
});

describe(`DATA path with maxTextLine: 0 (lines not measured): ${body.length} octets per message`, () => {
  for (const size of [4096, 65_536]) {
    const parts = chunked(body, size);
    for (const e of engines) {
      const sock = connection(e, 0);
      bench(`${size / 1024} KiB chunks${e.label}`, () => {
        sock.feedDirect(envelope);
        for (const p of parts) sock.feedDirect(p);
      });
    }
  }
});
