/**
 * Property tests of the reference server's parser (framing + commands + DATA/BDAT streams) with
 * fast-check: random and mutated transcripts, cut into chunks at random offsets. Properties: the
 * server never throws, its per-connection buffers stay bounded, and every accepted message is
 * counted exactly once, however the input is split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeSocket } from './fake-socket.testkit.js';
import { resolveProfile } from '../profile/index.js';
import { Connection, serverContext, type ServerContext } from './connection.js';

const settings = resolveProfile({
  server: { maxCommandLine: 600, maxMessageSize: 5000, maxRecipients: 5, maxErrors: 0, tls: { starttls: false }, auth: { users: { alice: 'secret' } } },
}).server;

const context = (): ServerContext => serverContext(settings, null);

/** Plays `chunks` into a fresh connection, checking the memory bound after every chunk. */
function play(chunks: Buffer[]) {
  const ctx = context();
  const sock = new FakeSocket();
  const conn = new Connection(sock.asSocket(), ctx) as unknown as { framer: { partialLen: number }; queue: { out: Buffer[]; stash: Buffer[] } };
  for (const c of chunks) {
    sock.feed(c);
    // Bounded: a partial line never exceeds the limit; replies never pile up; nothing is stashed without a hold.
    expect(conn.framer.partialLen).toBeLessThanOrEqual(settings.maxCommandLine);
    expect(conn.queue.out.length).toBe(0);
    expect(conn.queue.stash.length).toBe(0);
  }
  return { sock, counters: ctx.metrics.counters };
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, in range). */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of [...at, bytes.length]) {
    if (o > prev) out.push(bytes.subarray(prev, o));
    prev = o;
  }
  return out;
}

const TOKENS = [
  'EHLO x',
  'HELO x',
  'MAIL FROM:<a@example.test>',
  'MAIL FROM:<> SIZE=10 BODY=8BITMIME',
  'RCPT TO:<b@example.test>',
  'RCPT TO:<"q q"@x>',
  'DATA',
  'BDAT 3',
  'BDAT 0 LAST',
  'BDAT 4 LAST',
  'BDAT 99999999',
  'RSET',
  'NOOP',
  'VRFY a',
  'EXPN a',
  'HELP',
  'AUTH PLAIN',
  'AUTH LOGIN',
  'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
  '*',
  '=',
  'QUIT',
  'STARTTLS',
  'LHLO x',
  '.',
  '..',
  '\r\n',
  '\n',
  '\r',
  '\0',
  '\r\n.\r\n',
  '\n.\n',
  ' ',
  'x'.repeat(700),
  'Subject: y',
];

/** Noise: SMTP-ish tokens and raw octets, glued together. */
const noise = fc
  .array(
    fc.oneof(
      fc.constantFrom(...TOKENS),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('latin1')),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'latin1'));

/** A message body of lines (some starting with dots, some with bare LF/CR inside). */
const body = fc.array(
  fc.oneof(
    fc.constantFrom('.', '..', '.x', 'a\nb', 'c\rd', ''),
    fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  ),
  { maxLength: 20 },
);

/** One valid transaction, by DATA (dot-stuffed) or by BDAT chunks; `bytes` as the server counts them. */
const transaction = fc.tuple(body, fc.boolean(), fc.array(fc.nat(), { maxLength: 4 })).map(([lines, bdat, cuts]) => {
  const content = lines.map((l) => `${l}\r\n`).join('');
  const env = 'MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n';
  if (!bdat) {
    // RFC 5321 §4.5.2: a line starting with '.' gets one more.
    const stuffed = lines.map((l) => `${l.startsWith('.') ? '.' : ''}${l}\r\n`).join('');
    return { wire: `${env}DATA\r\n${stuffed}.\r\n`, bytes: Buffer.byteLength(stuffed, 'latin1') };
  }
  const pieces = cut(Buffer.from(content, 'latin1'), cuts).map((b) => b.toString('latin1'));
  const chunks = pieces.map((p) => `BDAT ${Buffer.byteLength(p, 'latin1')}\r\n${p}`).join('');
  return { wire: `${env}${chunks}BDAT 0 LAST\r\n`, bytes: Buffer.byteLength(content, 'latin1') };
});

describe('reference server parser under fast-check', () => {
  it('never throws and stays bounded on random transcripts cut anywhere', () => {
    fc.assert(
      fc.property(noise, fc.array(fc.nat(), { maxLength: 10 }), (bytes, offsets) => {
        play(cut(Buffer.concat([Buffer.from('EHLO x\r\n'), bytes]), offsets));
      }),
      { numRuns: 400 },
    );
  });

  it('counts every accepted message exactly once, however the session is cut', () => {
    fc.assert(
      fc.property(fc.array(transaction, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (txns, offsets) => {
        const wire = Buffer.from(`EHLO x\r\n${txns.map((t) => t.wire).join('')}QUIT\r\n`, 'latin1');
        const { sock, counters } = play(cut(wire, offsets));
        const accepted = txns.filter((t) => t.bytes <= settings.maxMessageSize);
        expect(counters.messages).toBe(accepted.length);
        expect(counters.bytes).toBe(accepted.reduce((n, t) => n + t.bytes, 0));
        expect(counters.messages + counters.messagesRejected).toBe(txns.length);
        expect(sock.codes().at(-1)).toBe(221);
        expect(sock.ended).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated valid sessions: no throw, bounded, and never more messages than transactions', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom('\r\n', '\n', '.', '\0', 'BDAT 2\r\n', 'DATA\r\n', '\r\n.\r\n') }),
      fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(transaction, { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (txns, muts, offsets) => {
        let wire = `EHLO x\r\n${txns.map((t) => t.wire).join('')}`;
        for (const m of muts) {
          const at = m.at % (wire.length + 1);
          if (m.kind === 'delete') wire = wire.slice(0, at) + wire.slice(at + m.len);
          else if (m.kind === 'insert') wire = wire.slice(0, at) + m.text + wire.slice(at);
          else wire = wire.slice(0, at) + wire.slice(at, at + m.len) + wire.slice(at);
        }
        const { counters } = play(cut(Buffer.from(wire, 'latin1'), offsets));
        // Inserted "DATA"/"BDAT" lines can open at most as many messages as MAIL commands allow.
        const mails = wire.split('MAIL FROM:').length - 1;
        expect(counters.messages).toBeLessThanOrEqual(mails);
      }),
      { numRuns: 300 },
    );
  });
});

describe('DATA text checks at every split offset', () => {
  const strict = resolveProfile({ server: { maxTextLine: 1000, tls: { starttls: false } } }).server;
  function run(body: string, cutAt: number) {
    const ctx = serverContext(strict, null);
    const sock = new FakeSocket();
    new Connection(sock.asSocket(), ctx);
    const wire = Buffer.from(`EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${body}.\r\nQUIT\r\n`, 'latin1');
    sock.feed(wire.subarray(0, cutAt));
    sock.feed(wire.subarray(cutAt));
    return { codes: sock.codes(), counters: ctx.metrics.counters };
  }
  const ok = `${'a'.repeat(998)}\r\nx\0y\0\r\n`; // a 1000-octet line (CRLF included) and two NULs
  const long = `short\r\n${'b'.repeat(999)}\r\n`; // a 1001-octet line

  it('refuses a message exactly when one of its lines is over 1000 octets, however it is cut (property)', () => {
    fc.assert(
      // Lengths near the limit (997 and 998 make 999- and 1000-octet lines) are drawn often.
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 995, max: 1000 }), fc.integer({ min: 0, max: 1010 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (lengths, offsets) => {
          // Line texts of the given lengths ('a's, so no dot lines), each ended by CRLF (counted in the limit).
          const body = lengths.map((n) => `${'a'.repeat(n)}\r\n`).join('');
          const wire = Buffer.from(`EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${body}.\r\nQUIT\r\n`, 'latin1');
          const ctx = serverContext(strict, null);
          const sock = new FakeSocket();
          new Connection(sock.asSocket(), ctx);
          for (const piece of cut(wire, offsets)) sock.feed(piece);
          const tooLong = lengths.some((n) => n + 2 > 1000);
          expect(sock.codes().at(-2)).toBe(tooLong ? 554 : 250);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('accepts a 1000-octet line and counts NULs; refuses a 1001-octet line with 554', () => {
    for (let cut = 1; cut < 1100; cut += 1) {
      const a = run(ok, cut);
      expect(a.codes.at(-2), `cut ${cut}`).toBe(250);
      expect(a.counters.nulOctets).toBe(2);
      const b = run(long, cut);
      expect(b.codes.at(-2), `cut ${cut}`).toBe(554);
      expect(b.counters.messages).toBe(0);
    }
  });
});
