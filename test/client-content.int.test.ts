/**
 * Message content against scripted servers: .eml replay (CRLF-normalised and stuffed once, the
 * file's own headers kept, X-Smtpbench-Sent added), 8-bit bodies with BODY=8BITMIME (RFC 6152),
 * non-ASCII addresses with SMTPUTF8 (RFC 6531), and refusal to send either where not offered.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadReplay } from '../src/client/message.js';
import { mini, newLog, type MiniOptions } from './helpers/mini-smtp.js';
import { runSession, type RunOptions } from './helpers/run-session.js';
import { scriptedServer, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function run(opts: MiniOptions, o: Omit<RunOptions, 'port'>) {
  const log = newLog();
  server = await scriptedServer(mini(opts, log));
  const rec = await runSession({ port: server.port, ...o });
  return { rec, log };
}

const dir = mkdtempSync(join(tmpdir(), 'smtpbench-eml-'));
// a.eml: bare LF line ends and lines starting with a dot; b.eml: 8-bit UTF-8 text.
writeFileSync(join(dir, 'a.eml'), 'Message-ID: <a@example.test>\nSubject: dots\n\n.leading\n.\nend\n');
writeFileSync(join(dir, 'b.eml'), 'Message-ID: <b@example.test>\r\nSubject: =?utf-8?q?x?=\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n');
writeFileSync(join(dir, 'notes.txt'), 'not a message');
const replay = loadReplay(dir);

describe('message content', () => {
  it('replays .eml files: line ends normalised, dots stuffed on the wire, own Message-ID kept, X-Smtpbench-Sent added', async () => {
    const { rec, log } = await run({ keywords: ['PIPELINING', '8BITMIME', 'SIZE 100000'] }, { messages: 2, spec: { replay } });
    const [a, b] = log.transactions.map((t) => t.body);
    // As received before unstuffing: the leading dots were doubled once, at load.
    expect(a).toMatch(/^X-Smtpbench-Sent: \d{16}\r\nMessage-ID: <a@example\.test>\r\nSubject: dots\r\n\r\n\.\.leading\r\n\.\.\r\nend$/);
    expect(Buffer.from(b, 'latin1').toString('utf8')).toMatch(/^X-Smtpbench-Sent: \d{16}\r\nMessage-ID: <b@example\.test>\r\n[\s\S]*Grüße$/);
    expect(log.transactions).toHaveLength(2);
    const mails = log.commands.filter((c) => c.startsWith('MAIL'));
    expect(mails[0]).not.toContain('BODY=8BITMIME');
    expect(mails[1]).toContain('BODY=8BITMIME');
    // SIZE= is the unstuffed size; bytes count what DATA carried (a: two stuffed dots more). data() drops the last CRLF.
    const wire = log.transactions.map((t) => Buffer.byteLength(t.body, 'latin1') + 2);
    expect(mails.map((m) => Number(/SIZE=(\d+)/.exec(m)![1]))).toEqual([wire[0] - 2, wire[1]]);
    expect(rec.counters.bytes).toBe(wire[0] + wire[1]);
  });

  it('does not send an 8-bit body to a server without 8BITMIME (8bitmime-unavailable)', async () => {
    const { rec, log } = await run({ keywords: ['PIPELINING'] }, { messages: 2, spec: { text: 'utf8' } });
    expect(log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
    expect(rec.errors).toEqual({ '8bitmime-unavailable': 1 });
    expect(rec.counters).toMatchObject({ messagesAttempted: 0, messagesRejected: 0, messagesAbandoned: 2 });
  });

  it('generates UTF-8 text, whole characters at every size, sent with BODY=8BITMIME', async () => {
    const { sampler } = await import('../src/client/distributions.js');
    const { Rng } = await import('../src/rng.js');
    const sizes = sampler({ dist: 'uniform', min: 300, max: 2000 }, new Rng(5));
    const { rec, log } = await run({}, { messages: 6, spec: { text: 'utf8', sizes } });
    for (const t of log.transactions) {
      const bytes = Buffer.from(t.body, 'latin1');
      expect(bytes.toString('utf8')).not.toContain('\uFFFD');
      expect(bytes.toString('utf8')).toContain('Grüße');
    }
    expect(log.commands.filter((c) => c.startsWith('MAIL')).every((c) => c.includes('BODY=8BITMIME'))).toBe(true);
    expect(rec.counters.messagesAccepted).toBe(6);
  });

  it('non-ASCII addresses go with SMTPUTF8, and never to a server without it', async () => {
    const spec = { from: 'sénder@example.test', to: 'empfänger{n}@example.test' };
    const ok = await run({ keywords: ['PIPELINING', 'SMTPUTF8', '8BITMIME'] }, { spec });
    expect(
      Buffer.from(
        ok.log.commands.find((c) => c.startsWith('MAIL'))!,
        'latin1',
      ).toString('utf8'),
    ).toBe('MAIL FROM:<sénder@example.test> SMTPUTF8');
    expect(
      Buffer.from(
        ok.log.commands.find((c) => c.startsWith('RCPT'))!,
        'latin1',
      ).toString('utf8'),
    ).toBe('RCPT TO:<empfänger1@example.test>');
    expect(ok.rec.counters.messagesAccepted).toBe(1);
    await server?.close();
    const refused = await run({}, { spec });
    expect(refused.rec.errors).toEqual({ 'smtputf8-unavailable': 1 });
    expect(refused.log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
  });
});

describe('attachments', () => {
  it.each(['data', 'bdat'] as const)('generated multipart messages carry the whole attachment at every drawn size (%s)', async (body) => {
    const { sampler } = await import('../src/client/distributions.js');
    const { Rng } = await import('../src/rng.js');
    const sizes = sampler({ dist: 'uniform', min: 1000, max: 9000 }, new Rng(9));
    const { rec, log } = await run({ keywords: ['PIPELINING', 'SIZE 100000', 'CHUNKING'] }, { messages: 5, spec: { sizes, attachmentBytes: 3000 }, cfg: { body, chunkBytes: 1000 } });
    const declared = log.commands.filter((c) => c.startsWith('MAIL')).map((c) => Number(/SIZE=(\d+)/.exec(c)![1]));
    expect(log.transactions).toHaveLength(5);
    log.transactions.forEach((t, i) => {
      const text = body === 'data' ? `${t.body}\r\n` : t.body;
      expect(Buffer.byteLength(text, 'latin1')).toBe(declared[i]);
      expect(text).toMatch(/Content-Type: multipart\/mixed; boundary="([^"]+)"\r\n\r\n--\1\r\nContent-Type: text\/plain/);
      expect(text.endsWith('--smtpbench-boundary-7d1f0c3a--\r\n')).toBe(true);
      const b64 = /Content-Disposition: attachment; filename="smtpbench.bin"\r\n\r\n([A-Za-z0-9+/=\r\n]+)\r\n--smtpbench/.exec(text)![1];
      expect(b64.split('\r\n').every((l) => l.length <= 76)).toBe(true);
      expect(Buffer.from(b64.replaceAll('\r\n', ''), 'base64')).toHaveLength(3000);
    });
    expect(new Set(declared).size).toBeGreaterThan(2);
    expect(rec.counters.messagesAccepted).toBe(5);
  });
});
