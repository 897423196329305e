import { describe, expect, it } from 'vitest';
import { addCountsInto, Merged, Recorder } from './recorder.js';

describe('Recorder reply counts', () => {
  it('counts enhanced status codes per phase beside the basic codes, as text in snapshots', () => {
    const r = new Recorder();
    r.reply('rcpt', 250, 2_001_005);
    r.reply('rcpt', 250, 2_001_005);
    r.reply('rcpt', 450, 4_002_001);
    r.reply('rcpt', 550);
    r.reply('body', 250, 2_000_000);
    r.reply('greeting', 220, 0);
    expect(r.replies).toEqual({ rcpt: { '250': 2, '450': 1, '550': 1 }, body: { '250': 1 }, greeting: { '220': 1 } });
    const s = r.snapshot();
    expect(s.enhanced).toEqual({ rcpt: { '2.1.5': 2, '4.2.1': 1 }, body: { '2.0.0': 1 } });
    expect(r.enhancedCounts()).toEqual(s.enhanced);
    r.reset();
    expect(r.snapshot().enhanced).toEqual({});
  });

  it('merges enhanced codes from snapshots, and from counts that have none', () => {
    const a = new Recorder();
    a.reply('mail', 250, 2_001_000);
    a.reply('rcpt', 452, 4_005_003);
    const b = new Recorder();
    b.reply('rcpt', 452, 4_005_003);
    b.error('rcpt-timeout');
    const m = new Merged();
    m.add(a.snapshot());
    m.add(b.snapshot());
    expect(m.enhanced).toEqual({ mail: { '2.1.0': 1 }, rcpt: { '4.5.3': 2 } });
    expect(m.errors).toEqual({ 'rcpt-timeout': 1 });
    const into: Parameters<typeof addCountsInto>[0] = { replies: {}, errors: {} };
    addCountsInto(into, { mail: { '250': 1 } }, {});
    expect(into.enhanced).toBeUndefined();
    addCountsInto(into, {}, {}, { mail: { '2.1.0': 1 } });
    expect(into.enhanced).toEqual({ mail: { '2.1.0': 1 } });
  });
});

describe('Recorder error causes (hostile review F8)', () => {
  it('keeps the first cause of each kind, bounded, through snapshots and merges; a reset forgets them', () => {
    const a = new Recorder();
    a.error('connect-failed', 'getaddrinfo ENOTFOUND no-such-host.invalid');
    a.error('connect-failed', 'connect ECONNREFUSED 127.0.0.1:25');
    a.error('mail-timeout');
    a.error('bad-reply', `reply line longer than 65536 octets ${'x'.repeat(500)}`);
    expect(a.errors).toEqual({ 'connect-failed': 2, 'mail-timeout': 1, 'bad-reply': 1 });
    expect(a.causes['connect-failed']).toBe('getaddrinfo ENOTFOUND no-such-host.invalid');
    expect(a.causes['mail-timeout']).toBeUndefined();
    expect(a.causes['bad-reply']).toHaveLength(200);
    const b = new Recorder();
    b.error('connect-failed', 'connect EADDRNOTAVAIL 10.255.255.1');
    b.error('mail-timeout', 'no reply to MAIL within 30000 ms');
    const m = new Merged();
    m.add(a.snapshot());
    m.add(b.snapshot());
    expect(m.errors['connect-failed']).toBe(3);
    expect(m.causes).toMatchObject({ 'connect-failed': 'getaddrinfo ENOTFOUND no-such-host.invalid', 'mail-timeout': 'no reply to MAIL within 30000 ms' });
    a.reset();
    expect(a.snapshot().causes).toEqual({});
  });
});

describe('Recorder clamped values (issue 13)', () => {
  it('counts a latency above the histograms’ highest trackable value, which records it as that value', () => {
    const r = new Recorder();
    r.record('transaction', 5_000);
    r.record('transaction', 4_000_000_000); // 66 min: above 1 h
    expect(r.counters.clampedValues).toBe(1);
    const m = new Merged();
    m.add(r.snapshot());
    expect(m.histograms.get('transaction')!.maxValue).toBeLessThanOrEqual(3_600_000_000 * 1.001);
    expect(m.counters.clampedValues).toBe(1);
  });
});
