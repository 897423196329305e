/**
 * The capacity search (`smtpbench capacity`): which arrival rates to run, in what order, and when
 * to stop. It lives in `load/` beside the executors because it plans load (a sequence of
 * open-model runs) and does no I/O: the caller hands it a step runner (the CLI's runs a real step
 * with the coordinator; the tests a fake), so the search is unit-tested on its own.
 *
 * The search: a geometric step-up from `startRate` (× `factor`) until a step fails (or `maxRate`
 * passes), then a bisection between the highest passing rate and the lowest failing one until
 * (bad − good) / good ≤ `precision`. Bounded by `maxTimeMs`: a step that could not finish inside
 * the bound is never started.
 *
 * A step passes when every SLO holds, the achieved (accepted) rate is at least
 * `ACHIEVED_RATE_FLOOR` of the offered rate, and the step is reliable. It is unreliable when the
 * generator was saturated (DESIGN §3 rule 7), or when starts were dropped although the SLOs held:
 * such a step is never taken as a pass, and the search stops there with a lower bound ("this machine
 * could not offer more"). A step with dropped starts whose SLOs broke is a failure (the open model
 * drops a start only when every session is busy and ten seconds are due: the target fell behind),
 * shown as not reliable. The starts a step stopped early drops (the backlog still due at the stop)
 * do not make it unreliable.
 *
 * A step cut short by the user (Ctrl-C) is `interrupted`: neither a pass nor a failure (its few
 * seconds say nothing about the rate), and the search ends there; the answer rests on the
 * completed steps only.
 */
import type { ThresholdOp } from '../profile/types.js';

/** A step fails when the accepted rate is below this share of the offered rate (the target did not keep up). */
export const ACHIEVED_RATE_FLOOR = 0.95;

/** A running value this many times beyond its limit stops a step early ("broken badly"). */
export const BROKEN_BADLY_FACTOR = 10;

/** What the search needs to know of one SLO verdict (a `Verdict` of src/report/thresholds.ts satisfies it). */
export interface SloResult {
  readonly metric: string;
  readonly ok: boolean;
}

/** The measurement of one step, as the step runner reports it. */
export interface StepMeasurement {
  /** Offered (scheduled) arrival rate, messages per second. */
  readonly rate: number;
  /** Accepted messages per measured second. */
  readonly achievedRate: number;
  /** The SLO verdicts of the step, in the order given. */
  readonly slos: readonly SloResult[];
  /** The generator could not keep its own clock (`generator.saturated`). */
  readonly saturated: boolean;
  /** Starts dropped (never attempted) and late (started more than 10 ms behind), counted by the open model. */
  readonly dropped: number;
  readonly late: number;
  /** The step was stopped early because an SLO was broken badly (the metric), or null. */
  readonly stoppedEarly: string | null;
  /** The user stopped the step (Ctrl-C) before its planned end. */
  readonly interrupted: boolean;
}

/** A step's verdict: see the module comment. */
export type StepVerdict = 'pass' | 'fail' | 'unreliable' | 'interrupted';

/** The verdict of a step with why, for the curve and the answer. */
export interface JudgedStep<M extends StepMeasurement = StepMeasurement> {
  readonly measurement: M;
  readonly verdict: StepVerdict;
  /** False when the generator saturated, starts were dropped, or the step was interrupted. */
  readonly reliable: boolean;
  /** Why it failed or was unreliable: the first broken SLO's metric, `achieved rate`, `generator saturated`, `N starts dropped`, `interrupted`. Null for a pass. */
  readonly reason: string | null;
}

/** Judges one step (module comment). */
export function judgeStep<M extends StepMeasurement>(m: M): JudgedStep<M> {
  // A step cut short measured a fraction of its time: judging it would give a false pass or break.
  if (m.interrupted) return { measurement: m, verdict: 'interrupted', reliable: false, reason: 'interrupted' };
  // Stopping a step early drops the starts still due (src/load/open.ts): those are the stop's, not the generator's.
  const reliable = !m.saturated && (m.dropped === 0 || m.stoppedEarly !== null);
  const broken = m.slos.find((s) => !s.ok);
  const slow = m.achievedRate < ACHIEVED_RATE_FLOOR * m.rate;
  const failure = broken ? broken.metric : slow ? 'achieved rate' : null;
  // A saturated generator's latencies include its own delays: neither a pass nor a failure of the target.
  if (m.saturated) return { measurement: m, verdict: 'unreliable', reliable, reason: 'generator saturated' };
  if (failure !== null) return { measurement: m, verdict: 'fail', reliable, reason: failure };
  if (m.dropped > 0) return { measurement: m, verdict: 'unreliable', reliable, reason: `${m.dropped} starts dropped` };
  return { measurement: m, verdict: 'pass', reliable, reason: null };
}

/**
 * Whether a running value breaks its SLO badly: for an upper limit (`<`, `<=`) above
 * `BROKEN_BADLY_FACTOR` × the limit, for a lower limit (`>`, `>=`) below the limit divided by it.
 * Equalities and booleans are never "badly" broken (the step runs to its end).
 */
export function brokenBadly(op: ThresholdOp, limit: number | boolean, value: number | boolean | null): boolean {
  if (typeof value !== 'number' || typeof limit !== 'number') return false;
  if (op === '<' || op === '<=') return value > limit * BROKEN_BADLY_FACTOR;
  if (op === '>' || op === '>=') return value < limit / BROKEN_BADLY_FACTOR;
  return false;
}

/** Search settings (CLI flags of the same names). */
export interface SearchOptions {
  /** First rate, messages per second (> 0). */
  readonly startRate: number;
  /** Step-up factor (> 1). */
  readonly factor: number;
  /** Highest rate to offer, or null for no bound. */
  readonly maxRate: number | null;
  /** Stop bisecting when (bad − good) / good ≤ this (e.g. 0.05). */
  readonly precision: number;
  /** The whole search's time bound, ms. */
  readonly maxTimeMs: number;
  /** What one step is planned to take, ms (`plannedStepMs`); the longest step so far counts when longer. */
  readonly stepTimeMs: number;
}

/** Time to start a step's workers and sessions, ms, counted in `plannedStepMs`. */
export const STEP_START_MS = 1000;

/**
 * The longest one step can take, ms: warm-up + measured step + `STEP_START_MS` + the step's
 * gracefulStop (after the schedule ends, due messages may still start and in-flight ones finish
 * for up to gracefulStop: a stalled target's step takes all of it). The one figure both the
 * `--max-time` validation and the search's budget use.
 */
export function plannedStepMs(warmupMs: number, stepMs: number, gracefulStopMs: number): number {
  return warmupMs + stepMs + STEP_START_MS + gracefulStopMs;
}

/** Rates are rounded to 0.1 msg/s (step directories and the curve show them so). */
export const roundRate = (x: number): number => Math.round(x * 10) / 10;

/** The step-up after `rate`: `rate` × `factor`, rounded to 0.1 msg/s (the CLI refuses a factor for which this does not rise from the start rate). */
export function nextRate(rate: number, factor: number): number {
  return roundRate(rate * factor);
}

/**
 * Why the search ended:
 * - `found`: a passing and a failing rate within `precision`;
 * - `generator`: a step was unreliable (the generator could not offer the rate); the last pass is a lower bound;
 * - `max-rate`: `maxRate` passed, nothing broke;
 * - `max-time`: the next step would not have finished within `maxTimeMs`;
 * - `fails-at-start`: the first step failed (no passing step);
 * - `interrupted`: stopped by the user (the last step, if cut short, is `interrupted`).
 */
export type SearchEnd = 'found' | 'generator' | 'max-rate' | 'max-time' | 'fails-at-start' | 'interrupted';

/** The search's result: every step in order, and the answer. */
export interface SearchResult<M extends StepMeasurement = StepMeasurement> {
  readonly steps: readonly JudgedStep<M>[];
  readonly end: SearchEnd;
  /** The highest passing rate, or null when no step passed. */
  readonly sustained: JudgedStep<M> | null;
  /** The lowest failing rate above `sustained` (or the first step when it failed), or null. */
  readonly breaks: JudgedStep<M> | null;
  /** The first unreliable step the search stopped at, or null. */
  readonly unreliable: JudgedStep<M> | null;
}

/**
 * Runs the search. `runStep(rate, index)` runs one step at `rate` messages per second; `now()` is
 * a monotonic clock in ms (injected for tests); `interrupted()` is asked before each step.
 * Rates are rounded to 0.1 msg/s; a bisection midpoint that rounds onto a bound ends the search.
 * @throws what `runStep` throws (the caller keeps the steps it was told about through its own runner)
 */
export async function searchCapacity<M extends StepMeasurement>(
  opts: SearchOptions,
  runStep: (rate: number, index: number) => Promise<M>,
  now: () => number,
  interrupted: () => boolean = () => false,
): Promise<SearchResult<M>> {
  const steps: JudgedStep<M>[] = [];
  // The budget counts from the first step's start: a --max-time that fits one planned step runs it.
  const t0 = now();
  let longest = opts.stepTimeMs;
  let good: JudgedStep<M> | null = null;
  let bad: JudgedStep<M> | null = null;
  let rate = roundRate(opts.maxRate === null ? opts.startRate : Math.min(opts.startRate, opts.maxRate));
  const done = (end: SearchEnd, unreliable: JudgedStep<M> | null = null): SearchResult<M> => ({ steps, end, sustained: good, breaks: bad, unreliable });
  for (;;) {
    if (interrupted()) return done('interrupted');
    // Never start a step that cannot finish within the bound.
    const elapsed = steps.length === 0 ? 0 : now() - t0;
    if (elapsed + longest > opts.maxTimeMs) return done('max-time');
    const started = now();
    const step = judgeStep(await runStep(rate, steps.length));
    longest = Math.max(longest, now() - started);
    steps.push(step);
    if (step.verdict === 'interrupted') return done('interrupted');
    if (step.verdict === 'unreliable') return done('generator', step);
    if (step.verdict === 'pass') good = step;
    else if (bad === null || rate < bad.measurement.rate) bad = step;
    if (good === null) return done('fails-at-start');
    if (bad === null) {
      // Step-up phase.
      if (opts.maxRate !== null && rate >= roundRate(opts.maxRate)) return done('max-rate');
      // At least +0.1 msg/s, so a step-up never repeats a rate (the CLI refuses a factor too small for that).
      const up = Math.max(nextRate(rate, opts.factor), roundRate(rate + 0.1));
      rate = opts.maxRate === null ? up : Math.min(up, roundRate(opts.maxRate));
      continue;
    }
    const g = good.measurement.rate;
    const b = bad.measurement.rate;
    if ((b - g) / g <= opts.precision) return done('found');
    // Strictly between the bounds, and every rate run so far is ≤ g or ≥ b: a bisection never repeats a rate.
    const mid = roundRate((g + b) / 2);
    if (mid <= g || mid >= b) return done('found');
    rate = mid;
  }
}
