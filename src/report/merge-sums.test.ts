import { describe, expect, it } from 'vitest';
import { mergeDelivery } from './merge-sums.js';
import type { DeliveryReport } from './sink.js';

describe('mergeDelivery', () => {
  const d = (over: Partial<DeliveryReport>): DeliveryReport => ({
    sink: 'http://127.0.0.1:8025',
    accepted: 100,
    delivered: 100,
    deliveredAtLeast: false,
    deliveredAtLoadEnd: 90,
    queued: 0,
    drained: true,
    drainStopped: false,
    drainS: 1,
    drainTimeoutS: 60,
    ratePerS: 50,
    windowS: 2,
    clockOffsetMs: 1,
    clockUncertaintyMs: 0.5,
    error: null,
    ...over,
  });

  it('adds counts, keeps unknown unknown, and is drained only when every shard was', () => {
    const m = mergeDelivery([d({}), d({ accepted: 50, delivered: 40, queued: 10, drained: false, drainS: 60, windowS: 4, clockOffsetMs: -3 })]);
    expect(m).toMatchObject({ accepted: 150, delivered: 140, queued: 10, drained: false, drainS: 60, windowS: 4, ratePerS: 35, clockOffsetMs: -3, deliveredAtLoadEnd: 180 });
    expect(mergeDelivery([d({}), d({ delivered: null, queued: null, drained: null, error: 'sink restarted' })])).toMatchObject({
      delivered: null,
      queued: null,
      drained: null,
      ratePerS: null,
      error: 'sink restarted',
    });
  });
});
