/**
 * Live progress, once a second: msg/s, rcpt/s, the interval's transaction p50/p99, errors, active
 * sessions and generator lag. On a TTY (and not CI) it is one refreshing block (log-update);
 * otherwise plain lines, so logs stay readable.
 */
import { logUpdateStderr } from 'log-update';
import type { Progress } from '../load/tick-merger.js';
import type { Counters } from '../metrics/recorder.js';

export interface ProgressDisplay {
  update(p: Progress): void;
  /** Leaves the last refreshed block on screen. */
  done(): void;
}

const ms = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 2 : 1);

/**
 * Text of one progress update; `prev` are the counters one update earlier, `prevMeasuring` whether
 * that update was after warm-up. The counters restart when warm-up ends, so the interval in which it
 * ended has no rate to show (the new totals may be above or below the old ones).
 */
export function progressText(p: Progress, prev: Counters, prevMeasuring = p.measuring): string {
  const c = p.counters;
  const dt = p.intervalS > 0 ? p.intervalS : 1;
  const msgs = Math.max(0, c.messagesAccepted - prev.messagesAccepted) / dt;
  const rcpts = Math.max(0, c.recipientsAccepted - prev.recipientsAccepted) / dt;
  const txn = p.intervals.get('transaction');
  const lat = txn && txn.totalCount > 0 ? `txn p50 ${ms(txn.getValueAtPercentile(50))} p99 ${ms(txn.getValueAtPercentile(99))} ms` : 'txn -';
  const errors = c.messagesRejected + c.messagesFailed + c.messagesDropped;
  return (
    // A last, partial second (the end of the run) gets a decimal, so it is not read as a repeat.
    // The counters restarted inside this interval (the end of warm-up): no rate can be told from them.
    `[${p.elapsedS.toFixed(p.intervalS < 0.95 ? 1 : 0).padStart(3)}s]${p.measuring ? '' : ' warm-up'} ${c.messagesAccepted < prev.messagesAccepted || (p.measuring && !prevMeasuring) ? 'warm-up ended' : `${msgs.toFixed(0)} msg/s · ${rcpts.toFixed(0)} rcpt/s`} · ${lat} · ` +
    `accepted ${c.messagesAccepted} · rejected ${c.messagesRejected} · failed ${c.messagesFailed}` +
    `${c.messagesLate ? ` · late ${c.messagesLate}` : ''}${c.messagesDropped ? ` · dropped ${c.messagesDropped}` : ''}` +
    ` · sessions ${p.activeSessions} · loop p99 ${p.eventLoopDelayP99Ms.toFixed(1)} ms${errors ? '' : ''}`
  );
}

/** A display for stderr: refreshing on an interactive terminal, plain lines elsewhere (or with CI=true). */
export function progressDisplay(): ProgressDisplay {
  const tty = process.stderr.isTTY === true && !process.env.CI;
  let prev: Counters | null = null;
  let prevMeasuring: boolean | null = null;
  return {
    update(p) {
      // The warm-up's last sliver (its timer and the tick timer a few ms apart) is not a second
      // worth a line: its counts still carry into the next line's base.
      if (!p.measuring && p.intervalS < 0.5 && prev !== null) {
        prev = p.counters;
        prevMeasuring = p.measuring;
        return;
      }
      const text = progressText(p, prev ?? { ...p.counters, messagesAccepted: 0, recipientsAccepted: 0 }, prevMeasuring ?? p.measuring);
      prev = p.counters;
      prevMeasuring = p.measuring;
      if (tty) logUpdateStderr(text);
      else process.stderr.write(`${text}\n`);
    },
    done() {
      if (tty) logUpdateStderr.done();
    },
  };
}
