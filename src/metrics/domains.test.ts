import { describe, expect, it } from 'vitest';
import { addDomainCounts, DomainTally, MAX_DOMAINS, OTHER_DOMAIN, topDomains, volumeOf, type DomainCounts } from './domains.js';

const o = (accepted: number, deferred = 0, rejected = 0) => ({ accepted, deferred, rejected });

describe('per-domain counts', () => {
  it('add across threads and shards, domain by domain', () => {
    const into: DomainCounts = {};
    addDomainCounts(into, { 'gmail.test': o(10, 2, 1), 'yahoo.test': o(3) });
    addDomainCounts(into, { 'gmail.test': o(5, 1), 'outlook.test': o(0, 0, 4) });
    addDomainCounts(into, undefined);
    expect(into).toEqual({ 'gmail.test': o(15, 3, 1), 'yahoo.test': o(3), 'outlook.test': o(0, 0, 4) });
  });

  it('keep at most MAX_DOMAINS domains by name, folding the smallest into (other)', () => {
    const a: DomainCounts = {};
    for (let i = 0; i < MAX_DOMAINS; i++) a[`d${i}.test`] = o(i + 10);
    const into: DomainCounts = {};
    addDomainCounts(into, a);
    addDomainCounts(into, { 'new1.test': o(1), 'new2.test': o(2), 'd0.test': o(100) });
    expect(Object.keys(into)).toHaveLength(MAX_DOMAINS + 1);
    expect(into[OTHER_DOMAIN]).toEqual(o(3));
    expect(into['d0.test']).toEqual(o(110));
  });

  it('show the top domains by volume, the rest as one (other) row', () => {
    const rows = topDomains({ 'a.test': o(1), 'b.test': o(5, 5), 'c.test': o(3), [OTHER_DOMAIN]: o(1) }, 2);
    expect(rows).toEqual([
      ['b.test', o(5, 5)],
      ['c.test', o(3)],
      [OTHER_DOMAIN, o(2)],
    ]);
  });

  it('a tally keeps what it counted under earlier names when the numbering changes', () => {
    const t = new DomainTally();
    const first = ['x.test'];
    t.use(first);
    t.rcpt(0, 250);
    t.use(first);
    t.use(['y.test', 'x.test']);
    t.rcpt(1, 550);
    t.rcpt(0, 451);
    expect(t.counts()).toEqual({ 'x.test': o(1, 0, 1), 'y.test': o(0, 1) });
  });

  it('counts a 421 to RCPT as closed, apart from the outcomes, and adds it up (hostile review of issue 15, M1)', () => {
    const t = new DomainTally();
    t.use(['x.test']);
    t.rcpt(0, 250);
    t.rcpt(0, 421);
    t.rcpt(0, 421);
    expect(t.counts()).toEqual({ 'x.test': { ...o(1), closed: 2 } });
    const sum = {};
    addDomainCounts(sum, t.counts());
    addDomainCounts(sum, { 'x.test': o(0, 1) });
    expect(sum).toEqual({ 'x.test': { ...o(1, 1), closed: 2 } });
    expect(volumeOf({ ...o(1, 1), closed: 2 })).toBe(4);
  });
});
