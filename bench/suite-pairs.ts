/**
 * The side-by-side runner of the macro suite: every column of a case runs once per round, in a
 * fixed order (A B A B …), after one uncounted warm-up round; each figure is a median over the
 * counted rounds, and each ratio is the median of the per-round ratios to the case's baseline
 * column, so a change of the machine's speed between rounds cancels out (bench/README.md).
 */

/** One run of one column. */
export interface Sample {
  /** Whole process (load generator), spawn to exit, seconds. */
  readonly wallS: number;
  /** Messages sent (a fan-out message counts once). */
  readonly messages: number;
  /** What the case's rate counts: messages, recipients or MB (10^6 octets). */
  readonly units: number;
  /** User + system CPU of the load generator process, seconds. */
  readonly generatorCpuS: number;
  /** User + system CPU of the sink process during the run, seconds. */
  readonly sinkCpuS: number;
  /** Null when the run did what it should; else why not (it is then left out of every figure). */
  readonly error: string | null;
  /** `smtpbench run` only: its own rate over the load phase (summary.json), start-up excluded. */
  readonly loadRate?: number;
}

/** A column of a case: one load generator against one sink. */
export interface Column {
  readonly name: string;
  /** Null when it can run; else why not (a missing peer). */
  readonly missing: string | null;
  run(): Promise<Sample>;
}

/** Median, min and max of some values (null when there are none). */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The figures of one column over the counted rounds. */
export interface ColumnResult {
  readonly name: string;
  readonly missing: string | null;
  /** Counted runs that succeeded / counted runs. */
  readonly ok: string;
  /** Errors of failed runs (at most 3, shortened). */
  readonly errors: string[];
  /** units per second, whole process wall. */
  readonly rate: Spread | null;
  /** `smtpbench run` only: its own rate over the load phase (summary.json), start-up excluded. */
  readonly loadRate: Spread | null;
  /** Median over rounds of this column's rate ÷ the baseline's rate in the same round. */
  readonly ratio: Spread | null;
  /** CPU per message, µs: load generator, sink, both (medians over rounds). */
  readonly cpuPerMsgUs: { readonly generator: number; readonly sink: number; readonly both: number } | null;
  /** Median over rounds of this column's CPU per message ÷ the baseline's: generator, and both processes. */
  readonly cpuRatio: { readonly generator: Spread; readonly both: Spread } | null;
  /** Per counted round, for the record. */
  readonly runs: Sample[];
}

/** Median of numbers (NaN for none). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, min and max; null for no values. */
export function spread(xs: readonly number[]): Spread | null {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

const failed = (message: string): Sample => ({ wallS: NaN, messages: 0, units: 0, generatorCpuS: NaN, sinkCpuS: NaN, error: message });

/**
 * Runs `columns` round by round: one warm-up round, then `pairs` counted rounds. The first
 * available column is the baseline of every ratio. A run that throws is recorded as failed; the
 * others go on. `log` gets one line per run.
 */
export async function runRounds(columns: readonly Column[], pairs: number, log: (line: string) => void): Promise<ColumnResult[]> {
  const live = columns.filter((c) => c.missing === null);
  const samples = new Map<string, Sample[]>(live.map((c) => [c.name, []]));
  for (let round = 0; round <= pairs; round++) {
    for (const c of live) {
      let s: Sample;
      try {
        s = await c.run();
      } catch (err) {
        s = failed((err as Error).message);
      }
      log(`  ${round === 0 ? 'warm-up' : `round ${round}/${pairs}`} ${c.name}: ${s.error ?? `${s.wallS.toFixed(3)} s, ${(s.units / s.wallS).toFixed(1)}/s`}`);
      if (round > 0) samples.get(c.name)!.push(s);
    }
  }
  const base = live.length > 0 ? samples.get(live[0].name)! : [];
  const perMsg = (s: Sample, cpu: number): number => (s.error === null ? (cpu / s.messages) * 1e6 : NaN);
  return columns.map((c): ColumnResult => {
    const runs = samples.get(c.name);
    if (!runs) return { name: c.name, missing: c.missing, ok: '0/0', errors: [], rate: null, loadRate: null, ratio: null, cpuPerMsgUs: null, cpuRatio: null, runs: [] };
    const good = runs.filter((s) => s.error === null);
    const rates = runs.map((s) => (s.error === null ? s.units / s.wallS : NaN));
    const baseRates = base.map((s) => (s.error === null ? s.units / s.wallS : NaN));
    const isBase = c.name === live[0].name;
    const genUs = runs.map((s) => perMsg(s, s.generatorCpuS));
    const bothUs = runs.map((s) => perMsg(s, s.generatorCpuS + s.sinkCpuS));
    const baseGenUs = base.map((s) => perMsg(s, s.generatorCpuS));
    const baseBothUs = base.map((s) => perMsg(s, s.generatorCpuS + s.sinkCpuS));
    const ratio = isBase ? null : spread(rates.map((r, i) => r / baseRates[i]));
    const genRatio = spread(genUs.map((u, i) => u / baseGenUs[i]));
    const bothRatio = spread(bothUs.map((u, i) => u / baseBothUs[i]));
    return {
      name: c.name,
      missing: null,
      ok: `${good.length}/${runs.length}`,
      errors: runs
        .filter((s) => s.error !== null)
        .slice(0, 3)
        .map((s) => s.error!.slice(0, 300)),
      rate: spread(rates),
      loadRate: spread(runs.map((s) => (s.error === null && s.loadRate !== undefined ? s.loadRate : NaN))),
      ratio,
      cpuPerMsgUs:
        good.length === 0
          ? null
          : { generator: median(genUs.filter(Number.isFinite)), sink: median(runs.map((s) => perMsg(s, s.sinkCpuS)).filter(Number.isFinite)), both: median(bothUs.filter(Number.isFinite)) },
      cpuRatio: isBase || genRatio === null || bothRatio === null ? null : { generator: genRatio, both: bothRatio },
      runs,
    };
  });
}
