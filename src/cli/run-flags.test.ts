import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../profile/index.js';
import { domainFlagIssues, domainWeights, profileOverrides } from './run-flags.js';

describe('--domain (weighted recipient domains)', () => {
  it('turns repeated domain:weight flags into envelope.to.domains, a bare domain weighing 1', () => {
    expect(domainWeights(['gmail.test:67.4', 'outlook.test:20', 'yahoo.test'])).toEqual({ 'gmail.test': 67.4, 'outlook.test': 20, 'yahoo.test': 1 });
    expect(domainWeights([])).toBeUndefined();
    const overrides = profileOverrides({ threshold: [], domain: ['gmail.test:3', 'yahoo.test:1'] });
    expect(overrides.envelope).toEqual({ to: { domains: { 'gmail.test': 3, 'yahoo.test': 1 } } });
    expect(profileOverrides({ threshold: [] }).envelope).toBeUndefined();
    expect(resolveProfile(undefined, overrides).envelope.domains).toEqual([
      { domain: 'gmail.test', weight: 3 },
      { domain: 'yahoo.test', weight: 1 },
    ]);
  });

  it('names a domain given twice, instead of the last weight winning (hostile review of issue 15, N2)', () => {
    expect(domainFlagIssues(['a.test:1', 'b.test:1', 'a.test:8'])).toEqual([{ path: '--domain', message: 'a.test is given twice (a.test:1 and a.test:8); give each domain once, with its weight' }]);
    expect(domainFlagIssues(['a.test:1', 'b.test'])).toEqual([]);
    expect(domainFlagIssues(undefined)).toEqual([]);
  });

  it('leaves a weight that is not a number for the resolver to name', () => {
    expect(() => resolveProfile(undefined, profileOverrides({ threshold: [], domain: ['gmail.test:lots'] }))).toThrow(/envelope\.to\.domains\."gmail\.test"/);
  });

  it('refuses weights whose sum overflows (every share would be 0)', () => {
    expect(() => resolveProfile(undefined, profileOverrides({ threshold: [], domain: ['x.test:1e308', 'y.test:1e308'] }))).toThrow(
      /envelope\.to\.domains: the weights add up to more than a number holds/,
    );
  });

  it('names --domain __proto__ as not a domain instead of dropping it (hostile review of issue 15)', () => {
    expect(() => resolveProfile(undefined, profileOverrides({ threshold: [], domain: ['__proto__:5', 'a.test:5'] }))).toThrow(/envelope\.to\.domains\."__proto__": is not a domain/);
  });
});
