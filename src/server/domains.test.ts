import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../profile/index.js';
import { DomainCounts, DomainPlan, TokenBucket, FORCED_DISCONNECT, FORCED_NONE, FORCED_PERMFAIL, FORCED_SLOW, FORCED_TEMPFAIL, forcedKind, MAX_COUNTED_DOMAINS, OTHER_DOMAIN } from './domains.js';

const plan = (domains: Record<string, unknown>) => new DomainPlan(resolveProfile({ server: { domains } }).server.domains, true, 1);

describe('DomainPlan.lookup', () => {
  it('takes the exact name, then the longest wildcard suffix, then *', () => {
    const p = plan({ 'a.b.test': {}, '*.b.test': {}, '*.c.b.test': {}, '*': {} });
    const pattern = (d: string) => p.lookup(d)?.policy.pattern;
    expect(pattern('a.b.test')).toBe('a.b.test');
    expect(pattern('x.a.b.test')).toBe('*.b.test');
    expect(pattern('x.c.b.test')).toBe('*.c.b.test');
    expect(pattern('b.test')).toBe('*');
    expect(pattern('')).toBe('*');
    expect(plan({ '*.b.test': {} }).lookup('b.test')).toBeNull();
  });

  it('matches a U-label domain to its A-label pattern, written either way (hostile review of issue 15, M2)', () => {
    for (const written of ['xn--bcher-kva.test', 'Bücher.test']) {
      const p = plan({ [written]: { bounce: 1 }, '*.test': { defer: 1 } });
      expect(p.policies.map((x) => x.pattern)).toEqual(['xn--bcher-kva.test', '*.test']);
      expect(p.lookup('bücher.test')?.policy.pattern).toBe('xn--bcher-kva.test');
      expect(p.lookup('xn--bcher-kva.test')?.policy.pattern).toBe('xn--bcher-kva.test');
      expect(p.lookup('mail.bücher.test')?.policy.pattern).toBe('*.test');
    }
    expect(plan({ '*.bücher.test': {} }).lookup('mx.bücher.test')?.policy.pattern).toBe('*.xn--bcher-kva.test');
  });
});

describe('TokenBucket', () => {
  it('refills continuously: 1 per 10 ms passes 1 per 10 ms (hostile review of issue 15, B1)', () => {
    const b = new TokenBucket(1, 10);
    const passed = Array.from({ length: 100 }, (_, i) => b.take(i)).filter(Boolean).length;
    // 0, 10, 20, … 90 ms: ten in 100 ms, where a 100 ms clock would have passed one.
    expect(passed).toBe(10);
  });
  it('holds a burst of its size, then the rate', () => {
    const b = new TokenBucket(5, 1000);
    expect(Array.from({ length: 8 }, () => b.take(0))).toEqual([true, true, true, true, true, false, false, false]);
    expect(b.take(199)).toBe(false);
    expect(b.take(200)).toBe(true);
  });
});

describe('DomainPlan replacing another', () => {
  const plan = (domains: object, previous?: DomainPlan) => new DomainPlan(resolveProfile({ server: { domains } } as never).server.domains, false, null, previous);
  it('keeps the buckets of a pattern whose rate did not change, and only those (B2)', () => {
    const first = plan({ 'a.test': { rate: { recipients: 2, per: '1h' } }, 'b.test': { rate: { recipients: 2, per: '1h' } } });
    const a = first.lookup('a.test')!;
    a.recipientBucket!.take(0);
    a.recipientBucket!.take(0);
    const second = plan({ 'a.test': { defer: '1%', rate: { recipients: 2, per: '1h' } }, 'b.test': { rate: { recipients: 3, per: '1h' } } }, first);
    expect(second.lookup('a.test')!.recipientBucket).toBe(a.recipientBucket);
    expect(second.lookup('a.test')!.recipientBucket!.take(1)).toBe(false);
    expect(second.lookup('b.test')!.recipientBucket).not.toBe(first.lookup('b.test')!.recipientBucket);
  });
});

describe('forcedKind', () => {
  it('recognises the four local parts in any case, and nothing else', () => {
    const kind = (lp: string) => forcedKind(Buffer.from(`<${lp}@x>`), 1, 1 + lp.length);
    expect([kind('tempfail'), kind('PermFail'), kind('slow'), kind('Disconnect')]).toEqual([FORCED_TEMPFAIL, FORCED_PERMFAIL, FORCED_SLOW, FORCED_DISCONNECT]);
    expect([kind('tempfai1'), kind('slov'), kind('postmaster')]).toEqual([FORCED_NONE, FORCED_NONE, FORCED_NONE]);
  });
});

describe('DomainCounts', () => {
  it('counts at most 1,000 names, the rest under (other)', () => {
    const c = new DomainCounts();
    for (let i = 0; i < MAX_COUNTED_DOMAINS + 5; i++) c.rcpt(`d${i}.test`, Buffer.from('250 ok'));
    c.rcpt('d0.test', Buffer.from('451 later'));
    c.rcpt('late.test', Buffer.from('550 no'));
    const s = c.snapshot();
    expect(Object.keys(s)).toHaveLength(MAX_COUNTED_DOMAINS + 1); // and (other)
    expect(s['d0.test']).toMatchObject({ accepted: 1, deferred: 1 });
    expect(s[OTHER_DOMAIN]).toMatchObject({ accepted: 5, rejected: 1 });
  });
  it('does not count a 421 (the session ends; the client does not count it either)', () => {
    const c = new DomainCounts();
    c.rcpt('a.test', Buffer.from('421 4.7.0 go away'));
    c.rcpt('a.test', Buffer.from('451 4.7.1 later'));
    expect(c.snapshot()['a.test']).toMatchObject({ accepted: 0, deferred: 1, rejected: 0 });
  });
});
