import { decodeHistogram, type Histogram } from '../metrics/histogram.js';
import type { ServerStats } from '../server/stats.js';

/** Decodes the server thread's encoded µs histograms (`cmd.mail`, `data-stream`), or with `sizes` its byte histograms (`message-bytes`). */
export function decodeServerStats(stats: ServerStats, table: 'histograms' | 'sizes' = 'histograms'): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const [name, b64] of Object.entries(stats[table] ?? {})) out.set(name, decodeHistogram(b64));
  return out;
}
