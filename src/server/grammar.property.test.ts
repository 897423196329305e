/**
 * Property tests of the reference server's MAIL and RCPT replies against the ABNF (the oracle and
 * generators of protocol/abnf.testkit.ts): valid commands get 250, mutated ones the reply code the
 * RFCs give their fault (RFC 5321 §4.1.2: 501 for a bad path or parameter; §4.1.1.11: 555 for a
 * parameter not offered; RFC 6531 §3.5: 550/553 for UTF-8 without SMTPUTF8; RFC 1870: 552 for a
 * declared size over the limit). Run through the command machine, without a socket.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, grammar, mutate, mutation, oracleSplit, PARAMS, PROPERTY_RUNS } from '../protocol/abnf.testkit.js';
import { resolveProfile } from '../profile/index.js';
import { CommandMachine } from './commands.js';
import { serverContext, type ReplySink } from './context.js';

const MAX_SIZE = 1_000_000;

/** A command machine after EHLO; `code` sends one line and returns its reply code. */
function machine(): (line: Buffer | string) => string {
  const ctx = serverContext(resolveProfile({ server: { tls: { starttls: false }, maxMessageSize: MAX_SIZE, maxErrors: 0 } }).server, null);
  let last = '';
  const sink: ReplySink = {
    reply: (b: Buffer) => void (last = b.toString('latin1', 0, 3)),
    answering: () => {},
    delay: () => {},
    startData: () => {},
    startBdat: () => {},
    startTls: () => {},
    close: () => {},
  };
  const m = new CommandMachine(ctx, ctx.sessions.open('192.0.2.1', 1025, false), sink, false);
  m.greet();
  const code = (line: Buffer | string): string => {
    m.command(typeof line === 'string' ? Buffer.from(line, 'utf8') : line);
    return last;
  };
  expect(code('EHLO client.example')).toBe('250');
  return code;
}

/** The parameters after a path as `{keyword, value}`, or null when they are not the grammar (UTF-8 only with SMTPUTF8). */
function params(tail: Uint8Array, smtputf8: boolean | 'declared'): { k: string; v: string | null }[] | null {
  const text = decodeUtf8(tail);
  if (text === null || !PARAMS.test(text)) return null;
  const list = text
    .trim()
    .split(' ')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? { k: p.toUpperCase(), v: null } : { k: p.slice(0, eq).toUpperCase(), v: p.slice(eq + 1) };
    });
  const utf8 = smtputf8 === 'declared' ? list.some((p) => p.k === 'SMTPUTF8') : smtputf8;
  return !utf8 && /[^\x00-\x7f]/.test(text) ? null : list;
}

/** What a MAIL line's parameters get (RFC 1870, RFC 6152, RFC 6531 §3.4; AUTH is not offered here), or null when all are taken. */
function mailParamsReply(list: { k: string; v: string | null }[]): string | null {
  for (const [i, { k, v }] of list.entries()) {
    if (list.findIndex((p) => p.k === k) !== i) return '501';
    if (k === 'SIZE') {
      if (v === null || !/^[0-9]{1,20}$/.test(v)) return '501';
      if (Number(v) > MAX_SIZE) return '552';
    } else if (k === 'BODY') {
      if (!['7BIT', '8BITMIME', 'BINARYMIME'].includes(v?.toUpperCase() ?? '')) return '501';
    } else if (k === 'SMTPUTF8') {
      if (v !== null) return '501';
    } else return '555';
  }
  return null;
}

/** The expected reply to `MAIL FROM:` + `rest`. */
function mailReply(rest: Buffer): string {
  const split = oracleSplit(rest, 'reverse');
  if (split === null) return '501';
  const list = params(rest.subarray(split.end), 'declared');
  if (list === null || split.verdict !== 'ok') return '501';
  const refusal = mailParamsReply(list);
  if (refusal !== null) return refusal;
  return split.nonAscii && !list.some((p) => p.k === 'SMTPUTF8') ? '550' : '250';
}

/** The expected reply to `RCPT TO:` + `rest` in a transaction with or without SMTPUTF8. */
function rcptReply(rest: Buffer, smtputf8: boolean): string {
  const split = oracleSplit(rest, 'forward');
  if (split === null) return '501';
  const list = params(rest.subarray(split.end), smtputf8);
  if (list === null || split.verdict !== 'ok') return '501';
  if (list.length > 0) return '555';
  return split.nonAscii && !smtputf8 ? '553' : '250';
}

let inputs = 0;
const run = <T extends [unknown, ...unknown[]]>(p: fc.IProperty<T>) => fc.assert(p, { numRuns: PROPERTY_RUNS });

describe('MAIL and RCPT replies against the ABNF (property tests)', () => {
  const g = grammar(true);
  const param = fc.oneof(
    fc.constantFrom('SIZE=1000', `SIZE=${MAX_SIZE + 1}`, 'size=0', 'BODY=8BITMIME', 'body=7bit', 'BODY=BINARYMIME', 'SMTPUTF8', 'smtputf8', 'BODY=9BIT', 'SMTPUTF8=1', 'SIZE=x'),
    g.esmtpParam,
  );
  const line = (path: string, params: (string | null)[], mutations: readonly (readonly [0 | 1 | 2 | 3 | 4, number, number])[]): Buffer =>
    mutate(path + params.map((p) => (p === null ? '' : ` ${p}`)).join(''), mutations);

  it('MAIL FROM: a generated or mutated reverse-path and parameters gets the reply the RFCs give it', () => {
    const code = machine();
    run(
      fc.property(g.reversePath, fc.array(param, { maxLength: 3 }), fc.array(mutation, { maxLength: 2 }), (path, ps, mutations) => {
        inputs++;
        const rest = line(path, ps, mutations);
        const got = code(Buffer.concat([Buffer.from('MAIL FROM:'), rest]));
        expect(got, JSON.stringify(rest.toString('latin1'))).toBe(mailReply(rest));
        if (got === '250') code('RSET');
      }),
    );
  });

  for (const smtputf8 of [false, true]) {
    it(`RCPT TO: a generated or mutated forward-path gets 250, 501, ${smtputf8 ? '' : '553 (UTF-8 without SMTPUTF8), '}or 555 (a parameter)`, () => {
      const code = machine();
      expect(code(`MAIL FROM:<a@example.test>${smtputf8 ? ' SMTPUTF8' : ''}`)).toBe('250');
      run(
        fc.property(g.forwardPath, fc.option(g.esmtpParam, { freq: 5 }), fc.array(mutation, { maxLength: 2 }), (path, p, mutations) => {
          inputs++;
          const rest = line(path, [p], mutations);
          expect(code(Buffer.concat([Buffer.from('RCPT TO:'), rest])), JSON.stringify(rest.toString('latin1'))).toBe(rcptReply(rest, smtputf8));
        }),
      );
    });
  }

  it(`counts its inputs: ${3 * PROPERTY_RUNS}`, () => {
    expect(inputs).toBe(3 * PROPERTY_RUNS);
  });
});
