/**
 * Fan-out and reply accounting against scripted servers on 127.0.0.1: the recipient cap, 452
 * continuation (RFC 5321 §4.5.3.1.10) pipelined and in lock-step, no endless retry when nothing
 * is accepted, per-recipient settlement, out-of-sequence replies, 421, SIZE (RFC 1870), and the
 * next envelope pipelined behind the message body (RFC 2920 §3.1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mini, newLog, type MiniLog, type MiniOptions } from './helpers/mini-smtp.js';
import { runSession, type RunOptions } from './helpers/run-session.js';
import { scriptedServer, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function run(opts: MiniOptions, run: Omit<RunOptions, 'port'>): Promise<{ rec: Awaited<ReturnType<typeof runSession>>; log: MiniLog }> {
  const log = newLog();
  server = await scriptedServer(mini(opts, log));
  const rec = await runSession({ port: server.port, ...run });
  return { rec, log };
}

const sizes = (log: MiniLog): number[] => log.transactions.map((t) => t.rcpts.length);

describe('fan-out', () => {
  it('continues after 452 in new transactions on the same connection and learns the limit (pipelined)', async () => {
    const { rec, log } = await run({ rcptLimit: 10 }, { spec: { recipients: 25 } });
    expect(sizes(log)).toEqual([10, 10, 5]);
    // Every recipient delivered exactly once, in order.
    expect(log.transactions.flatMap((t) => t.rcpts)).toEqual(Array.from({ length: 25 }, (_, i) => `r${i + 1}@example.test`));
    expect(log.connections).toBe(1);
    // 25 RCPT in the first group (15 × 452), then 10 and 5 under the learnt cap: no 452 after the first.
    expect(rec.replies.rcpt).toEqual({ 250: 25, 452: 15 });
    expect(rec.counters).toMatchObject({
      messagesAttempted: 1,
      messagesAccepted: 1,
      transactions: 3,
      recipientsAttempted: 25,
      recipientsAccepted: 25,
      recipientsRejected: 0,
      recipientsFailed: 0,
      recipientsDeferred: 15,
    });
    expect(rec.errors).toEqual({});
  });

  it('continues after 452 in lock-step (no PIPELINING)', async () => {
    const { rec, log } = await run({ keywords: ['8BITMIME'], rcptLimit: 3 }, { spec: { recipients: 7 } });
    expect(sizes(log)).toEqual([3, 3, 1]);
    expect(rec.replies.rcpt).toEqual({ 250: 7, 452: 4 });
    expect(rec.counters).toMatchObject({ messagesAccepted: 1, transactions: 3, recipientsAccepted: 7, recipientsDeferred: 4 });
  });

  it('splits recipients by maxRecipientsPerTransaction, several messages back to back', async () => {
    const { rec, log } = await run({}, { messages: 2, spec: { recipients: 10 }, cfg: { maxRecipientsPerTransaction: 4 } });
    expect(sizes(log)).toEqual([4, 4, 2, 4, 4, 2]);
    expect(rec.counters).toMatchObject({ messagesAccepted: 2, transactions: 6, recipientsAccepted: 20, recipientsDeferred: 0 });
    expect(rec.replies.rcpt).toEqual({ 250: 20 });
  });

  it('does not retry 452s of a transaction that accepted nobody: they are rejected, the run goes on', async () => {
    const { rec, log } = await run({ rcptLimit: 0 }, { messages: 2, spec: { recipients: 5 } });
    expect(log.transactions).toEqual([]);
    expect(rec.replies.rcpt).toEqual({ 452: 10 });
    expect(rec.replies.data).toEqual({ 554: 2 });
    expect(rec.counters).toMatchObject({ messagesRejected: 2, transactions: 2, recipientsRejected: 10, recipientsAccepted: 0, recipientsDeferred: 0 });
  });

  it('settles each recipient once when some are refused for good and some deferred', async () => {
    const { rec, log } = await run(
      {
        rcptLimit: 3,
        hook: (l, c) => {
          if (l === 'RCPT TO:<r2@example.test>') {
            c.write('550 5.1.1 no such user\r\n');
            return true;
          }
          return false;
        },
      },
      { spec: { recipients: 6 } },
    );
    // r2 refused; r1 r3 r4 accepted; r5 r6 deferred and sent again.
    expect(sizes(log)).toEqual([3, 2]);
    expect(rec.counters).toMatchObject({ recipientsAttempted: 6, recipientsAccepted: 5, recipientsRejected: 1, recipientsFailed: 0, recipientsDeferred: 2, messagesAccepted: 1 });
  });
});

describe('reply sequence', () => {
  it('counts a 354 to RCPT as bad-reply, never as acceptance, and goes on on a new connection', async () => {
    let first = true;
    const { rec, log } = await run(
      {
        hook: (l, c) => {
          if (l.startsWith('RCPT') && first) {
            first = false;
            c.write('354 go ahead\r\n');
            return true;
          }
          return false;
        },
      },
      { messages: 2, spec: { recipients: 2 } },
    );
    expect(rec.errors).toEqual({ 'bad-reply': 1 });
    expect(rec.replies.rcpt).toMatchObject({ 354: 1 });
    expect(log.connections).toBe(2);
    expect(rec.counters).toMatchObject({ messagesAttempted: 2, messagesFailed: 1, messagesAccepted: 1, recipientsFailed: 2, recipientsAccepted: 2 });
  });

  it('counts a 250 to DATA as bad-reply (the server did not wait for the message)', async () => {
    const { rec } = await run(
      {
        hook: (l, c) => {
          if (l === 'DATA') {
            c.write('250 ok\r\n');
            return true;
          }
          return false;
        },
      },
      { messages: 1 },
    );
    expect(rec.errors).toEqual({ 'bad-reply': 1 });
    expect(rec.counters).toMatchObject({ messagesFailed: 1, messagesAccepted: 0 });
  });

  it('counts a 421 to RCPT by phase, fails what was in flight, reconnects for the rest', async () => {
    let first = true;
    const { rec } = await run(
      {
        hook: (l, c) => {
          if (l.startsWith('RCPT') && first) {
            first = false;
            c.write('421 4.7.0 closing\r\n');
            c.socket.end();
            return true;
          }
          return false;
        },
      },
      { messages: 3 },
    );
    expect(rec.errors).toEqual({ 'rcpt-421': 1 });
    expect(rec.counters).toMatchObject({ messagesFailed: 1, messagesAccepted: 2, connections: 2 });
  });
});

describe('SIZE and pipelining behind the body', () => {
  it('does not send a message larger than the SIZE the server declares (size-exceeded)', async () => {
    const { rec, log } = await run({ keywords: ['PIPELINING', 'SIZE 200'] }, { messages: 3, spec: { sizeBytes: 300 } });
    expect(log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
    // No message can fit: the session is refused once and gives its messages up; none counts as attempted (hostile review F2).
    expect(rec.errors).toEqual({ 'size-exceeded': 1 });
    expect(rec.counters).toMatchObject({ messagesAttempted: 0, messagesRejected: 0, messagesAbandoned: 3, recipientsAttempted: 0, transactions: 0, connections: 1 });
    expect(log.commands).toEqual(['EHLO client.example', 'QUIT']);
  });

  it('declares SIZE= and sends a message within the limit', async () => {
    const { rec, log } = await run({ keywords: ['PIPELINING', 'SIZE 1000'] }, { spec: { sizeBytes: 300 } });
    expect(log.commands.find((c) => c.startsWith('MAIL'))).toBe('MAIL FROM:<sender@example.test> SIZE=300');
    expect(log.transactions[0].body.length + 2).toBe(300); // data() drops the final CRLF
    expect(rec.counters).toMatchObject({ messagesAccepted: 1, bytes: 300 });
  });

  it('writes the next envelope right behind the message body, before the end-of-data reply', async () => {
    const seenBeforeReply: boolean[] = [];
    const { rec } = await run(
      {
        hook: async (l, c) => {
          if (l !== 'DATA') return false;
          c.write('354 go ahead\r\n');
          await c.data();
          // Hold the end-of-data reply: has the next MAIL already arrived?
          await new Promise((r) => setTimeout(r, 50));
          seenBeforeReply.push(c.received().split('MAIL FROM:').length - 1 > seenBeforeReply.length + 1);
          c.write('250 queued\r\n');
          return true;
        },
      },
      { messages: 3, spec: { recipients: 2 } },
    );
    expect(seenBeforeReply).toEqual([true, true, false]);
    expect(rec.counters).toMatchObject({ messagesAccepted: 3, recipientsAccepted: 6, transactions: 3 });
    expect(rec.replies).toMatchObject({ mail: { 250: 3 }, rcpt: { 250: 6 }, data: { 354: 3 }, body: { 250: 3 } });
  });

  it('gives each message its own Message-ID and X-Smtpbench-Sent, body shared', async () => {
    const { log } = await run({}, { messages: 3, spec: { sizeBytes: 500 } });
    const ids = log.transactions.map((t) => /^Message-ID: <([^>]+)>\r\n/.exec(t.body)?.[1]);
    expect(new Set(ids).size).toBe(3);
    for (const t of log.transactions) {
      const sent = Number(/\r\nX-Smtpbench-Sent: (\d{16})\r\n/.exec(t.body)?.[1]);
      expect(Math.abs(sent - Date.now() * 1000)).toBeLessThan(60e6);
    }
    expect(new Set(log.transactions.map((t) => t.body.slice(t.body.indexOf('From:'))))).toHaveProperty('size', 1);
  });
});

describe('message generation', () => {
  it('draws size and recipients per message; SIZE=, octets and recipients match what each message carried', async () => {
    const { sampler } = await import('../src/client/distributions.js');
    const { Rng } = await import('../src/rng.js');
    const rng = new Rng(42);
    const sizes = sampler({ dist: 'uniform', min: 400, max: 3000 }, rng);
    const recipientCounts = sampler({ dist: 'uniform', min: 1, max: 5 }, rng, 1);
    const { rec, log } = await run({ keywords: ['PIPELINING', 'SIZE 100000'] }, { messages: 8, spec: { sizes, recipientCounts } });
    const declared = log.commands.filter((c) => c.startsWith('MAIL')).map((c) => Number(/SIZE=(\d+)/.exec(c)?.[1]));
    expect(log.transactions).toHaveLength(8);
    // data() drops the final CRLF of each message.
    expect(log.transactions.map((t) => t.body.length + 2)).toEqual(declared);
    expect(new Set(declared).size).toBeGreaterThan(4);
    expect(declared.every((s) => s >= 400 && s <= 3002)).toBe(true);
    const counts = log.transactions.map((t) => t.rcpts.length);
    expect(new Set(counts).size).toBeGreaterThan(1);
    expect(rec.counters).toMatchObject({ messagesAccepted: 8, recipientsAccepted: counts.reduce((a, b) => a + b), bytes: declared.reduce((a, b) => a + b) });
  });
});

describe('slow and silent servers', () => {
  it('a server silent after MAIL: rcpt-timeout, the message fails, the next connection goes on', async () => {
    // (A server that skips just one reply desynchronises the stream instead: the 354 then pairs
    // with a RCPT and counts as bad-reply, see 'reply sequence'.)
    let connection = 0;
    let dead = false;
    const { rec } = await run(
      {
        hook: (l) => {
          if (l.startsWith('EHLO')) {
            connection++;
            dead = false;
          }
          // The first connection answers MAIL, then nothing more, ever.
          if (connection === 1 && l.startsWith('RCPT')) dead = true;
          return dead;
        },
      },
      { messages: 2, spec: { recipients: 3 }, timeoutMs: 300 },
    );
    expect(rec.errors).toEqual({ 'rcpt-timeout': 1 });
    expect(rec.replies.mail).toEqual({ 250: 2 });
    expect(rec.counters).toMatchObject({ messagesFailed: 1, messagesAccepted: 1, recipientsFailed: 3, recipientsAccepted: 3, connections: 2 });
  });

  it('a slow server: every reply 40 ms late is measured per command, nothing times out', async () => {
    const { rec } = await run(
      {
        hook: async (l, c) => {
          if (!l.startsWith('RCPT')) return false;
          await new Promise((r) => setTimeout(r, 40));
          c.write('250 ok\r\n');
          return true;
        },
      },
      { messages: 2, spec: { recipients: 3 } },
    );
    rec.interval();
    const rcpt = rec.totals.get('rcpt')!;
    expect(rcpt.totalCount).toBe(6);
    // Pipelined: the k-th RCPT reply comes about 40·k ms after the batch was written.
    expect(rcpt.minNonZeroValue).toBeGreaterThanOrEqual(40_000);
    expect(rcpt.maxValue).toBeGreaterThanOrEqual(120_000);
    expect(rec.errors).toEqual({});
  });
});
