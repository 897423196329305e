import { describe, expect, it } from 'vitest';
import { ProfileError } from '../errors.js';
import { parseFaultSpec } from './faults.js';
import { resolveProfile } from './resolve.js';

const faults = (...f: unknown[]) => resolveProfile({ server: { faults: f } }).server.faults;

function issuesOf(...f: unknown[]): Record<string, string> {
  try {
    resolveProfile({ server: { faults: f } });
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return Object.fromEntries((err as ProfileError).issues.map((i) => [i.path, i.message]));
  }
  throw new Error('expected a ProfileError');
}

describe('fault SPEC strings', () => {
  it('parses every action into its mapping form', () => {
    expect(parseFaultSpec('rcpt: reply 450 4.2.1 Mailbox busy @ 5%')).toEqual({ command: 'rcpt', reply: '450 4.2.1 Mailbox busy', probability: '5%' });
    expect(parseFaultSpec('RCPT: 450 4.2.1 busy at 5 %')).toEqual({ command: 'rcpt', reply: '450 4.2.1 busy', probability: '5%' });
    expect(parseFaultSpec('data-end: delay 20ms')).toEqual({ command: 'data-end', delay: '20ms' });
    expect(parseFaultSpec('*: delay uniform 5ms..50ms')).toEqual({ command: '*', delay: { dist: 'uniform', min: '5ms', max: '50ms' } });
    expect(parseFaultSpec('mail: delay lognormal 10ms 0.5 @ 50%')).toEqual({
      command: 'mail',
      delay: { dist: 'lognormal', median: '10ms', sigma: 0.5 },
      probability: '50%',
    });
    expect(parseFaultSpec('data: disconnect after 64KiB @ 1%')).toEqual({ command: 'data', disconnect: { after: '64KiB' }, probability: '1%' });
    expect(parseFaultSpec('stall 1s at 5s')).toEqual({ stall: '1s', at: '5s' });
    expect(parseFaultSpec('tarpit 500ms after 3 errors')).toEqual({ tarpit: '500ms', afterErrors: 3 });
  });

  it('resolves a SPEC and its mapping form to the same fault', () => {
    expect(faults('rcpt: 450 4.2.1 busy @ 5%')).toEqual(faults({ command: 'RCPT', reply: '450 4.2.1 busy', probability: 0.05 }));
    expect(faults('data-end: delay 20ms')).toEqual([{ kind: 'delay', command: 'data-end', probability: 1, delay: { dist: 'fixed', ms: 20 } }]);
    expect(faults('stall 1s at 5s', 'tarpit 2s')).toEqual([
      { kind: 'stall', atMs: 5000, forMs: 1000 },
      { kind: 'tarpit', delayMs: 2000, afterErrors: 0 },
    ]);
    expect(faults('connect: 421 4.3.2 busy @ 10%')).toEqual([{ kind: 'reply', command: 'connect', probability: 0.1, code: 421, text: '4.3.2 busy' }]);
    expect(faults('data: disconnect after 1KiB')).toEqual([{ kind: 'disconnect', command: 'data', probability: 1, afterBytes: 1024 }]);
    // Without a command a fault applies to every reply.
    expect(faults('delay 5ms')[0]).toMatchObject({ command: '*' });
  });

  it('names every bad field by dotted path', () => {
    expect(
      issuesOf(
        'rcpt: reply 250 OK',
        'bogus: delay 5ms',
        'mail: delay fast',
        { command: 'mail', delay: { dist: 'uniform', min: '50ms', max: '5ms' } },
        { command: 'rcpt', reply: '450 x', probability: 1.5 },
        'frobnicate',
        { delay: '1s', reply: '450 x' },
        { command: 'mail', disconnect: { after: '1KiB' } },
        { stall: '1s' },
        { tarpit: '1s', colour: 'red' },
        'rcpt: reply 550 4.1.1 Mixed classes',
        'rcpt: reply 451 4.7.1 caf\u00e9',
      ),
    ).toEqual({
      'server.faults.0.reply': 'expected a 4xx or 5xx reply such as "450 4.2.1 Try again later", got "250 OK"',
      'server.faults.1.command': expect.stringContaining('expected one of connect, helo'),
      'server.faults.2.delay': expect.stringContaining('fast'),
      'server.faults.3.delay.max': 'must not be below min (5 ms < 50 ms)',
      'server.faults.4.probability': expect.stringContaining('from 0 to 1'),
      'server.faults.5': expect.stringContaining('expected an action'),
      'server.faults.6': 'has 2 actions (reply, delay); one fault, one action',
      'server.faults.7.disconnect.after': 'counts message octets, so the command must be "data"',
      'server.faults.8.at': expect.stringContaining('expected a duration'),
      'server.faults.10.reply': expect.stringContaining('the enhanced code 4.… must have the class of the reply code 5xx (RFC 3463 §2)'),
      'server.faults.11.reply': expect.stringContaining('printable ASCII'),
      'server.faults.9.colour': 'unknown key',
    });
    expect(() => resolveProfile({ server: { faults: 'delay 5ms' } })).toThrow('server.faults: expected a list of faults, got "delay 5ms"');
  });
});
