/**
 * Reference-server exchanges whose bytes src/protocol/ parses, driven through `Connection` on an
 * in-memory socket and split at every offset: the PROXY preface (src/protocol/proxy-header.ts) and
 * the AUTH exchanges (src/protocol/sasl.ts).
 */
import { describe, expect, it } from 'vitest';
import { FakeSocket } from './helpers/fake-socket.js';
import { resolveProfile } from '../src/profile/index.js';
import { proxyHeader } from '../src/protocol/proxy-header.js';
import { splits } from '../src/protocol/splits.testkit.js';
import { clientResponse } from '../src/protocol/sasl.js';
import { Connection, serverContext } from '../src/server/connection.js';

const SMTP = Buffer.from('EHLO x\r\nQUIT\r\n');

describe('PROXY preface through Connection', () => {
  it('greets after the header and answers the commands behind it, however the octets arrive', () => {
    const ctx = serverContext(resolveProfile({ server: { proxyProtocol: 'any', tls: { starttls: false }, sessionLog: 10 } }).server, null);
    const headers: [Buffer, object][] = [
      [proxyHeader('v1', '192.0.2.1', '127.0.0.1', 40000, 25), { sourceAddress: '192.0.2.1', sourcePort: 40000, destinationAddress: '127.0.0.1', destinationPort: 25 }],
      [proxyHeader('v2', '2001:db8::1', '::1', 65535, 0), { sourceAddress: '2001:db8:0:0:0:0:0:1', sourcePort: 65535, destinationAddress: '0:0:0:0:0:0:0:1', destinationPort: 0 }],
    ];
    for (const [header, addresses] of headers) {
      for (const parts of splits(Buffer.concat([header, SMTP]))) {
        const sock = new FakeSocket();
        new Connection(sock.asSocket(), ctx);
        for (const p of parts) sock.feed(p);
        expect(sock.codes()).toEqual([220, 250, 221]);
        expect(ctx.sessions.list()[0].proxied).toEqual(addresses);
      }
    }
  });

  it('closes without a word on a bad header, wherever it is cut', () => {
    const ctx = serverContext(resolveProfile({ server: { proxyProtocol: 'v2', tls: { starttls: false } } }).server, null);
    for (const parts of splits(Buffer.concat([proxyHeader('v1', '192.0.2.1', '127.0.0.1', 1, 25), SMTP]))) {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), ctx);
      for (const p of parts) sock.feed(p);
      expect(sock.codes()).toEqual([]);
      expect(sock.ended).toBe(true);
    }
  });
});

describe('AUTH exchanges through Connection', () => {
  const ctx = () => serverContext(resolveProfile({ server: { tls: { starttls: false }, auth: { users: { alice: 's3cr:et' } } } }).server, null);
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  const play = (transcript: string, expected: number[]) => {
    const c = ctx();
    for (const parts of splits(Buffer.from(transcript, 'latin1'))) {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), c);
      for (const p of parts) sock.feed(p);
      expect(sock.codes(), JSON.stringify(parts.map((p) => p.toString('latin1')))).toEqual(expected);
    }
  };

  it('PLAIN with an initial response, after an empty challenge, and with a wrong password', () => {
    play(`EHLO x\r\nAUTH PLAIN ${b64('\0alice\0s3cr:et')}\r\nQUIT\r\n`, [220, 250, 235, 221]);
    play(`EHLO x\r\nAUTH PLAIN\r\n${b64('\0alice\0s3cr:et')}\r\nQUIT\r\n`, [220, 250, 334, 235, 221]);
    play(`EHLO x\r\nAUTH PLAIN ${b64('\0alice\0s3cr:eT')}\r\nQUIT\r\n`, [220, 250, 535, 221]);
  });

  it('LOGIN in two steps, a cancel, and a response that is not strict base64', () => {
    play(`EHLO x\r\nAUTH LOGIN\r\n${b64('alice')}\r\n${b64('s3cr:et')}\r\nQUIT\r\n`, [220, 250, 334, 334, 235, 221]);
    play(`EHLO x\r\nauth login\r\n*\r\nQUIT\r\n`, [220, 250, 334, 501, 221]);
    play(`EHLO x\r\nAUTH LOGIN\r\nYWxpY2U\r\nQUIT\r\n`, [220, 250, 334, 501, 221]);
  });

  it('CRAM-MD5: the answer to the challenge it sent, however the answer arrives', () => {
    const c = ctx();
    const opening = Buffer.from('EHLO x\r\nAUTH CRAM-MD5\r\n');
    for (const parts of splits(opening)) {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), c);
      for (const p of parts) sock.feed(p);
      const written = Buffer.concat(sock.written).toString('latin1');
      const challenge = /\r\n334 (\S+)\r\n$/.exec(written)![1];
      const answer = Buffer.from(`${clientResponse('CRAM-MD5', 0, 'alice', 's3cr:et', Buffer.from(challenge))}\r\nQUIT\r\n`);
      // The answer split at one offset per opening split (all pairs would be quadratic).
      const cut = parts[0].length % answer.length;
      sock.feed(answer.subarray(0, cut));
      sock.feed(answer.subarray(cut));
      expect(sock.codes()).toEqual([220, 250, 334, 235, 221]);
    }
  });
});

describe('BDAT with a size but bad syntax (hostile review of the split)', () => {
  it('refuses it (501) and skips the octets it announced: they are never read as commands, however they arrive', () => {
    const ctx = serverContext(resolveProfile({ server: { tls: { starttls: false } } }).server, null);
    const transcript = 'EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 5 LAST extra\r\nabcdeNOOP\r\nMAIL FROM:<a@example.test>\r\nQUIT\r\n';
    for (const parts of splits(Buffer.from(transcript, 'latin1'))) {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), ctx);
      for (const p of parts) sock.feed(p);
      // 501 for the BDAT, which also fails the transaction; NOOP read after the 5 skipped octets; a new MAIL is taken.
      expect(sock.codes()).toEqual([220, 250, 250, 250, 501, 250, 250, 221]);
    }
  });

  it('reads a size with leading zeros as a size (RFC 3030 §2: 1*DIGIT), and skips the octets of `BDAT 6x` and `BDAT 6<TAB>LAST` (hostile review of issue 13)', () => {
    const ctx = serverContext(resolveProfile({ server: { tls: { starttls: false } } }).server, null);
    const run = (bdat: string): number[] => {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), ctx);
      sock.feed(Buffer.from(`EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n${bdat}\r\nRSET\r\nQUIT\r\n`, 'latin1'));
      return sock.codes();
    };
    // The chunk is "RSET\r\n": taken as message content, never as a command.
    expect(run('BDAT 0000000000000006 LAST')).toEqual([220, 250, 250, 250, 250, 221]);
    expect(run('BDAT 6 LAST ')).toEqual([220, 250, 250, 250, 250, 221]);
    expect(run('BDAT 6x')).toEqual([220, 250, 250, 250, 501, 221]);
    expect(run('BDAT 6\tLAST')).toEqual([220, 250, 250, 250, 501, 221]);
  });
});

describe('the DATA text-line limit counts lines ended by CRLF only (hostile review of the split)', () => {
  it('a bare LF does not end a line: 500 + LF + 600 octets + CRLF is one 1,103-octet line, over 1,000', () => {
    const ctx = serverContext(resolveProfile({ server: { tls: { starttls: false } } }).server, null);
    const body = `${'y'.repeat(500)}\n${'y'.repeat(600)}\r\n`;
    const ok = `${'y'.repeat(500)}\r\n${'y'.repeat(600)}\r\n`;
    const run = (text: string): number[] => {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), ctx);
      sock.feed(Buffer.from(`EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${text}.\r\nQUIT\r\n`, 'latin1'));
      return sock.codes();
    };
    expect(run(body)).toEqual([220, 250, 250, 250, 354, 554, 221]);
    expect(run(ok)).toEqual([220, 250, 250, 250, 354, 250, 221]);
  });
});
