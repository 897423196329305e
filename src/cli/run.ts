/** `smtpbench run [profile]`: resolve, run, report. */
import { Command } from '@commander-js/extra-typings';
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { SmtpBenchError } from '../errors.js';
import { startRun, type RunOutcome } from '../load/coordinator.js';
import { defaultProfilePath, loadProfileFile, resolveProfile, type ProfileInput } from '../profile/index.js';
import { readEnvironment } from '../report/environment.js';
import { buildSummary, type Summary } from '../report/summary.js';
import { renderConsole } from '../report/table.js';
import { clearResults, newRunId, writeResults } from '../report/write.js';
import { IntervalLog } from '../report/hlog.js';
import { progressDisplay } from './progress.js';
import { num } from './flags.js';


export function runCommand() {
  return new Command('run')
    .description('run a load profile (default: profiles/smoke.yaml) against the embedded reference server or --target')
    .argument('[profile]', 'profile file, YAML or JSON')
    .option('--target <url>', 'MTA to load, smtp://HOST:PORT (default: the embedded reference server)')
    .option('--workers <n>', 'load worker threads (default: number of cores)', num)
    .option('--sessions <n>', 'concurrent SMTP sessions across all workers', num)
    .option('--messages <n>', 'total messages', num)
    .option('--messages-per-session <n>', 'messages per connection before QUIT and reconnect', num)
    .option('--duration <time>', 'run time bound, e.g. 30s (with --messages: whichever comes first)')
    .option('--recipients <n>', 'recipients (RCPT TO) per message', num)
    .option('--size <size>', 'message size, e.g. 4KiB', num)
    .option('--pipelining <mode>', 'auto | off')
    .option('--executor <model>', 'closed | open | ramping-rate | ramping-sessions')
    .option('--rate <msgs/s>', 'open model: arrival rate, messages per second', num)
    .option('--max-sessions <n>', 'open models: most concurrent sessions', num)
    .option('--warmup <time>', 'excluded from every figure, e.g. 2s')
    .option('--graceful-stop <time>', 'after a stop, how long transactions in flight may take, e.g. 10s')
    .option('--seed <n>', 'random seed, recorded in the summary', num)
    .option('--out <dir>', 'results directory (default: results/<run-id>)')
    .option('--json', 'print summary.json to stdout instead of the table')
    .option('--quiet', 'no progress lines')
    .action(async (profileArg, opts) => {
      const path = profileArg ?? defaultProfilePath();
      const input = loadProfileFile(path);
      // Flags left out are undefined, which the resolver treats as absent (the file's value stands).
      const overrides = {
        target: opts.target,
        workers: opts.workers,
        sessions: opts.sessions,
        messages: opts.messages,
        messagesPerSession: opts.messagesPerSession,
        duration: opts.duration,
        pipelining: opts.pipelining,
        seed: opts.seed,
        executor: opts.executor,
        rate: opts.rate,
        maxSessions: opts.maxSessions,
        warmup: opts.warmup,
        gracefulStop: opts.gracefulStop,
        message: { recipients: opts.recipients, size: opts.size },
      } as ProfileInput;
      const profile = resolveProfile(input, overrides, `profile ${path} with flags`);
      const runId = newRunId(basename(path, extname(path)));
      const outDir = resolve(opts.out ?? `results/${runId}`);
      try {
        clearResults(outDir);
        mkdirSync(outDir, { recursive: true });
      } catch (err) {
        throw new SmtpBenchError('SB_USAGE', `cannot use ${outDir} as the results directory: ${(err as Error).message}`);
      }
      const display = opts.quiet ? null : progressDisplay();
      const handle = startRun(profile, {
        onProgress: display ? (p) => display.update(p) : undefined,
        intervalLog: (startMs) => new IntervalLog(join(outDir, 'run.hlog'), startMs),
      });
      const finish = (outcome: RunOutcome, aborted: boolean): Summary => {
        display?.done();
        const summary = buildSummary(runId, profile, outcome, readEnvironment(), aborted);
        writeResults(outDir, summary, outcome);
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else process.stdout.write(`${renderConsole(summary)}\nresults: ${outDir}\n`);
        return summary;
      };
      let interrupts = 0;
      let writing = false;
      const onSignal = (): void => {
        // Once the final results are being written, let that finish: it takes milliseconds.
        if (writing) return;
        if (++interrupts === 1) {
          process.stderr.write('\nsmtpbench: stopping; transactions in flight finish, then results are written (Ctrl-C again to abort)\n');
          handle.stop();
          return;
        }
        // Second signal: abort at once, but keep what the completed seconds already merged.
        process.stderr.write('smtpbench: aborted; writing the seconds merged so far\n');
        finish(handle.partial(), true);
        process.exit(130);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const outcome = await handle.outcome;
      writing = true;
      const failure = noSuccess(finish(outcome, false));
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (failure) throw new SmtpBenchError('SB_NO_SUCCESS', `${failure} (results: ${outDir})`);
    });
}

/** Exit code 1 rule: something was to be sent and not one transaction succeeded. Names the target. */
function noSuccess(s: Summary): string | null {
  const m = s.totals.messages;
  if (m.accepted > 0 || m.attempted + m.abandoned === 0) return null;
  const errors = Object.entries(s.errors).map(([k, n]) => `${k} ×${n}`).join(', ') || 'every message was rejected';
  return `no transaction succeeded against ${s.target.url}: ${errors}`;
}
