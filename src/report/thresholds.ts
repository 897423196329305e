/**
 * Threshold verdicts (k6's pass/fail criteria): a profile's thresholds (parsed by
 * profile/thresholds.ts) evaluated on a run's merged result, each metric read through the one
 * catalog (metrics/catalog.ts); k6's abortOnFail checked on the running totals (`liveRun`); and
 * the verdicts as the console, report.md, report.html and JUnit print them. A failed threshold
 * makes the CLI exit 99, as k6 does.
 */
import { resolveMetric, type MetricRun, type MetricUnit } from '../metrics/catalog.js';
import type { Merged } from '../metrics/recorder.js';
import type { Threshold, ThresholdOp } from '../profile/types.js';
import { messageTotals, recipientTotals } from './summary.js';

/** The verdict of one threshold, as summary.json, report.md, report.html and JUnit show it. */
export interface Verdict {
  /** The expression as written, e.g. `transaction.p99 < 250ms`. */
  readonly expression: string;
  /** The canonical metric it reads, e.g. `transaction.p99` (`transaction.p999` for p99.9). */
  readonly metric: string;
  readonly op: ThresholdOp;
  /** Passed. False with no data (value null), and for the threshold that stopped the run (`abort`). */
  readonly ok: boolean;
  /** The measured value in `unit` (ms for latencies, a 0..1 ratio for rates of errors and replies), or null with no data. */
  readonly value: number | boolean | null;
  readonly unit: MetricUnit;
  /** The limit in `unit`. */
  readonly limit: number | boolean;
  /** k6's abortOnFail was set: the threshold was also checked once a second on the running totals. */
  readonly abortOnFail: boolean;
  /**
   * This threshold stopped the run: it failed on the running totals `atS` measured seconds in
   * (after warm-up), with `value`. Null for every other threshold.
   */
  readonly abort: null | { readonly atS: number; readonly value: number | boolean };
}

/** `value op limit`; no data (null) never passes. */
function holds(value: number | boolean | null, op: ThresholdOp, limit: number | boolean): boolean {
  if (value === null) return false;
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

/** The threshold that stopped a run (abortOnFail): its index in the profile's list, when, and its value then. */
export interface AbortRecord {
  readonly index: number;
  readonly atS: number;
  readonly value: number | boolean;
}

/**
 * Evaluates every threshold on `run`, in order. A metric with no data fails (value null): a run
 * that measured nothing must not pass a CI gate. The threshold named by `abort` fails too (it
 * stopped the run), whatever the final value.
 */
export function evaluate(thresholds: readonly Threshold[], run: MetricRun, abort: AbortRecord | null = null): Verdict[] {
  return thresholds.map((t, i) => {
    const value = resolveMetric(t.metric).read(run);
    const stopped = abort !== null && abort.index === i;
    return {
      expression: t.expression,
      metric: t.metric,
      op: t.op,
      ok: holds(value, t.op, t.limit) && !stopped,
      value,
      unit: t.unit,
      limit: t.limit,
      abortOnFail: t.abortOnFail,
      abort: stopped ? { atS: abort.atS, value: abort.value } : null,
    };
  });
}

/**
 * k6's abortOnFail, checked on the running totals: the first abortOnFail threshold, past its
 * `delayAbortEvalMs` of measured time, whose metric has data and fails. No data is not a failure
 * here (the first seconds may not have settled a message yet); it is at the end.
 */
export function abortingThreshold(thresholds: readonly Threshold[], run: MetricRun, measuredS: number): AbortRecord | null {
  for (const [index, t] of thresholds.entries()) {
    if (!t.abortOnFail || measuredS * 1000 < t.delayAbortEvalMs) continue;
    const value = resolveMetric(t.metric).read(run);
    if (value !== null && !holds(value, t.op, t.limit)) return { index, atS: Math.round(measuredS * 1000) / 1000, value };
  }
  return null;
}

/**
 * The running totals of a run in progress (the coordinator's `partial().merged`) as a metric run:
 * rates over `measuredS`, the seconds measured so far (after warm-up); no generator health and no
 * server histograms (both known only at the end).
 */
export function liveRun(merged: Merged, measuredS: number): MetricRun {
  const c = merged.counters;
  return {
    summary: {
      durationS: measuredS,
      totals: {
        messages: messageTotals(c),
        recipients: recipientTotals(c),
        transactions: c.transactions,
        bytes: c.bytes,
      },
      replies: merged.replies,
      enhancedReplies: merged.enhanced,
      errors: merged.errors,
      generator: null,
    },
    histograms: merged.histograms,
    serverHistograms: new Map(),
  };
}

const sig = (x: number): string => String(Number(x.toPrecision(4)));

/** A value for people: `3.214 ms`, `0.12 %`, `4521.3/s`, `12.5 MB/s`, `17`, `false`, `no data`. */
export function formatValue(value: number | boolean | null, unit: MetricUnit, metricName = ''): string {
  if (value === null) return 'no data';
  if (typeof value === 'boolean') return String(value);
  switch (unit) {
    case 'ms':
      return `${Math.round(value * 1000) / 1000} ms`;
    case 'ratio':
      return `${sig(value * 100)} %`;
    case 'per-second':
      return metricName === 'bytes.rate' ? `${Math.round(value * 1000) / 1000} MB/s` : `${Math.round(value * 10) / 10}/s`;
    default:
      return String(value);
  }
}

/** One line per verdict: `PASS transaction.p99 < 250ms (transaction.p99 = 3.214 ms)`. */
export function verdictLine(v: Verdict): string {
  const stopped = v.abort ? `; stopped the run at ${v.abort.atS} s with ${formatValue(v.abort.value, v.unit, v.metric)} (abortOnFail)` : '';
  return `${v.ok ? 'PASS' : 'FAIL'} ${v.expression} (${v.metric} = ${formatValue(v.value, v.unit, v.metric)}${stopped})`;
}

/** The terminal block: a count line, then one line per verdict. Empty when there are none. */
export function renderVerdicts(verdicts: readonly Verdict[]): string {
  if (verdicts.length === 0) return '';
  const failed = verdicts.filter((v) => !v.ok).length;
  return [`thresholds: ${verdicts.length - failed} passed, ${failed} failed`, ...verdicts.map((v) => `  ${verdictLine(v)}`)].join('\n');
}
