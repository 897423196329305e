/**
 * STARTTLS and implicit TLS (verification on by default, a test CA, --insecure, resumption),
 * AUTH PLAIN/LOGIN/CRAM-MD5, BDAT (pipelined and lock-step, not stuffed), and LMTP's one reply
 * per recipient, each against a scripted server on 127.0.0.1 port 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TlsClientConfig } from '../src/client/config.js';
import { testCert } from './helpers/cert.js';
import { mini, newLog, type MiniLog, type MiniOptions } from './helpers/mini-smtp.js';
import { runSession, type RunOptions } from './helpers/run-session.js';
import { scriptedServer, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function run(opts: MiniOptions, run: Omit<RunOptions, 'port'>, implicitTls = false) {
  const log: MiniLog = newLog();
  server = await scriptedServer(mini(opts, log), implicitTls ? { implicitTls: testCert() } : {});
  const rec = await runSession({ port: server.port, ...run });
  return { rec, log };
}

const tlsCfg = (o: Partial<TlsClientConfig> = {}): TlsClientConfig => ({ implicit: false, starttls: 'on', verify: true, ca: testCert().cert, resume: false, ...o });
const STARTTLS = ['PIPELINING', 'STARTTLS'];
const count = (rec: Awaited<ReturnType<typeof runSession>>, phase: 'tls' | 'auth' | 'bdat' | 'body') => rec.count(phase);

describe('TLS', () => {
  it('STARTTLS with a trusted test CA: handshake timed, EHLO again, message sent encrypted', async () => {
    const { rec, log } = await run({ keywords: STARTTLS, cert: testCert() }, { messages: 2, cfg: { tls: tlsCfg() } });
    expect(log.tlsHandshakes).toBe(1);
    expect(log.commands.filter((c) => c.startsWith('EHLO'))).toHaveLength(2);
    expect(rec.counters).toMatchObject({ tlsHandshakes: 1, messagesAccepted: 2 });
    expect(count(rec, 'tls')).toBe(1);
    expect(rec.replies.starttls).toEqual({ 220: 1 });
    expect(rec.errors).toEqual({});
  });

  it('a certificate that does not verify is a tls-verify error, never a plaintext fallback', async () => {
    const { rec, log } = await run({ keywords: STARTTLS, cert: testCert() }, { messages: 2, cfg: { tls: tlsCfg({ ca: null, starttls: 'auto' }) } });
    expect(log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
    expect(rec.errors).toEqual({ 'tls-verify': 3 });
    expect(rec.counters).toMatchObject({ messagesAttempted: 0, messagesAbandoned: 2, tlsHandshakes: 0 });
  });

  it('--insecure (verify: false) accepts the untrusted certificate', async () => {
    const { rec } = await run({ keywords: STARTTLS, cert: testCert() }, { cfg: { tls: tlsCfg({ ca: null, verify: false }) } });
    expect(rec.counters).toMatchObject({ tlsHandshakes: 1, messagesAccepted: 1 });
  });

  it('starttls: on refuses a server that does not offer STARTTLS', async () => {
    const { rec, log } = await run({}, { cfg: { tls: tlsCfg() } });
    expect(rec.errors).toEqual({ 'starttls-unavailable': 3 });
    expect(log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
  });

  it('starttls: auto goes on in plaintext when STARTTLS is not offered', async () => {
    const { rec } = await run({}, { cfg: { tls: tlsCfg({ starttls: 'auto' }) } });
    expect(rec.counters).toMatchObject({ tlsHandshakes: 0, messagesAccepted: 1 });
  });

  it('implicit TLS (smtps://) with resumption on reconnect', async () => {
    const { rec, log } = await run({}, { messages: 3, cfg: { messagesPerConnection: 1, tls: tlsCfg({ implicit: true, starttls: 'off', resume: true }) } }, true);
    expect(log.connections).toBe(3);
    expect(rec.counters).toMatchObject({ tlsHandshakes: 3, messagesAccepted: 3 });
    expect(rec.counters.tlsResumed).toBeGreaterThanOrEqual(1);
    expect(count(rec, 'tls')).toBe(3);
  });
});

describe('AUTH', () => {
  const users = { alice: 'wonder:land' };
  const accounts = [{ user: 'alice', pass: 'wonder:land' }];
  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'] as const)('%s authenticates, is timed, then sends', async (mechanism) => {
    const { rec, log } = await run({ keywords: ['PIPELINING', 'AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2'], users }, { cfg: { auth: { mechanism, accounts } } });
    expect(log.authed).toEqual(['alice']);
    expect(rec.replies.auth).toEqual({ 235: 1 });
    expect(count(rec, 'auth')).toBe(1);
    expect(rec.counters.messagesAccepted).toBe(1);
  });

  it('auto prefers CRAM-MD5; a wrong password is auth-failed and nothing is sent', async () => {
    const { rec, log } = await run({ keywords: ['PIPELINING', 'AUTH LOGIN CRAM-MD5'], users }, { cfg: { auth: { mechanism: 'auto', accounts: [{ user: 'alice', pass: 'nope' }] } } });
    expect(log.commands.filter((c) => c.startsWith('AUTH'))).toEqual(['AUTH CRAM-MD5', 'AUTH CRAM-MD5', 'AUTH CRAM-MD5']);
    expect(rec.errors).toEqual({ 'auth-failed': 3 });
    expect(rec.replies.auth).toEqual({ 535: 3 });
    expect(log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
  });

  it('XOAUTH2 with a bad token: the 334 error details are answered, then 535 is auth-failed', async () => {
    const { rec } = await run({ keywords: ['PIPELINING', 'AUTH XOAUTH2'], users }, { cfg: { auth: { mechanism: 'XOAUTH2', accounts: [{ user: 'alice', pass: 'expired' }] } } });
    expect(rec.errors).toEqual({ 'auth-failed': 3 });
    expect(rec.replies.auth).toEqual({ 535: 3 });
  });

  it('after STARTTLS: AUTH goes over TLS', async () => {
    const { rec, log } = await run({ keywords: [...STARTTLS, 'AUTH PLAIN'], users, cert: testCert() }, { cfg: { tls: tlsCfg(), auth: { mechanism: 'PLAIN', accounts } } });
    expect(log.commands.map((c) => c.split(' ')[0])).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'QUIT']);
    expect(rec.counters.messagesAccepted).toBe(1);
  });
});

describe('BDAT', () => {
  it('pipelines MAIL, RCPT and every chunk in one group; chunks carry the message unstuffed', async () => {
    const content = Buffer.from('Subject: dots\r\n\r\n.leading dot\r\n.\r\nend\r\n');
    const { rec, log } = await run({ keywords: ['PIPELINING', 'CHUNKING'] }, { messages: 2, spec: { content }, cfg: { body: 'bdat', chunkBytes: 16 } });
    expect(log.transactions.map((t) => t.body)).toEqual([content.toString('latin1'), content.toString('latin1')]);
    const chunks = Math.ceil(content.length / 16);
    expect(log.commands.filter((c) => c.startsWith('BDAT'))).toHaveLength(2 * chunks);
    expect(log.commands.filter((c) => c.endsWith(' LAST'))).toHaveLength(2);
    expect(rec.replies.bdat).toEqual({ 250: 2 * chunks });
    expect(count(rec, 'bdat')).toBe(2 * chunks);
    expect(rec.counters).toMatchObject({ messagesAccepted: 2, bytes: 2 * content.length });
  });

  it('works in lock-step and as `auto` when CHUNKING is offered', async () => {
    const { rec, log } = await run({ keywords: ['CHUNKING'] }, { spec: { sizeBytes: 300 }, cfg: { body: 'auto', chunkBytes: 128 } });
    expect(log.commands.filter((c) => c.startsWith('BDAT'))).toEqual(['BDAT 128', 'BDAT 128', 'BDAT 44 LAST']);
    expect(log.transactions[0].body).toHaveLength(300);
    expect(rec.counters.messagesAccepted).toBe(1);
  });

  it('`bdat` refuses a server without CHUNKING; `auto` falls back to DATA', async () => {
    const refused = await run({}, { cfg: { body: 'bdat' } });
    // Reconnecting cannot give the server CHUNKING: refused once, then the messages are given up.
    expect(refused.rec.errors).toEqual({ 'chunking-unavailable': 1 });
    await server?.close();
    const auto = await run({}, { cfg: { body: 'auto' } });
    expect(auto.log.commands).toContain('DATA');
    expect(auto.rec.counters.messagesAccepted).toBe(1);
  });

  it('a failed chunk fails the transaction and the session resets', async () => {
    let first = true;
    const { rec, log } = await run(
      {
        keywords: ['CHUNKING'],
        hook: async (l, c) => {
          if (!l.startsWith('BDAT') || !first) return false;
          first = false;
          await c.bytes(Number(l.split(' ')[1]));
          c.write('452 4.3.1 insufficient storage\r\n');
          return true;
        },
      },
      { messages: 2, spec: { sizeBytes: 300 }, cfg: { body: 'bdat', chunkBytes: 128 } },
    );
    expect(rec.replies.bdat).toMatchObject({ 452: 1 });
    expect(log.commands).toContain('RSET');
    expect(rec.counters).toMatchObject({ messagesRejected: 1, messagesAccepted: 1 });
  });
});

describe('LMTP', () => {
  it('one end-of-data reply per accepted recipient, each timed and settled on its own', async () => {
    const rcpts = ['a@example.test', 'bad@example.test', 'c@example.test'];
    const { rec, log } = await run({ lmtp: true }, { spec: { recipientList: rcpts, recipients: 3, lmtp: true }, cfg: { lmtp: true } });
    expect(log.commands[0]).toBe('LHLO client.example');
    expect(rec.replies.body).toEqual({ 250: 2, 550: 1 });
    expect(count(rec, 'body')).toBe(3);
    expect(rec.counters).toMatchObject({ messagesAccepted: 1, recipientsAccepted: 2, recipientsRejected: 1, transactions: 1 });
  });

  it('a 354 after every recipient was refused is a broken LMTP server (bad-reply), not a wait for replies that never come', async () => {
    // RFC 2033 §4.2: DATA with no accepted recipient gets 503. This server says 354 and then nothing.
    const { rec } = await run(
      {
        lmtp: true,
        hook: (l, c) => {
          if (l.startsWith('RCPT')) c.write('550 5.1.1 no such user\r\n');
          else if (l === 'DATA') c.write('354 go ahead\r\n');
          else return false;
          return true;
        },
      },
      { messages: 1, spec: { lmtp: true }, cfg: { lmtp: true } },
    );
    expect(rec.errors).toMatchObject({ 'bad-reply': expect.any(Number) });
    expect(Object.keys(rec.errors).filter((k) => k.endsWith('-timeout'))).toEqual([]);
    expect(rec.counters.messagesAccepted).toBe(0);
  });
});
