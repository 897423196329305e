import { describe, expect, it } from 'vitest';
import { resolveProfile } from './resolve.js';
import { errorOf } from './errors.testkit.js';
import { faultToSpec, resolveFault } from './faults.js';
import { DEFAULT_BOUNCE_REPLIES, DEFAULT_DEFER_REPLIES } from './reply-pool.js';
import { policiesToInput, resolveDomainPolicies } from './domains.js';

const server = (s: Record<string, unknown>) => resolveProfile({ server: s }).server;
const issues = (s: Record<string, unknown>) => Object.fromEntries(errorOf({ server: s }).issues.map((i) => [i.path, i.message]));

describe('server.domains', () => {
  it('resolves shares (percent or fraction), at, pools (default ones when absent), latency and rate', () => {
    const s = server({
      domains: {
        'Gmail.Test': { defer: '10%', bounce: 0.02 },
        '*.outlook.test': { defer: 0.5, at: 'data-end', replies: { defer: ['451 4.7.1 Slow down'] }, latency: { dist: 'uniform', min: '5ms', max: '9ms' }, rate: { messages: 100, per: '1s' } },
      },
    });
    expect(s.domains).toEqual([
      { pattern: 'gmail.test', defer: 0.1, bounce: 0.02, at: 'rcpt', replies: { defer: DEFAULT_DEFER_REPLIES, bounce: DEFAULT_BOUNCE_REPLIES }, latency: null, rate: null },
      {
        pattern: '*.outlook.test',
        defer: 0.5,
        bounce: 0,
        at: 'data-end',
        replies: { defer: ['451 4.7.1 Slow down'], bounce: DEFAULT_BOUNCE_REPLIES },
        latency: { dist: 'uniform', minMs: 5, maxMs: 9 },
        rate: { messages: 100, recipients: null, connections: null, perMs: 1000 },
      },
    ]);
    expect(s.countDomains).toBe(true);
    expect(server({}).countDomains).toBe(false);
  });

  it('names every bad field', () => {
    expect(
      issues({
        domains: {
          '*.gmail.test': { defer: '150%', colour: 'red' },
          'a.test': { defer: 0.6, bounce: 0.6 },
          'b.test': { replies: { defer: ['550 5.1.1 No'], bounce: ['550 4.1.1 Mixed', 'hello'] }, at: 'rcpt-end' },
          'c.test': { latency: { dist: 'uniform', min: '9ms', max: '5ms' }, rate: { messages: 0, per: '1s' } },
          'bad domain': {},
          'd.test': { defer: 0.9, bounce: 0.2, replies: { defer: ['550 5.1.1 No'] } },
          'e.test': { replies: { defer: ['451 4.7.1 caf\u00e9 \u0007'], bounce: [`550 5.1.1 ${'x'.repeat(600)}`] } },
          'f.test': { rate: { per: '1s' } },
          'xn--zz.test': {},
          [`${'x'.repeat(64)}.test`]: {},
          '-a.test': {},
          'g.test': { rate: { recipients: 5, connections: 1.5, per: '1s', bytes: 4 } },
        },
      }),
    ).toEqual({
      'server.domains."*.gmail.test".defer': expect.stringContaining('must be at most 100 %'),
      'server.domains."*.gmail.test".colour': expect.stringContaining('unknown key'),
      'server.domains."a.test"': 'defer + bounce is 120%; must be at most 100 %',
      'server.domains."b.test".replies.defer.0': 'a 550 reply is not a deferral (4xx)',
      'server.domains."b.test".replies.bounce.0': 'the enhanced code 4.… must have the class of the reply code 5xx (RFC 3463 §2)',
      'server.domains."b.test".replies.bounce.1': expect.stringContaining('expected "5xx 5.y.z text"'),
      'server.domains."b.test".at': 'expected "rcpt" or "data-end", got "rcpt-end"',
      'server.domains."c.test".latency.max': 'must not be below min (5 ms < 9 ms)',
      'server.domains."c.test".rate.messages': 'must be at least 1',
      'server.domains."f.test".rate': 'needs messages, recipients or connections: how many per `per`',
      'server.domains."xn--zz.test"': 'not a valid internationalised domain name (an A-label that does not decode, RFC 5891 §5.4): xn--zz.test',
      [`server.domains."${'x'.repeat(64)}.test"`]: 'a label is at most 63 octets (RFC 1035 §2.3.4): xxxxxxxxxxxxxxxxxxxx… has 64',
      'server.domains."-a.test"': 'a label neither starts nor ends with a hyphen (RFC 1123 §2.1): -a',
      'server.domains."g.test".rate.connections': 'expected an integer, got 1.5',
      'server.domains."g.test".rate.bytes': 'unknown key (rate has messages, recipients, connections, per)',
      'server.domains."bad domain"': expect.stringContaining('expected a domain'),
      // The sum is named beside the other bad fields of the same policy, not after they are fixed.
      'server.domains."d.test"': 'defer + bounce is 110%; must be at most 100 %',
      'server.domains."d.test".replies.defer.0': 'a 550 reply is not a deferral (4xx)',
      'server.domains."e.test".replies.defer.0': expect.stringContaining('printable ASCII, spaces and tabs (RFC 5321 §4.2)'),
      'server.domains."e.test".replies.bounce.0': expect.stringContaining('at most 512 octets with its CRLF'),
    });
  });

  it('round-trips through its input form (GET /domains → PUT /domains)', () => {
    const once = server({ domains: { 'x.test': { defer: '12.5%', latency: { dist: 'lognormal', median: '10ms', sigma: 0.5 }, rate: { messages: 3, per: '2s' } }, '*': { bounce: 1 } } }).domains;
    const again = resolveDomainPolicies(policiesToInput(once), () => {
      throw new Error('no issue expected');
    });
    expect(again).toEqual(once);
  });
});

describe('server.forced, bandwidth, maxConnectionsPerClient, seed', () => {
  it('defaults, switches and units', () => {
    expect(server({}).forced).toEqual({ slowMs: 2000 });
    expect(server({ forced: false }).forced).toBeNull();
    expect(server({ forced: { slowMs: '500ms' } }).forced).toEqual({ slowMs: 500 });
    expect(server({ bandwidth: '100KiB' }).bandwidth).toBe(102_400);
    expect(server({ maxConnectionsPerClient: 5 }).maxConnectionsPerClient).toBe(5);
    expect(resolveProfile({}).server.seed).toBeNull();
    expect(resolveProfile({ seed: 9 }).server.seed).toBe(9);
    expect(issues({ forced: 'yes', maxConnectionsPerClient: -1 })).toEqual({
      'server.forced': expect.stringContaining('expected true, false or {slowMs: 2s}'),
      'server.maxConnectionsPerClient': 'must be at least 0',
    });
  });
});

describe('faultToSpec', () => {
  it('writes a SPEC that resolves to the same fault', () => {
    for (const spec of [
      'rcpt: reply 450 4.2.1 busy @ 5%',
      'data-end: delay 20ms',
      'mail: delay uniform 5ms 50ms',
      '*: delay lognormal 10ms 0.5',
      'mail: disconnect @ 1%',
      'data: disconnect after 64KiB',
      'stall 1s at 5s',
      'tarpit 500ms after 3 errors',
    ]) {
      const f = resolveFault(spec, () => {
        throw new Error(spec);
      })!;
      expect(resolveFault(faultToSpec(f), () => {})).toEqual(f);
    }
  });
});
