/**
 * Thresholds (k6's pass/fail criteria, https://grafana.com/docs/k6/latest/using-k6/thresholds/):
 * the profile's `thresholds` and the `--threshold` flags, parsed into `Threshold`s that
 * report/thresholds.ts evaluates on a run.
 *
 * Syntax: `<metric> <op> <value>`, spaces optional, op one of `<` `<=` `>` `>=` `==` `!=`. The value
 * is in the metric's unit (docs/results.md "Thresholds"):
 * - latencies (ms): a bare number is ms; or `500us` (`µs`), `250ms`, `0.25s`;
 * - ratios: `0.1%` (= 0.001) or a bare ratio 0..1 (`0.001`);
 * - rates: a bare number per second (`900`, or `900/s`; `bytes.rate` in MB/s, also `12MB/s`);
 * - counts: a bare number; booleans: `true` / `false` with `==` / `!=` only.
 * Numbers may have an exponent (`1e9`) and are never negative. The metric is looked up in the one
 * catalog (metrics/catalog.ts `resolveMetric`).
 */
import { z } from 'zod';
import { knownMetrics, resolveMetric, type Metric } from '../metrics/catalog.js';
import { bool, duration, isPlainObject, show } from './fields.js';
import type { Threshold, ThresholdOp } from './types.js';

/** k6's documentation of the syntax this follows. */
export const K6_THRESHOLDS_DOC = 'https://grafana.com/docs/k6/latest/using-k6/thresholds/';

const EXPRESSION = /^\s*([^\s<>=!]+)\s*(<=|>=|==|!=|<|>)\s*(.*?)\s*$/;
const NUMBER = /^(\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?/i;

/** The limit `text` in the unit of `m`. @throws Error saying which values `m` takes */
function parseLimit(text: string, m: Metric, op: ThresholdOp): number | boolean {
  if (m.unit === 'bool') {
    if (op !== '==' && op !== '!=') throw new Error(`${m.name} is true or false: compare it with == or !=`);
    if (text === 'true' || text === 'false') return text === 'true';
    throw new Error(`${m.name} is true or false, got ${JSON.stringify(text)}`);
  }
  const units = Object.keys(m.suffixes);
  const expected = `a number${units.length > 0 ? ` (bare${m.unit === 'ms' ? ' = ms' : ''}, or with ${units.join(', ')})` : ''}`;
  if (text === '') throw new Error(`missing value: expected ${expected}`);
  if (text.startsWith('-')) throw new Error(`the value cannot be negative: ${JSON.stringify(text)}`);
  const num = NUMBER.exec(text);
  if (!num) throw new Error(`expected ${expected}, got ${JSON.stringify(text)}`);
  const amount = Number(num[0]);
  if (!Number.isFinite(amount)) throw new Error(`the value ${JSON.stringify(num[0])} is too large`);
  if (m.unit === 'count' && !Number.isInteger(amount)) throw new Error(`${m.name} is a count: expected a whole number, got ${JSON.stringify(text)}`);
  const suffix = text.slice(num[0].length).trim().toLowerCase();
  if (suffix === '') {
    if (m.unit === 'ratio' && amount > 1) throw new Error(`${m.name} is a ratio 0..1: ${text} would be ${amount * 100} %; write ${text}% for percent`);
    return amount;
  }
  const convert = m.suffixes[suffix];
  if (convert === undefined) {
    const what = m.unit === 'ms' ? 'a latency in ms' : m.unit === 'ratio' ? 'a ratio' : m.unit === 'per-second' ? 'a rate per second' : 'a count';
    throw new Error(`unit ${JSON.stringify(suffix)} does not fit ${m.name}, ${what}: expected ${expected}`);
  }
  if (suffix === '%' && amount > 100) throw new Error(`${m.name} is a ratio: ${text} is more than 100 %`);
  return convert(amount);
}

/**
 * Parses one threshold expression, `<metric> <op> <value>` (see the module comment; k6's
 * aggregation spellings `p(99)`, `avg`, `med` are taken as `p99`, `mean`, `p50`).
 *
 * @throws Error with a message naming what is wrong (no operator, unknown metric, bad value or unit)
 */
export function parseThreshold(text: string, options: { abortOnFail?: boolean; delayAbortEvalMs?: number } = {}): Threshold {
  const e = EXPRESSION.exec(text);
  if (!e) throw new Error(`expected "<metric> <op> <value>" (op: <, <=, >, >=, ==, !=), got ${JSON.stringify(text)}`);
  const [, name, op, value] = e as unknown as [string, string, ThresholdOp, string];
  const m = resolveMetric(name);
  return {
    expression: text.trim(),
    metric: m.name,
    op,
    limit: parseLimit(value, m, op),
    unit: m.unit,
    abortOnFail: options.abortOnFail ?? false,
    delayAbortEvalMs: options.delayAbortEvalMs ?? 0,
  };
}

/** k6's threshold object: `{threshold: "p(99) < 250", abortOnFail: true, delayAbortEval: "10s"}`. */
const ThresholdObjectSchema = z.strictObject({
  threshold: z.string({ error: (iss) => `expected a threshold expression, got ${show(iss.input)}` }),
  abortOnFail: bool().optional(),
  delayAbortEval: duration(0).optional(),
});

/**
 * Parses a `thresholds` value: a list of entries, or k6's map form `{metric: entry | [entry…]}`
 * where an entry is an expression or a `{threshold, abortOnFail, delayAbortEval}` mapping. In the map
 * form an expression that starts with an operator applies to the key (`"errors.rate": "< 0.1%"`),
 * else it is a statistic of the key (`transaction: "p(99) < 250ms"` → `transaction.p(99) < 250ms`).
 * Every bad entry is reported through `issue` with its path below `thresholds` (`[2]`, `[transaction, 0]`).
 */
export function resolveThresholds(value: unknown, issue: (path: readonly (string | number)[], message: string) => void): Threshold[] {
  const out: Threshold[] = [];
  const entry = (item: unknown, path: (string | number)[], key: string | null): void => {
    let text: string;
    let abortOnFail = false;
    let delayAbortEvalMs = 0;
    if (isPlainObject(item)) {
      const r = ThresholdObjectSchema.safeParse(item);
      if (!r.success) {
        for (const iss of r.error.issues) {
          if (iss.code === 'unrecognized_keys') for (const k of iss.keys) issue([...path, k], 'unknown key (expected threshold, abortOnFail, delayAbortEval)');
          else issue([...path, ...iss.path.map(String)], iss.message);
        }
        // The expression may be wrong too: say so in the same message.
        if (typeof item.threshold !== 'string') return;
      }
      text = item.threshold as string;
      abortOnFail = r.data?.abortOnFail ?? false;
      delayAbortEvalMs = r.data?.delayAbortEval ?? 0;
      if (item.delayAbortEval !== undefined && (item.abortOnFail === undefined || item.abortOnFail === false)) issue([...path, 'delayAbortEval'], 'applies only with abortOnFail: true');
    } else if (typeof item === 'string') {
      text = item;
    } else {
      issue(path, `expected a threshold expression such as "transaction.p99 < 250ms" or {threshold, abortOnFail}, got ${show(item)}`);
      return;
    }
    const expression = key === null ? text : /^\s*[<>=!]/.test(text) ? `${key} ${text.trim()}` : `${key}.${text.trim()}`;
    try {
      out.push(parseThreshold(expression, { abortOnFail, delayAbortEvalMs }));
    } catch (err) {
      const message = (err as Error).message;
      issue(path, message.includes(JSON.stringify(expression)) ? message : `${JSON.stringify(expression)}: ${message}`);
    }
  };
  if (Array.isArray(value)) value.forEach((item, i) => entry(item, [i], null));
  else if (isPlainObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (Array.isArray(v)) v.forEach((item, i) => entry(item, [key, i], key));
      else entry(v, [key], key);
    }
  } else issue([], `expected a list of threshold expressions or a mapping of metric → expressions, got ${show(value)}`);
  return out;
}

/** `thresholds`: `resolveThresholds` as a schema field, each problem an issue below `thresholds`. */
export const ThresholdsSchema = z.unknown().transform((value, ctx) => resolveThresholds(value, (path, message) => ctx.addIssue({ code: 'custom', message, path: [...path] })));

/**
 * The list of known metrics for an error message, when one of `issues` is a threshold that names
 * an unknown metric or has no metric at all (a wrong value under a known metric needs no list),
 * else undefined.
 */
export function knownMetricsNote(issues: readonly { readonly path: string; readonly message: string }[]): string | undefined {
  const lost = issues.some((i) => (i.path.startsWith('thresholds') || i.path.startsWith('--threshold')) && /unknown metric|expected "<metric>/.test(i.message));
  return lost
    ? `known metrics (docs/results.md "Thresholds"):\n${knownMetrics()
        .map((l) => `    ${l}`)
        .join('\n')}`
    : undefined;
}
