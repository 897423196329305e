import { Duplex } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildWirePlan } from '../client/message.js';
import type { SessionConfig } from '../client/config.js';
import { Recorder } from '../metrics/recorder.js';
import { ArrivalClock } from './arrivals.js';
import { runOpen } from './open.js';

// A full collection before each reading, so the heap figures are what is still referenced.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A socket whose connection is refused at once, as a dead port on loopback is (no kernel needed). */
function refused(): Duplex {
  const s = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
  process.nextTick(() => s.destroy(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })));
  return Object.assign(s, { setNoDelay: () => s, setKeepAlive: () => s, setTimeout: () => s });
}

describe('open executor against a refusing target (hostile review F12)', () => {
  it('keeps no ended session: memory stays flat while thousands of sessions are created and given up', async () => {
    let dials = 0;
    const cfg: SessionConfig = {
      host: '127.0.0.1',
      port: 9,
      plan: buildWirePlan({ from: 'f@example.test', to: 'r{n}@example.test', recipients: 1, sizeBytes: 256, helo: 'c.example.test' }),
      pipelining: 'auto',
      messagesPerConnection: 100,
      timeouts: { connectMs: 1000, greetingMs: 1000, replyMs: 1000, bodyMs: 1000 },
      recorder: new Recorder(),
      connect: () => (dials++, refused() as never),
    };
    const lane = { offset: 0, stride: 1 };
    const durationMs = 3000;
    const run = runOpen(cfg, {
      clock: new ArrivalClock(lane, 4000, [{ durationMs, target: 4000 }], null),
      maxSessions: 200,
      peakRate: 4000,
      gracefulStopMs: 1000,
      scheduleEndUs: durationMs * 1000,
    });
    const heapAt = async (ms: number): Promise<{ heap: number; dials: number }> => {
      await new Promise((r) => setTimeout(r, ms));
      gc();
      return { heap: process.memoryUsage().heapUsed, dials };
    };
    const early = await heapAt(800);
    const late = await heapAt(1800);
    await run.done;
    const sessions = (late.dials - early.dials) / 3;
    // Enough churn to see a leak: the old list of every session held about 2 KB per ended one here
    // (3.8 MB over 1800 sessions); without it the heap stays within a few hundred KB.
    expect(sessions).toBeGreaterThan(1000);
    expect(late.heap - early.heap).toBeLessThan(sessions * 500);
    expect(cfg.recorder.counters.messagesAbandoned).toBeGreaterThan(0);
  });
});
