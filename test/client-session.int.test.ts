/**
 * Client sessions against scripted servers on 127.0.0.1: EHLO→HELO fallback, lock-step without
 * PIPELINING, mixed statuses, garbage replies, resets mid-DATA, silence. Every event is counted
 * and the session ends by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Recorder } from '../src/metrics/recorder.js';
import { resolveProfile } from '../src/profile/index.js';
import { startReferenceServer } from '../src/server/server.js';
import { runSession } from './helpers/run-session.js';
import { scriptedServer, type ScriptConn, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Runs one session of `messages` messages against `script`; resolves with its recorder. */
async function session(script: (c: ScriptConn) => Promise<void>, opts: { messages?: number; recipients?: number; perConnection?: number; replyMs?: number } = {}): Promise<Recorder> {
  server = await scriptedServer(script);
  return runSession({ port: server.port, messages: opts.messages, spec: { recipients: opts.recipients ?? 1 }, cfg: { messagesPerConnection: opts.perConnection ?? 10 }, timeoutMs: opts.replyMs });
}

/** A server speaking just enough SMTP: `ehlo` is its EHLO reply text. */
function simple(ehlo: string, onCommand?: (line: string, c: ScriptConn) => boolean, greet = true) {
  return async (c: ScriptConn): Promise<void> => {
    if (greet) c.write('220 mx.example.test ESMTP\r\n');
    for (;;) {
      const l = await c.line();
      if (l === null) return;
      if (onCommand?.(l, c)) continue;
      const verb = l.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') c.write(ehlo);
      else if (verb === 'HELO') c.write('250 mx.example.test\r\n');
      else if (verb === 'DATA') {
        c.write('354 go\r\n');
        await c.data();
        c.write('250 queued\r\n');
      } else if (verb === 'QUIT') {
        c.write('221 bye\r\n');
        c.socket.end();
        return;
      } else c.write('250 ok\r\n');
    }
  };
}

const EHLO_PIPELINING = '250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n';

describe('ClientSession', () => {
  it('falls back to HELO when EHLO gets 502, then goes in lock-step', async () => {
    let sawHelo = false;
    const rec = await session(
      simple('502 5.5.1 no EHLO here\r\n', (l) => {
        if (l.startsWith('HELO')) sawHelo = true;
        return false;
      }),
      { messages: 2, recipients: 2 },
    );
    expect(sawHelo).toBe(true);
    expect(rec.replies.ehlo).toEqual({ 502: 1 });
    expect(rec.replies.helo).toEqual({ 250: 1 });
    expect(rec.counters).toMatchObject({ messagesAccepted: 2, recipientsAccepted: 4 });
  });

  it('sends MAIL, every RCPT and DATA in one write when PIPELINING is offered', async () => {
    let firstEnvelopePacket = '';
    const rec = await session(
      async (c) => {
        c.socket.once('data', () => {}); // greeting phase
        let envelopeSeen = false;
        c.socket.on('data', (d: Buffer) => {
          const s = d.toString('latin1');
          if (!envelopeSeen && s.startsWith('MAIL')) {
            envelopeSeen = true;
            firstEnvelopePacket = s;
          }
        });
        await simple(EHLO_PIPELINING)(c);
      },
      { recipients: 3 },
    );
    expect(firstEnvelopePacket).toBe('MAIL FROM:<sender@example.test>\r\nRCPT TO:<r1@example.test>\r\nRCPT TO:<r2@example.test>\r\nRCPT TO:<r3@example.test>\r\nDATA\r\n');
    expect(rec.counters).toMatchObject({ messagesAccepted: 1, recipientsAccepted: 3 });
  });

  it('does not pipeline when the server does not offer PIPELINING', async () => {
    let packets = 0;
    await session(
      async (c) => {
        c.socket.on('data', (d: Buffer) => {
          if (/^(MAIL|RCPT|DATA)/.test(d.toString('latin1'))) packets++;
        });
        await simple('250-mx.example.test\r\n250 8BITMIME\r\n')(c);
      },
      { recipients: 3 },
    );
    expect(packets).toBe(5); // MAIL, RCPT ×3, DATA each on its own
  });

  it('pairs every reply of a pipelined group with its own recipient', async () => {
    const rec = await session(
      simple(EHLO_PIPELINING, (l, c) => {
        if (l === 'RCPT TO:<r2@example.test>') {
          c.write('550 5.1.1 no such user\r\n');
          return true;
        }
        return false;
      }),
      { recipients: 3 },
    );
    expect(rec.replies.rcpt).toEqual({ 250: 2, 550: 1 });
    expect(rec.counters).toMatchObject({ messagesAccepted: 1, recipientsAccepted: 2, recipientsRejected: 1 });
  });

  it('counts a rejected MAIL, resets, and goes on with the next message', async () => {
    let mails = 0;
    const rec = await session(
      simple(EHLO_PIPELINING, (l, c) => {
        if (l.startsWith('MAIL') && mails++ === 0) {
          c.write('451 4.3.0 try later\r\n');
          return true;
        }
        if (l.startsWith('RCPT') && mails === 1) {
          c.write('503 5.5.1 need MAIL\r\n');
          return true;
        }
        if (l === 'DATA' && mails === 1) {
          c.write('503 5.5.1 no valid recipients\r\n');
          return true;
        }
        return false;
      }),
      { messages: 2 },
    );
    expect(rec.replies.mail).toEqual({ 250: 1, 451: 1 });
    // MAIL failed, so no transaction is open on the server: no RSET is needed (RFC 5321 §4.1.1.5).
    expect(rec.replies.rset).toBeUndefined();
    expect(rec.counters).toMatchObject({ messagesAttempted: 2, messagesAccepted: 1, messagesRejected: 1 });
  });

  it('counts a garbage reply as bad-reply and reconnects for the remaining messages', async () => {
    let connections = 0;
    const rec = await session(
      async (c) => {
        if (connections++ === 0) {
          c.write('220 hi\r\n');
          await c.line();
          c.write('HTTP/1.1 400 Bad Request\r\n');
          return;
        }
        await simple(EHLO_PIPELINING)(c);
      },
      { messages: 2 },
    );
    expect(rec.errors['bad-reply']).toBe(1);
    expect(rec.counters).toMatchObject({ messagesAccepted: 2, connections: 2 });
  });

  it('counts a reset in the middle of DATA as a failed message', async () => {
    let connections = 0;
    const rec = await session(
      simple(EHLO_PIPELINING, (l, c) => {
        if (l === 'DATA' && connections++ === 0) {
          c.write('354 go\r\n');
          c.socket.resetAndDestroy();
          return true;
        }
        return false;
      }),
      { messages: 3 },
    );
    expect(rec.counters).toMatchObject({ messagesAttempted: 3, messagesFailed: 1, messagesAccepted: 2 });
    // The RST may overtake the 354 on loopback, so the failure is seen in the envelope or the body step.
    expect(Object.values(rec.errors)).toEqual([1]);
    expect(Object.keys(rec.errors)[0]).toMatch(/^(socket-reset|(mail|rcpt|data|body)-closed)$/);
    expect(rec.counters).toMatchObject({ recipientsFailed: 1, recipientsAccepted: 2 });
  });

  it('times out a silent server, counts it, and gives up after three failed connections', async () => {
    const rec = await session(async () => {}, { messages: 4, replyMs: 200 });
    expect(rec.errors['greeting-timeout']).toBe(3);
    expect(rec.counters).toMatchObject({ messagesAttempted: 0, messagesAbandoned: 4 });
  });

  it('gives up after three connections that close before the first transaction', async () => {
    const rec = await session(
      async (c) => {
        c.write('220 mx ESMTP\r\n');
        await c.line();
        c.socket.end();
      },
      { messages: 5 },
    );
    expect(rec.errors['ehlo-closed']).toBe(3);
    expect(rec.counters).toMatchObject({ connections: 3, messagesAttempted: 0, messagesAbandoned: 5 });
  });

  it('counts a 421 to MAIL as a failed message (the server gave up the session, not the message)', async () => {
    const rec = await session(
      simple(EHLO_PIPELINING, (l, c) => {
        if (l.startsWith('MAIL')) {
          c.write('421 4.3.2 shutting down\r\n');
          c.socket.end();
          return true;
        }
        return false;
      }),
      { messages: 1 },
    );
    expect(rec.replies.mail).toEqual({ 421: 1 });
    expect(rec.errors['mail-421']).toBe(1);
    expect(rec.counters).toMatchObject({ messagesAttempted: 1, messagesRejected: 0, messagesFailed: 1 });
  });

  it('parses a multi-line EHLO reply cut across TCP segments', async () => {
    const rec = await session(async (c) => {
      c.write('220 mx ESMTP\r\n');
      await c.line();
      c.write('250-mx.example.test\r\n250-PIPE');
      await new Promise((r) => setTimeout(r, 30));
      c.write('LINING\r\n250 8BIT');
      await new Promise((r) => setTimeout(r, 30));
      c.write('MIME\r\n');
      await simple(EHLO_PIPELINING, undefined, false)(c);
    });
    expect(rec.replies.ehlo).toEqual({ 250: 1 });
    expect(rec.errors).toEqual({});
    expect(rec.counters.messagesAccepted).toBe(1);
  });
});

describe('ClientSession: sessions that never get going', () => {
  it('a server that closes every connection at EHLO: counted, and the session gives up after three', async () => {
    const rec = await session(
      async (c) => {
        c.write('220 mx ESMTP\r\n');
        await c.line();
        c.socket.destroy();
      },
      { messages: 5 },
    );
    expect(rec.errors).toMatchObject({});
    expect(Object.values(rec.errors).reduce((a, b) => a + b, 0)).toBe(3);
    expect(Object.keys(rec.errors).every((k) => /^(ehlo-closed|socket-reset)$/.test(k))).toBe(true);
    expect(rec.counters).toMatchObject({ connections: 3, messagesAttempted: 0, messagesAbandoned: 5 });
  });

  it('a 421 greeting is counted once (greeting-refused), without a QUIT that would go unanswered', async () => {
    const ref = await startReferenceServer(resolveProfile({ server: { faults: ['connect: 421'] } }).server, '127.0.0.1', 0);
    try {
      const rec = await runSession({ port: ref.port, messages: 2, cfg: {} });
      expect(rec.errors).toEqual({ 'greeting-refused': 3 });
      expect(rec.replies.greeting).toEqual({ 421: 3 });
      expect(rec.replies.quit).toBeUndefined();
    } finally {
      await ref.close();
    }
  });
});
