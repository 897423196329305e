/**
 * A `ClientSession` over the in-memory canned server (`SessionConfig.connect`), as
 * bench/session.bench.ts runs it: the session must complete, pipeline, and record its latencies
 * there, or the benchmark would time something else.
 */
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../src/client/session.js';
import type { SessionConfig } from '../src/client/config.js';
import { buildWirePlan } from '../src/client/message.js';
import { QuotaSource } from '../src/load/closed.js';
import { Recorder } from '../src/metrics/recorder.js';
import { cannedConnect, type CannedSocket } from './helpers/canned-socket.js';

describe('ClientSession over the canned in-memory server', () => {
  it('sends every message with its group pipelined behind the previous body, and records latencies', async () => {
    const recorder = new Recorder();
    const sockets: CannedSocket[] = [];
    const cfg: SessionConfig = {
      host: 'mx.example.test',
      port: 25,
      plan: buildWirePlan({ from: 'sender@example.test', to: 'r{n}@example.test', recipients: 2, sizeBytes: 1024, helo: 'client.example' }),
      pipelining: 'auto',
      messagesPerConnection: 3,
      timeouts: { connectMs: 2000, greetingMs: 2000, replyMs: 2000, bodyMs: 2000 },
      recorder,
      connect: cannedConnect((s) => sockets.push(s)),
    };
    await new Promise<void>((done) => new ClientSession(cfg, new QuotaSource(3, cfg, done)).start());

    expect(recorder.errors).toEqual({});
    expect(recorder.counters).toMatchObject({ connections: 1, messagesAccepted: 3, recipientsAccepted: 6, transactions: 3 });
    expect(recorder.replies).toMatchObject({ greeting: { 220: 1 }, ehlo: { 250: 1 }, mail: { 250: 3 }, rcpt: { 250: 6 }, data: { 354: 3 }, body: { 250: 3 }, quit: { 221: 1 } });
    for (const [phase, n] of [
      ['mail', 3],
      ['rcpt', 6],
      ['data', 3],
      ['body', 3],
      ['transaction', 3],
      ['session', 1],
    ] as const)
      expect(recorder.count(phase)).toBe(n);
    expect(sockets).toHaveLength(1);
    const s = sockets[0];
    expect(s.messages).toBe(3);
    // EHLO, 3 × (MAIL, 2 RCPT, DATA), QUIT.
    expect(s.commands).toBe(14);
    // Writes: EHLO; the first group; body 1 + group 2; body 2 + group 3; body 3; QUIT (RFC 2920 §3.1).
    expect(s.batches).toBe(6);
    expect(s.destroyed).toBe(true);
  });

  it.each(['auto', 'off'] as const)('pipelining %s: writes no further group or body while write() returns false, until the socket drains (DESIGN §4)', async (pipelining) => {
    const recorder = new Recorder();
    const sockets: CannedSocket[] = [];
    /** Commands written after a write returned false and before 'drain': none may start a group or a body. */
    const early: string[] = [];
    let drains = 0;
    const watch = (s: CannedSocket): void => {
      sockets.push(s);
      let blocked = false;
      const write = s.write.bind(s) as (chunk: Buffer, cb?: () => void) => boolean;
      s.write = ((chunk: Buffer, cb?: () => void): boolean => {
        const head = chunk.subarray(0, 4).toString('latin1');
        if (blocked && /^(MAIL|RSET|RCPT|DATA|BDAT|QUIT|EHLO|NOOP)$/.test(head)) early.push(head);
        const ok = write(chunk, cb);
        if (!ok) blocked = true;
        return ok;
      }) as typeof s.write;
      // Registered before the session's own listener (the socket is handed out first): cleared before it writes again.
      s.on('drain', () => {
        blocked = false;
        drains++;
      });
    };
    const cfg: SessionConfig = {
      host: 'mx.example.test',
      port: 25,
      // 2 KiB bodies against a 512-octet high-water mark: every body blocks the socket.
      plan: buildWirePlan({ from: 'sender@example.test', to: 'r{n}@example.test', recipients: 2, sizeBytes: 2048, helo: 'client.example' }),
      pipelining,
      messagesPerConnection: 4,
      timeouts: { connectMs: 2000, greetingMs: 2000, replyMs: 2000, bodyMs: 2000 },
      recorder,
      connect: cannedConnect(watch, { highWaterMark: 512, slowWrites: true }),
    };
    await new Promise<void>((done) => new ClientSession(cfg, new QuotaSource(4, cfg, done)).start());

    expect(early).toEqual([]);
    expect(drains).toBeGreaterThanOrEqual(4);
    expect(recorder.errors).toEqual({});
    expect(recorder.counters).toMatchObject({ connections: 1, messagesAccepted: 4, recipientsAccepted: 8, transactions: 4 });
    expect(sockets[0].messages).toBe(4);
    // EHLO, 4 × (MAIL, 2 RCPT, DATA), QUIT: nothing lost or repeated while waiting for 'drain'.
    expect(sockets[0].commands).toBe(18);
  });
});
