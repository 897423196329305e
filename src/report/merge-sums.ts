/**
 * Adding runs' figures up for `smtpbench merge`, exactly: histograms add (HdrHistograms add without
 * loss, DESIGN §3 rule 6) and every statistic is recomputed from the sum, with each input's exact
 * maximum; counters add; the reference servers' figures add; generator health is the worst of
 * each; delivery figures add. Nothing is averaged.
 */
import { newHistogram, sizeStatsOf, statsOf, type Histogram, type PhaseStats, type SizeStats } from '../metrics/histogram.js';
import type { DeliveryReport } from './sink.js';
import { SATURATION_EVENT_LOOP_P99_MS, type Summary } from './summary.js';

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Adds every histogram of `from` into `into`, by name. */
export function addInto(into: Map<string, Histogram>, from: ReadonlyMap<string, Histogram>): void {
  for (const [key, h] of from) {
    let to = into.get(key);
    if (!to) into.set(key, (to = newHistogram()));
    to.add(h);
  }
}

/** `map` with the names in `order` first (in that order), then the others sorted. */
export function ordered<T>(map: ReadonlyMap<string, T>, order: readonly string[]): Map<string, T> {
  const names = [...order.filter((n) => map.has(n)), ...[...map.keys()].filter((n) => !order.includes(n)).sort()];
  return new Map(names.map((n) => [n, map.get(n)!]));
}

/** The sum of the inputs' figures; null when any is null (unknown stays unknown). */
const sumOrNull = <T>(list: readonly T[], f: (x: T) => number | null): number | null => (list.some((x) => f(x) === null) ? null : list.reduce((a, x) => a + f(x)!, 0));

/**
 * The delivery figures of several shards that each checked the sink (`run --sink`): counts add
 * (null when any is unknown), the drain is done when every shard's was, and the rate is the
 * delivered messages over the longest window (the shards' windows run side by side).
 */
export function mergeDelivery(list: readonly DeliveryReport[]): DeliveryReport {
  const delivered = sumOrNull(list, (d) => d.delivered);
  const windowS = Math.max(...list.map((d) => d.windowS));
  const errors = list.flatMap((d) => (d.error ? [d.error] : []));
  return {
    sink: [...new Set(list.map((d) => d.sink))].join(', '),
    accepted: list.reduce((a, d) => a + d.accepted, 0),
    delivered,
    deliveredAtLeast: list.some((d) => d.deliveredAtLeast),
    deliveredAtLoadEnd: sumOrNull(list, (d) => d.deliveredAtLoadEnd),
    queued: sumOrNull(list, (d) => d.queued),
    drained: list.some((d) => d.drained === false) ? false : list.every((d) => d.drained === true) ? true : null,
    drainStopped: list.some((d) => d.drainStopped),
    drainS: Math.max(...list.map((d) => d.drainS)),
    drainTimeoutS: Math.max(...list.map((d) => d.drainTimeoutS)),
    ratePerS: delivered === null ? null : windowS > 0 ? round(delivered / windowS, 1) : 0,
    windowS,
    // Each shard measured its own clock against the sink: the offset furthest from 0, the widest uncertainty.
    clockOffsetMs: list.map((d) => d.clockOffsetMs).reduce((a, x) => (Math.abs(x) > Math.abs(a) ? x : a), 0),
    clockUncertaintyMs: Math.max(...list.map((d) => d.clockUncertaintyMs)),
    error: errors.length > 0 ? errors.join('; ') : null,
  };
}

/**
 * `stats` with the exact maximum: the largest of the inputs' (each recorded it exactly, while a
 * histogram decoded from its encoding knows only the top of its highest bucket, 3 significant
 * digits). Every other statistic is the merged histogram's own. Inputs without the row (no value
 * there) do not count; with none, `stats` stays as it is.
 */
export function withMax<S extends { count: number; max: number }>(stats: S, inputs: readonly (S | undefined)[]): S {
  const maxima = inputs.flatMap((st) => (st && st.count > 0 ? [st.max] : []));
  return maxima.length === 0 ? stats : { ...stats, max: Math.max(...maxima) };
}

/**
 * The reference servers' figures (embedded, one per machine; null when no input had one): counters
 * added, each histogram's statistics recomputed from the summed histograms (`serverHistograms`,
 * µs; `serverSizes`, bytes) at `percentiles`, with the inputs' exact maxima.
 */
export function mergeServers(
  summaries: readonly Summary[],
  serverHistograms: ReadonlyMap<string, Histogram>,
  serverSizes: ReadonlyMap<string, Histogram>,
  percentiles: readonly number[],
): Summary['server'] {
  const servers = summaries.flatMap((s) => (s.server ? [s.server] : []));
  if (servers.length === 0) return null;
  const counters: Record<string, number> = {};
  for (const sv of servers) for (const [k, n] of Object.entries(sv.counters)) counters[k] = (counters[k] ?? 0) + n;
  const names = (f: (sv: NonNullable<Summary['server']>) => Record<string, unknown> | undefined, m: ReadonlyMap<string, Histogram>): string[] => [
    ...new Set([...servers.flatMap((sv) => Object.keys(f(sv) ?? {})), ...m.keys()]),
  ];
  const histogramsStats: Record<string, PhaseStats> = {};
  for (const n of names((sv) => sv.histograms, serverHistograms))
    histogramsStats[n] = withMax(
      statsOf(serverHistograms.get(n) ?? newHistogram(), percentiles),
      servers.map((sv) => sv.histograms[n]),
    );
  const sizes: Record<string, SizeStats> = {};
  for (const n of names((sv) => sv.sizes, serverSizes))
    sizes[n] = withMax(
      sizeStatsOf(serverSizes.get(n) ?? newHistogram(), percentiles),
      servers.map((sv) => sv.sizes?.[n]),
    );
  return { counters: counters as unknown as NonNullable<Summary['server']>['counters'], histograms: histogramsStats, sizes };
}

/**
 * The load generators' health: the worst of each figure, the schedule lag's p99 from the summed
 * `generator` histograms (µs) when the inputs had them, every worker listed with the input it came from.
 */
export function mergeGenerators(summaries: readonly Summary[], generator: ReadonlyMap<string, Histogram>): Summary['generator'] {
  // An aborted input's health is unknown: the others' still tell; with none known, the merge's is unknown too.
  const known = summaries.flatMap((s, input) => (s.generator === null ? [] : [{ g: s.generator, input }]));
  if (known.length === 0) return null;
  const lag = generator.get('scheduleLag');
  type G = NonNullable<Summary['generator']>;
  const worst = (f: (g: G) => number | null | undefined): number => Math.max(0, ...known.map(({ g }) => f(g) ?? 0));
  const utilizations = known.map(({ g }) => g.eventLoopUtilizationMax).filter((u) => u !== null && u !== undefined);
  const loopP99 = worst((g) => g.eventLoopDelayP99Ms);
  return {
    eventLoopDelayP99Ms: loopP99,
    eventLoopDelayMaxMs: worst((g) => g.eventLoopDelayMaxMs),
    eventLoopUtilizationMax: utilizations.length > 0 ? Math.max(...utilizations) : null,
    // From the merged histogram; inputs without it (older summaries) give their own worst.
    scheduleLagP99Ms: lag && lag.totalCount > 0 ? lag.getValueAtPercentile(99) / 1000 : worst((g) => g.scheduleLagP99Ms),
    // The inputs' own maxima are exact (see withMax).
    scheduleLagMaxMs: worst((g) => g.scheduleLagMaxMs),
    saturated: known.some(({ g }) => g.saturated) || loopP99 > SATURATION_EVENT_LOOP_P99_MS,
    workers: known.flatMap(({ g, input }) => (g.workers ?? []).map((w) => ({ ...w, input }))),
  };
}
