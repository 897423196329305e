/**
 * `run.hlog`: the HdrHistogram interval log (format 1.3, as Java's `HistogramLogWriter` writes it,
 * readable by its `HistogramLogProcessor`), one line per phase per second, tagged with the phase.
 * Lines are written synchronously as each second completes, so a crash loses at most the last one.
 * Values are µs; `Interval_Max` is in ms (max value unit ratio 1000).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { HistogramLogWriter } from 'hdr-histogram-js';
import type { IntervalSink } from '../load/coordinator.js';
import type { Histogram } from '../metrics/histogram.js';

export class IntervalLog implements IntervalSink {
  private readonly fd: number;
  private readonly writer: HistogramLogWriter;
  private failed = false;

  /**
   * Creates (truncates) `path` and writes the header.
   * @param startMs wall-clock start of the run, epoch ms; interval timestamps are seconds after it
   * @param onError told once when a write fails (a full disk): the log stops, the run goes on
   * @throws the file system's error when `path` cannot be created
   */
  constructor(
    private readonly path: string,
    private readonly startMs: number,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.fd = openSync(path, 'w');
    this.writer = new HistogramLogWriter((text) => writeSync(this.fd, text));
    this.writer.outputLogFormatVersion();
    this.writer.outputComment('smtpbench interval log: one tagged line per SMTP phase per second; values in microseconds');
    this.writer.outputStartTime(startMs);
    this.writer.outputLegend();
  }

  /** Appends one interval of `phase`, covering epoch ms `fromMs`..`toMs`. */
  write(phase: string, h: Histogram, fromMs: number, toMs: number): void {
    if (this.failed) return;
    h.tag = phase;
    try {
      this.writer.outputIntervalHistogram(h, (fromMs - this.startMs) / 1000, (toMs - this.startMs) / 1000, 1000);
    } catch (err) {
      this.failed = true;
      this.onError(`${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; the rest of the interval log is not written`);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
