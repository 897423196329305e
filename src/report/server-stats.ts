import * as hdr from 'hdr-histogram-js';
import type { Histogram } from '../metrics/histogram.js';
import type { ServerStats } from '../server/stats.js';

/** Decodes the server thread's encoded histograms, by name (`cmd.mail`, `data-stream`). */
export function decodeServerStats(stats: ServerStats): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const [name, b64] of Object.entries(stats.histograms)) out.set(name, hdr.decodeFromCompressedBase64(b64, 32, false));
  return out;
}
