import { describe, expect, it } from 'vitest';
import { STEP_COMMANDS, STEP_PHASE } from '../src/client/steps.js';
import { PHASES } from '../src/metrics/phases.js';
import { FAULT_COMMANDS } from '../src/profile/faults.js';
import { resolveProfile } from '../src/profile/resolve.js';
import { SERVER_HISTOGRAMS } from '../src/metrics/server-histograms.js';
import { buildReplies, serves } from '../src/server/replies.js';
import { FAULT_VERBS, lowerVerb, NO_VERB, STEP_VERBS, verbCode, verbCodeOf, VERBS, type Verb } from '../src/protocol/verbs.js';

const line = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('VERBS', () => {
  it('lists each verb once, in ASCII capitals', () => {
    expect(new Set(VERBS).size).toBe(VERBS.length);
    for (const v of VERBS) expect(v).toMatch(/^[A-Z]{4,8}$/);
  });

  it('gives every verb its own code: four letters packed (positive), longer verbs negative, none NO_VERB', () => {
    const codes = VERBS.map(verbCode);
    expect(new Set(codes).size).toBe(VERBS.length);
    for (const v of VERBS) {
      expect(verbCode(v)).not.toBe(NO_VERB);
      expect(verbCode(v) > 0).toBe(v.length === 4);
    }
  });
});

describe('verbCodeOf', () => {
  it('recognises every verb in any letter case, alone or before a space and arguments', () => {
    for (const v of VERBS) {
      const mixed = [...v].map((c, i) => (i % 2 ? c.toLowerCase() : c)).join('');
      for (const text of [v, v.toLowerCase(), mixed, `${v} x`, `${v.toLowerCase()} FROM:<a@b>`, `${v} `]) expect(verbCodeOf(line(text)), text).toBe(verbCode(v));
    }
  });

  it('needs the whole word: a longer or shorter word is not the verb', () => {
    for (const v of VERBS) {
      for (const text of [`${v}X`, v.slice(0, -1), `${v}\tx`, ` ${v}`, `${v}:`]) expect(verbCodeOf(line(text)), text).not.toBe(verbCode(v));
    }
    expect(verbCodeOf(line(''))).toBe(NO_VERB);
    expect(verbCodeOf(line('ABC'))).toBe(NO_VERB);
    expect(verbCodeOf(line('STARTTLS2'))).toBe(NO_VERB);
  });

  it('packs any four-octet first word, so an unknown word is a number no verb has', () => {
    const known = new Set(VERBS.map(verbCode));
    for (const text of ['ABCD', 'XYZZY', 'HELO2', 'MAIl2 x']) expect(known.has(verbCodeOf(line(text))), text).toBe(false);
    expect(verbCodeOf(line('WXYZ'))).toBeGreaterThan(0);
  });
});

describe('subsets of VERBS', () => {
  it('steps and fault targets are verbs, each once', () => {
    for (const list of [STEP_VERBS, FAULT_VERBS] as readonly (readonly Verb[])[]) {
      expect(new Set(list).size).toBe(list.length);
      for (const v of list) expect(VERBS).toContain(v);
    }
  });

  it('the client numbers its steps in STEP_VERBS order and records each in its lower-case phase', () => {
    expect(STEP_COMMANDS).toEqual(STEP_VERBS);
    for (const v of STEP_VERBS) expect(STEP_PHASE[v]).toBe(lowerVerb(v));
  });

  it('every step has a phase, in STEP_VERBS order', () => {
    const at = STEP_VERBS.map((v) => (PHASES as readonly string[]).indexOf(lowerVerb(v)));
    for (const i of at) expect(i).toBeGreaterThanOrEqual(0);
    const steps = at.filter((i, k) => STEP_VERBS[k] !== 'RSET');
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('the profile takes exactly the steps (and message) as scenario keys', () => {
    for (const v of STEP_VERBS) expect(resolveProfile({ scenario: { [v]: 1 } }).scenario).toEqual({ [v]: 1 });
    for (const v of VERBS.filter((x) => !(STEP_VERBS as readonly Verb[]).includes(x))) expect(() => resolveProfile({ scenario: { [v]: 1 } }), v).toThrow(/scenario/);
  });

  it('faults name the greeting, each fault verb in lower case (the end of data after DATA), and every reply', () => {
    expect(FAULT_COMMANDS).toEqual(['connect', 'helo', 'ehlo', 'auth', 'starttls', 'mail', 'rcpt', 'data', 'data-end', 'bdat', 'rset', 'noop', 'quit', 'vrfy', 'expn', 'help', '*']);
    for (const v of FAULT_VERBS) expect(FAULT_COMMANDS).toContain(lowerVerb(v));
  });

  it('the server keeps a histogram per fault verb, LHLO and XCLIENT, and one for the rest', () => {
    const cmd = SERVER_HISTOGRAMS.filter((h) => h.startsWith('cmd.'));
    expect(cmd).toEqual([...FAULT_VERBS.map((v) => `cmd.${lowerVerb(v)}`), 'cmd.lhlo', 'cmd.xclient', 'cmd.other']);
  });
});

describe('HELP', () => {
  const settings = (server: object) => resolveProfile({ server }).server;
  const help = (server: object, starttls = false) =>
    buildReplies(settings(server), starttls)
      .help.toString('latin1')
      .replace(/^214 2\.0\.0 Commands: |\r\n$/g, '')
      .split(' ');

  it('lists the verbs a configuration serves, in VERBS order', () => {
    expect(help({})).toEqual(['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'HELP']);
    const all = { expn: { staff: ['a@example.test'] }, legacySend: 'mail', atrn: 'odmr', xclient: true, auth: { users: { alice: 'pw' } } };
    expect(help(all, true)).toEqual(VERBS.filter((v) => v !== 'TURN' && v !== 'LHLO'));
    expect(help({ lmtp: true, chunking: false })).toEqual(['LHLO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'HELP']);
  });

  it('never offers TURN (RFC 5321 Appendix F.1)', () => {
    for (const lmtp of [false, true]) expect(serves('TURN', settings({ lmtp }), true)).toBe(false);
  });
});
