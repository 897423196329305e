import { describe, expect, it } from 'vitest';
import { addFailureReplies, capTexts, FAILURE_TEXTS_KEPT, FailureTally, normaliseReply, OTHERS, type ReplyText } from './failures.js';
import { Merged, Recorder } from './recorder.js';

describe('normaliseReply', () => {
  it.each([
    ['451 4.7.1 Rate limited, try again in 30 seconds', '451 4.7.1 Rate limited, try again in # seconds'],
    ['450 4.2.1 Mailbox busy', '450 4.2.1 Mailbox busy'],
    ['550 5.1.1 <rcpt12@example.test>: Recipient address rejected: User unknown in virtual mailbox table', '550 5.1.1 <email>: Recipient address rejected: User unknown in virtual mailbox table'],
    ['550 5.7.1 Message from rcpt3@example.test refused', '550 5.7.1 Message from <email> refused'],
    [
      '421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.example.test/error-codes',
      '421 4.7.0 [TSS04] Messages from <ip> temporarily deferred due to unexpected volume or user complaints - <ip>; see https://postmaster.example.test/error-codes',
    ],
    [
      '450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. d75a77b69052e-4b0aa3e1b1asi123456cf.123 - gsmtp',
      '450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. <id> - gsmtp',
    ],
    [
      '451 4.7.500 Server busy. Please try again later from [198.51.100.7]. (S77719) [BN8NAM12FT052.eop-nam12.prod.example.test]',
      '451 4.7.500 Server busy. Please try again later from [<ip>]. (S77719) [<id>]',
    ],
    ['452 4.2.2 Mailbox full, quota 104857600 bytes exceeded', '452 4.2.2 Mailbox full, quota # bytes exceeded'],
    ['554 5.7.1 Session ID Ks9Nw3Hb+Zq/0xA= rejected by policy', '554 5.7.1 Session ID <id> rejected by policy'],
    ['421 4.4.2 connection from [IPv6:2001:db8::1] timed out', '421 4.4.2 connection from [IPv6:<ip>] timed out'],
    ['421 Too many connections from 192.0.2.1:41234, max 10', '421 Too many connections from <ip>:#, max #'],
    ['550    5.7.26   Unauthenticated   mail', '550 5.7.26 Unauthenticated mail'],
    ['451 queue id deadbeefcafe0123 deferred', '451 queue id <id> deferred'],
    ['554', '554'],
    // Hostile review of issue 15 (M3): quoted and non-ASCII addresses, digit-free and short IDs, URLs kept.
    ['550 5.1.1 <"john doe"@example.test> unknown', '550 5.1.1 <email> unknown'],
    ['550 5.1.1 "john.doe"@example.test unknown', '550 5.1.1 <email> unknown'],
    ['550 5.1.1 jörg@bücher.test: no such user', '550 5.1.1 <email>: no such user'],
    ['451 4.7.1 session abcdefghIJKLmnop deferred', '451 4.7.1 session <id> deferred'],
    ['451 4.7.1 queued as 4Rk9Yz, try later', '451 4.7.1 queued as <id>, try later'],
    ['554 5.7.1 see https://support.example.test/kb/3150 for details', '554 5.7.1 see https://support.example.test/kb/3150 for details'],
    ['550 5.7.1 [TSS09] rejected', '550 5.7.1 [TSS09] rejected'],
    ['550 5.7.1 not an address: user@ or @host', '550 5.7.1 not an address: user@ or @host'],
    // The second review: a URL's query and camel-case words kept, an address in a URL and an IP in its path masked.
    ['421 4.7.0 see https://support.example.test/mail/?p=ReceivingRate', '421 4.7.0 see https://support.example.test/mail/?p=ReceivingRate'],
    ['451 4.7.1 see http://x.test/greylist?addr=john@example.test', '451 4.7.1 see http://x.test/greylist?addr=<email>'],
    ['554 5.7.1 listed: https://lists.example.test/query/ip/192.0.2.1', '554 5.7.1 listed: https://lists.example.test/query/ip/<ip>'],
    ['4210 4.7.0 busy', '# #.#.# busy'],
  ])('%s', (raw, masked) => {
    expect(normaliseReply(raw)).toBe(masked);
  });

  it('takes time linear in the text: a long token without @ or a space (hostile review of issue 15, N1)', () => {
    const long = `550 5.0.0 ${'a'.repeat(100_000)}`;
    const t0 = performance.now();
    normaliseReply(long);
    normaliseReply(`550 5.0.0 ${'a@'.repeat(50_000)}`);
    // A quadratic pattern takes seconds on these; linear is a few milliseconds.
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('caps a long text', () => {
    expect(normaliseReply(`550 5.0.0 ${'x '.repeat(300)}`).length).toBeLessThanOrEqual(200);
  });
});

const text = (s: string): ReplyText => {
  const buf = Buffer.from(`xx${s}yy`);
  return { textBuf: buf, textStart: 2, textEnd: 2 + Buffer.byteLength(s) };
};

describe('FailureTally', () => {
  it('counts texts that differ only in what is masked as one, per phase and code', () => {
    const t = new FailureTally();
    t.count('rcpt', 451, text('4.7.1 Rate limited, try again in 30 seconds'));
    t.count('rcpt', 451, text('4.7.1 Rate limited, try again in 30 seconds'));
    t.count('rcpt', 451, text('4.7.1 Rate limited, try again in 12 seconds'));
    t.count('rcpt', 450, text('4.7.1 Rate limited, try again in 12 seconds'));
    t.count('data', 554, text('5.5.1 No valid recipients'));
    t.count('body', 421, null);
    expect(t.counts()).toEqual({
      rcpt: { '451 4.7.1 Rate limited, try again in # seconds': 3, '450 4.7.1 Rate limited, try again in # seconds': 1 },
      data: { '554 5.5.1 No valid recipients': 1 },
      body: { '421': 1 },
    });
  });

  it('keeps at most FAILURE_TEXTS_KEPT texts per phase, the rest under (others)', () => {
    const t = new FailureTally();
    const words = (i: number): string => i.toString(2).replace(/0/g, 'a ').replace(/1/g, 'b ');
    for (let i = 0; i < FAILURE_TEXTS_KEPT + 30; i++) t.count('rcpt', 550, text(`5.0.0 ${words(i)}`));
    const c = t.counts().rcpt;
    expect(Object.keys(c)).toHaveLength(FAILURE_TEXTS_KEPT + 1);
    expect(c[OTHERS]).toBe(30);
  });

  it("shows a text that becomes frequent after the cap is full: it takes the least frequent one's place, totals stay exact (hostile review of issue 15)", () => {
    const t = new FailureTally();
    const words = (i: number): string => i.toString(2).replace(/0/g, 'a ').replace(/1/g, 'b ');
    for (let i = 0; i < 150; i++) t.count('rcpt', 550, text(`5.0.0 ${words(i)}`));
    for (let i = 0; i < 500; i++) {
      t.count('rcpt', 451, text('4.7.1 Rate limited, slow down'));
      if (i % 10 === 0) t.count('rcpt', 550, text(`5.0.0 ${words(1000 + i)}`));
    }
    const c = t.counts().rcpt;
    expect(c['451 4.7.1 Rate limited, slow down']).toBe(500);
    expect(Object.keys(c).length).toBeLessThanOrEqual(FAILURE_TEXTS_KEPT + 1);
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(150 + 500 + 50);
  });

  it('keeps a late, frequent text that alternates with one-off texts on a full tally (hostile review of issue 15, B4)', () => {
    const t = new FailureTally();
    const words = (i: number): string => i.toString(2).replace(/0/g, 'a ').replace(/1/g, 'b ');
    for (let i = 0; i < FAILURE_TEXTS_KEPT; i++) for (let k = 0; k < 5; k++) t.count('rcpt', 550, text(`5.0.0 ${words(i)}`));
    for (let i = 0; i < 5000; i++) {
      t.count('rcpt', 451, text('4.7.1 Rate limited, slow down'));
      t.count('rcpt', 550, text(`5.0.0 ${words(10_000 + i)}`));
    }
    const c = t.counts().rcpt;
    // Kept from its admission on: all but the replies before the first eviction that made it stay.
    expect(c['451 4.7.1 Rate limited, slow down']).toBeGreaterThan(4900);
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(FAILURE_TEXTS_KEPT * 5 + 10_000);
  });

  it('goes from the parser through the recorder to a snapshot, and merges across threads', () => {
    const a = new Recorder();
    a.pendingText = text('4.2.1 Mailbox busy');
    a.reply('rcpt', 450, 4_002_001);
    a.reply('rcpt', 250, 2_001_005);
    const b = new Recorder();
    b.pendingText = text('4.2.1 Mailbox busy');
    b.reply('rcpt', 450, 4_002_001);
    b.pendingText = text('5.1.1 <u7@x.test> unknown');
    b.reply('rcpt', 550, 5_001_001);
    const m = new Merged();
    m.add(a.snapshot());
    m.add(b.snapshot());
    expect(m.failureReplies).toEqual({ rcpt: { '450 4.2.1 Mailbox busy': 2, '550 5.1.1 <email> unknown': 1 } });
    expect(a.pendingText).toBeNull();
  });
});

describe('addFailureReplies and capTexts', () => {
  it('adds per phase and text, then keeps the most frequent under the cap', () => {
    const into = { rcpt: { a: 5, b: 1 } };
    addFailureReplies(into, { rcpt: { b: 3, c: 2, [OTHERS]: 4 }, data: { d: 1 } }, 2);
    expect(into).toEqual({ rcpt: { b: 4, a: 5, [OTHERS]: 6 }, data: { d: 1 } });
    expect(Object.keys(capTexts({ x: 1, y: 2, z: 2 }, 2))).toEqual(['y', 'z', OTHERS]);
    addFailureReplies(into, undefined);
  });
});
