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
