/**
 * Thresholds (k6's pass/fail criteria): expressions such as `transaction.p99 < 250ms` evaluated on
 * a run's merged result. A failed threshold makes the CLI exit 99, as k6 does.
 */

/** The verdict of one threshold, as summary.json, report.md, report.html and JUnit show it. */
export interface Verdict {
  /** The expression as written, e.g. `transaction.p99 < 250ms`. */
  readonly expression: string;
  /** The metric it reads, e.g. `transaction.p99`. */
  readonly metric: string;
  readonly ok: boolean;
  /** The measured value in `unit` (ms for latencies, a 0..1 ratio for rates of errors and replies), or null with no data. */
  readonly value: number | boolean | null;
  readonly unit: 'ms' | 'ratio' | 'per-second' | 'count' | 'bool';
  /** The limit in `unit`. */
  readonly limit: number | boolean;
  /** k6's abortOnFail: the run stopped early once this threshold failed on the running totals. */
  readonly abortOnFail: boolean;
}
