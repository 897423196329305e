import { describe, expect, it } from 'vitest';
import { ServerMetrics } from './stats.js';

describe('ServerMetrics', () => {
  it('histograms are up to date whenever read', () => {
    const m = new ServerMetrics();
    m.record('cmd.noop', 3);
    expect(m.histograms.get('cmd.noop')!.totalCount).toBe(1);
    m.record('cmd.noop', 4);
    m.recordBytes('message-bytes', 1024);
    expect(m.histograms.get('cmd.noop')!.totalCount).toBe(2);
    expect(m.sizes.get('message-bytes')!.maxValue).toBe(1024);
  });
});
