/**
 * One histogram configuration everywhere (DESIGN §3 rule 1): integer microseconds,
 * 1 µs .. 1 h, 3 significant digits, JS 32-bit buckets (hdr-histogram-js 3.0.1). Values are
 * rounded and clamped before recording: the library silently accepts fractions and throws
 * above its range.
 */
// Its modules, not the package's index: the index loads HistogramLogWriter, whose module body makes
// an Intl.NumberFormat, the thread's first use of ICU: about 17 ms of every thread's start (issue 14).
import { build } from 'hdr-histogram-js/dist/HistogramBuilder.js';
import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js/dist/encoding.js';
import logReader from 'hdr-histogram-js/dist/HistogramLogReader.js';
import jsHistogram from 'hdr-histogram-js/dist/JsHistogram.js';
import type { Histogram } from 'hdr-histogram-js';

/**
 * The class a CommonJS module of hdr-histogram-js exports as `exports.default`. Loaders disagree
 * on what a default import of such a module is: module.exports for Node and esbuild (the bundle),
 * exports.default for vitest; either way, the class.
 */
function classOf<T>(m: T | { default: T }): T {
  return (m as { default?: T }).default ?? (m as T);
}
const HistogramLogReader = classOf(logReader);
/** hdr-histogram-js's JavaScript histogram, the base of every histogram `newHistogram` builds. */
export const JsHistogram = classOf(jsHistogram);

export type { Histogram };

/** Highest recordable value: one hour in microseconds. */
export const HIGHEST_US = 3_600_000_000;

/**
 * Bucket width in bits and backend of every histogram. The V2 encoding does not carry them, so
 * whatever decodes one (`decodeHistogram`, `intervalLogReader`) names them again: from here.
 */
const BIT_BUCKET_SIZE = 32;
const USE_WEB_ASSEMBLY = false;

/** A fresh histogram in the project's single configuration. */
export function newHistogram(): Histogram {
  return build({
    bitBucketSize: BIT_BUCKET_SIZE,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: USE_WEB_ASSEMBLY,
  });
}

/** Records `us` microseconds, rounded to an integer and clamped to 0..1 h. */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(us <= 0 ? 0 : us >= HIGHEST_US ? HIGHEST_US : Math.round(us));
}

/** Values below this are counted exactly in a typed array (see `FastHistogram`). */
const SMALL = 1024;

/**
 * A histogram with an exact fast path for small values. HdrHistogram's bucket-index computation
 * (hdr-histogram-js: `Math.pow`, `Math.log2`) costs more than the rest of a few-µs server command
 * or client reply, so values below `SMALL` are counted in a `Uint32Array` and added in bulk
 * (`recordValueWithCount`) when the histogram is read. Lossless: at 3 significant digits every
 * integer below 2048 has a bucket of its own. Values go through `recordUs` (rounded, clamped).
 */
export class FastHistogram {
  private readonly small = new Uint32Array(SMALL);
  private pending = 0;
  constructor(private readonly h: Histogram) {}

  /** Records `v` (µs, or bytes for a size histogram), rounded to an integer. */
  record(v: number): void {
    const x = v <= 0 ? 0 : Math.round(v);
    if (x < SMALL) {
      this.small[x]++;
      // Flush long before a Uint32 count could wrap.
      if (++this.pending >= 1e9) this.histogram();
    } else recordUs(this.h, x);
  }

  /** The histogram, with every pending small value added. */
  histogram(): Histogram {
    if (this.pending > 0) {
      const small = this.small;
      for (let i = 0; i < SMALL; i++) {
        if (small[i] !== 0) {
          this.h.recordValueWithCount(i, small[i]);
          small[i] = 0;
        }
      }
      this.pending = 0;
    }
    return this.h;
  }

  /** Forgets everything recorded, pending small values included. */
  reset(): void {
    if (this.pending > 0) this.small.fill(0);
    this.pending = 0;
    this.h.reset();
  }
}

/** Compressed base64 (the HdrHistogram V2 encoding), the only form that crosses threads and machines (DESIGN §3 rule 6). */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/**
 * Decodes `encodeHistogram` output (a worker's, a server's, a sink's) into a new histogram.
 * @throws Error when `b64` is not an encoded histogram
 */
export function decodeHistogram(b64: string): Histogram {
  return decodeFromCompressedBase64(b64, BIT_BUCKET_SIZE, USE_WEB_ASSEMBLY);
}

/** Decodes `encodeHistogram` output and adds it into `into` (merge by adding, never by averaging percentiles). */
export function addEncoded(into: Histogram, b64: string): void {
  into.add(decodeHistogram(b64));
}

/** A reader of an HdrHistogram interval log (`run.hlog`, complete lines only), decoding in the project's configuration. */
export function intervalLogReader(text: string): InstanceType<typeof HistogramLogReader> {
  return new HistogramLogReader(text, BIT_BUCKET_SIZE, USE_WEB_ASSEMBLY);
}

/**
 * The mean of `h`, each value taken as the middle of its bucket: hdr-histogram-js's `mean`, the
 * same terms added in the same order, in one pass over the counts. The library's getter walks its
 * recorded-values iterator, about 1.5 ms a histogram: most of the summary's cost at a run's end.
 */
export function meanOf(h: Histogram): number {
  const js = h as InstanceType<typeof JsHistogram>;
  if (js.totalCount === 0) return 0;
  let sum = 0;
  for (let i = 0; i < js.countsArrayLength; i++) {
    const count = js.getCountAtIndex(i);
    if (count !== 0) sum += js.medianEquivalentValue(js.valueFromIndex(i)) * count;
  }
  return sum / js.totalCount;
}

/** Summary row of one histogram, in milliseconds (reports are in ms; DESIGN §8). */
export interface PhaseStats {
  readonly count: number;
  readonly unit: 'ms';
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** The run's configured percentiles (`percentiles` in the profile), keyed by the percentile as written: `"50"`, `"99.99"`. */
  readonly percentiles: Readonly<Record<string, number>>;
}

const msOf = (us: number): number => Math.round(us) / 1000;

/** The fixed fields every summary has, by percentile (older summaries have no `percentiles` map). */
const FIXED: Readonly<Record<string, 'p50' | 'p90' | 'p99' | 'p999'>> = { '50': 'p50', '90': 'p90', '99': 'p99', '99.9': 'p999' };

/** Percentile `p` of a summary row: its configured `percentiles` map, else a fixed field; undefined when it has neither. */
export function statsPercentile(stats: PhaseStats, p: number): number | undefined {
  const key = String(p);
  return stats.percentiles?.[key] ?? (FIXED[key] ? stats[FIXED[key]] : undefined);
}

/** Summary row of a histogram of sizes (the server's `message-bytes`), in bytes. */
export interface SizeStats extends Omit<PhaseStats, 'unit'> {
  readonly unit: 'bytes';
}

/** The percentiles a summary shows when none are configured. */
export const DEFAULT_PERCENTILES: readonly number[] = [50, 90, 99, 99.9];

/** count, min, mean and percentiles of `h`, each value passed through `convert`. */
function summarize<U extends string>(h: Histogram, unit: U, convert: (v: number) => number, percentiles: readonly number[]) {
  const count = h.totalCount;
  const at = Object.fromEntries(percentiles.map((p) => [String(p), count === 0 ? 0 : convert(h.getValueAtPercentile(p))]));
  if (count === 0) return { count: 0, unit, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, percentiles: at };
  return {
    count,
    unit,
    min: convert(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.getValueAtPercentile(0)),
    mean: convert(meanOf(h)),
    p50: convert(h.getValueAtPercentile(50)),
    p90: convert(h.getValueAtPercentile(90)),
    p99: convert(h.getValueAtPercentile(99)),
    p999: convert(h.getValueAtPercentile(99.9)),
    // The top of the max's bucket (what the 100th percentile is), as Java's getMaxValue: percentiles are bucket tops, so a raw max
    // (a live histogram's; a decoded one's is a bucket top already) could read below the p99.9
    // (hostile review F19: /stats showed cmd.ehlo p99 3.313 > max 3.312).
    max: convert(h.getValueAtPercentile(100)),
    percentiles: at,
  };
}

/** Percentile summary of a µs histogram, converted to ms with µs precision. */
export function statsOf(h: Histogram, percentiles: readonly number[] = DEFAULT_PERCENTILES): PhaseStats {
  return summarize(h, 'ms', msOf, percentiles);
}

/** Percentile summary of a histogram of byte counts (the recorded values are bytes, not µs). */
export function sizeStatsOf(h: Histogram, percentiles: readonly number[] = DEFAULT_PERCENTILES): SizeStats {
  return summarize(h, 'bytes', Math.round, percentiles);
}

/**
 * The `.hgrm` text (HdrHistogram percentile distribution, as Java's and wrk2's) with values in
 * milliseconds: the µs histogram scaled by 1000.
 */
export function hgrmOf(h: Histogram): string {
  return h.outputPercentileDistribution(5, 1000);
}
