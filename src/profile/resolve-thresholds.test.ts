import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ProfileError } from '../errors.js';
import { resolveProfile } from './resolve.js';
import { errorOf } from './errors.testkit.js';

const issues = (err: ProfileError) => Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
const brief = (p: ReturnType<typeof resolveProfile>) => p.thresholds.map((t) => [t.expression, t.metric, t.limit, t.abortOnFail, t.delayAbortEvalMs]);

describe('resolveProfile: thresholds', () => {
  it('takes a list of expressions and k6 threshold objects', () => {
    const p = resolveProfile(
      parse(`
thresholds:
  - transaction.p99 < 250ms
  - {threshold: "errors.rate < 0.1%", abortOnFail: true, delayAbortEval: 10s}
  - {threshold: "messages.rate > 900"}
`),
    );
    expect(brief(p)).toEqual([
      ['transaction.p99 < 250ms', 'transaction.p99', 250, false, 0],
      ['errors.rate < 0.1%', 'errors.rate', 0.001, true, 10_000],
      ['messages.rate > 900', 'messages.rate', 900, false, 0],
    ]);
    expect(Object.isFrozen(p.thresholds[0])).toBe(true);
  });

  it("takes k6's map form: a metric key with one or more expressions", () => {
    const p = resolveProfile(
      parse(`
thresholds:
  transaction: ["p(99) < 250", "avg < 20ms"]
  errors.rate: "< 0.1%"
  errors: [{threshold: "rate < 1%", abortOnFail: true}]
  generator.saturated: "== false"
`),
    );
    expect(brief(p)).toEqual([
      ['transaction.p(99) < 250', 'transaction.p99', 250, false, 0],
      ['transaction.avg < 20ms', 'transaction.mean', 20, false, 0],
      ['errors.rate < 0.1%', 'errors.rate', 0.001, false, 0],
      ['errors.rate < 1%', 'errors.rate', 0.01, true, 0],
      ['generator.saturated == false', 'generator.saturated', false, false, 0],
    ]);
  });

  it('adds --threshold flags after the profile list, never replacing it', () => {
    const p = resolveProfile({ thresholds: ['transaction.p99 < 1s'], sessions: 3 }, { thresholds: ['messages.rate > 5', 'errors.count == 0'], sessions: 4 });
    expect(p.thresholds.map((t) => t.expression)).toEqual(['transaction.p99 < 1s', 'messages.rate > 5', 'errors.count == 0']);
    expect(p.sessions).toBe(4);
    expect(resolveProfile({}, { thresholds: ['messages.rate > 5'] }).thresholds).toHaveLength(1);
    expect(resolveProfile({}).thresholds).toEqual([]);
  });

  it('names every bad entry by its path, and lists the known metrics once', () => {
    const err = errorOf(
      {
        sessions: 0,
        thresholds: [
          'transaction.p99 < 5%',
          'transactoin.p99 < 5ms',
          { threshold: 'errors.rate < 2', abortOnFail: 'yes', delayAbortEval: 'soon' },
          42,
          { threshold: 'body.p50 < 1', delayAbortEval: '1s', foo: 1 },
          { abortOnFail: true },
        ],
      },
      { thresholds: ['messages.rate >', 'foo'] },
    );
    expect(issues(err)).toEqual({
      sessions: 'must be at least 1',
      'thresholds.0': expect.stringMatching(/^"transaction\.p99 < 5%": unit "%" does not fit transaction\.p99, a latency in ms/),
      'thresholds.1': '"transactoin.p99 < 5ms": unknown metric "transactoin.p99"',
      'thresholds.2.abortOnFail': 'expected true or false, got "yes"',
      'thresholds.2.delayAbortEval': expect.stringMatching(/needs a unit|duration/),
      'thresholds.2': expect.stringMatching(/errors\.rate is a ratio 0\.\.1/),
      'thresholds.3': expect.stringMatching(/expected a threshold expression .* got 42/),
      'thresholds.4.foo': expect.stringMatching(/^unknown key/),
      'thresholds.4.delayAbortEval': 'applies only with abortOnFail: true',
      'thresholds.5.threshold': expect.stringMatching(/expected a threshold expression/),
      '--threshold[0]': expect.stringMatching(/missing value/),
      '--threshold[1]': expect.stringMatching(/expected "<metric> <op> <value>".*got "foo"/),
    });
    expect(err.message.match(/known metrics/g)).toHaveLength(1);
    expect(err.message).toMatch(/<phase>\.<stat> \(ms\), phase: connect, tls/);
    expect(err.message).toMatch(/errors\.rate \(ratio of messages due\)/);
  });

  it('names bad entries of the map form by metric key and index', () => {
    const err = errorOf({ thresholds: { transaction: ['p99 < 5', 'p99 < soon'], 'errors.rate': '< 200%', nope: '< 1' } });
    expect(Object.keys(issues(err))).toEqual(['thresholds.transaction.1', 'thresholds.errors.rate', 'thresholds.nope']);
    expect(issues(err)['thresholds.nope']).toBe('"nope < 1": unknown metric "nope"');
  });

  it('refuses a thresholds value that is neither a list nor a mapping', () => {
    expect(issues(errorOf({ thresholds: 'transaction.p99 < 5' }))).toEqual({ thresholds: expect.stringMatching(/expected a list of threshold expressions or a mapping/) });
  });

  it('leaves the metric list out when no threshold is wrong', () => {
    expect(errorOf({ sessions: 0, thresholds: ['transaction.p99 < 5'] }).message).not.toMatch(/known metrics/);
  });

  it('leaves the metric list out when the metric is known and only its value is wrong', () => {
    const err = errorOf({ thresholds: ['transaction.p99 <', 'transaction.p99 < 5 parsecs'] });
    expect(err.message).toMatch(/transaction\.p99/);
    expect(err.message).not.toMatch(/known metrics/);
  });

  it("resolves the docs' threshold examples", () => {
    const profiles = readFileSync(new URL('../../docs/profiles.md', import.meta.url), 'utf8');
    const profileBlock = parse(/```yaml\n(target:[\s\S]*?)```/.exec(profiles)![1]) as { thresholds: unknown };
    expect(brief(resolveProfile({ thresholds: profileBlock.thresholds }))).toEqual([
      ['transaction.p99 < 250ms', 'transaction.p99', 250, false, 0],
      ['errors.rate < 0.1%', 'errors.rate', 0.001, true, 10_000],
    ]);
    const results = readFileSync(new URL('../../docs/results.md', import.meta.url), 'utf8');
    const mapBlock = parse(/```yaml\n(thresholds: +# the map form[\s\S]*?)```/.exec(results)![1]);
    expect(resolveProfile(mapBlock).thresholds.map((t) => t.metric)).toEqual(['transaction.p99', 'transaction.p999', 'errors.rate', 'replies.4xx.rate']);
  });
});
