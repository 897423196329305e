/**
 * Property tests of the path grammar (protocol/address.ts) against the ABNF of RFC 5321 §4.1.2,
 * §4.1.3 and RFC 6531 §3.3 as transcribed in abnf.testkit.ts: generated valid paths are accepted
 * with the right local part, and octet-level mutations of them get the oracle's verdict, whatever
 * it is. `PROPERTY_RUNS` inputs per property (the closing note of issue 13 counts them).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grammar, mutate, mutation, oraclePath, PARAMS, PROPERTY_RUNS, type OracleVerdict } from './abnf.testkit.js';
import { DOMAIN_TOO_LONG, LOCAL_PART_TOO_LONG, parseEsmtpParams, PATH_OK, PATH_SYNTAX, PATH_TOO_LONG, PathScan, scanPath, type PathRole, type PathVerdict } from './address.js';

const NAMES: Record<PathVerdict, OracleVerdict> = {
  [PATH_OK]: 'ok',
  [PATH_SYNTAX]: 'syntax',
  [PATH_TOO_LONG]: 'path-too-long',
  [LOCAL_PART_TOO_LONG]: 'local-part-too-long',
  [DOMAIN_TOO_LONG]: 'domain-too-long',
};

/**
 * The implementation's verdict on a whole path: octets after the `>` make it a syntax error, which
 * outranks a length error (the server checks what follows the path before it reports a length).
 */
function implementation(b: Buffer, role: PathRole): { verdict: OracleVerdict; out: PathScan } {
  const out = new PathScan();
  const v = scanPath(b, 0, role, out);
  return { verdict: v !== PATH_SYNTAX && out.end !== b.length ? 'syntax' : NAMES[v], out };
}

let inputs = 0;
const run = <T extends [unknown, ...unknown[]]>(p: fc.IProperty<T>) => fc.assert(p, { numRuns: PROPERTY_RUNS });

describe('the path grammar against the ABNF (property tests)', () => {
  for (const utf8 of [false, true]) {
    const g = grammar(utf8);
    it(`accepts every generated ${utf8 ? 'RFC 6531 ' : ''}forward-path, with its local part, unless a limit of §4.5.3.1 is passed`, () => {
      run(
        fc.property(g.forwardPath, (path) => {
          inputs++;
          const b = Buffer.from(path, 'utf8');
          const want = oraclePath(b, 'forward');
          const got = implementation(b, 'forward');
          expect(got.verdict, path).toBe(want.verdict);
          expect(want.verdict === 'ok' || want.verdict.endsWith('too-long'), path).toBe(true);
          if (want.verdict === 'ok') {
            expect(b.toString('utf8', got.out.localStart, got.out.localEnd)).toBe(want.localPart);
            expect(got.out.nonAscii).toBe(want.nonAscii);
          }
        }),
      );
    });
    it(`gives mutated ${utf8 ? 'RFC 6531 ' : ''}paths the oracle's verdict, in both roles`, () => {
      run(
        fc.property(g.reversePath, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom<PathRole>('reverse', 'forward'), (path, mutations, role) => {
          inputs++;
          const b = mutate(path, mutations);
          const want = oraclePath(b, role);
          expect(implementation(b, role).verdict, `${role} ${JSON.stringify(b.toString('latin1'))}`).toBe(want.verdict);
        }),
      );
    });
  }

  it('reads generated and mutated esmtp-params as the ABNF does', () => {
    const g = grammar(true);
    run(
      fc.property(fc.array(g.esmtpParam, { maxLength: 4 }), fc.array(mutation, { maxLength: 2 }), fc.constantFrom('', ' ', '\t '), (params, mutations, trailing) => {
        inputs++;
        const text = params.map((p) => ` ${p}`).join('') + trailing;
        const b = Buffer.concat([Buffer.from('<a@b>'), mutations.length === 0 ? Buffer.from(text) : mutate(text, mutations)]);
        const tail = b.subarray(5);
        const decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
        let ok: boolean;
        try {
          ok = PARAMS.test(decoded.decode(tail));
        } catch {
          ok = false;
        }
        expect(parseEsmtpParams(b, 5) !== null, JSON.stringify(tail.toString('latin1'))).toBe(ok);
      }),
    );
  });

  it(`counts its inputs: ${5 * PROPERTY_RUNS}`, () => {
    expect(inputs).toBe(5 * PROPERTY_RUNS);
  });
});
