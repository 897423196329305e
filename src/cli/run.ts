/** `smtpbench run [profile]`: resolve, run, report. */
import { Command } from '@commander-js/extra-typings';
import { basename, extname, resolve } from 'node:path';
import { SmtpBenchError } from '../errors.js';
import { startRun, type Progress } from '../load/coordinator.js';
import { defaultProfilePath, loadProfileFile, resolveProfile, type ProfileInput } from '../profile/index.js';
import { readEnvironment } from '../report/environment.js';
import { buildSummary, type Summary } from '../report/summary.js';
import { renderConsole } from '../report/table.js';
import { newRunId, writeResults } from '../report/write.js';

/** A flag value as a number when it is one; otherwise the raw text, so the resolver names it in its error. */
const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

export function runCommand() {
  return new Command('run')
    .description('run a load profile (default: profiles/smoke.yaml) against the embedded reference server or --target')
    .argument('[profile]', 'profile file, YAML or JSON')
    .option('--target <url>', 'MTA to load, smtp://HOST:PORT (default: the embedded reference server)')
    .option('--workers <n>', 'load worker threads (default: number of cores)', num)
    .option('--sessions <n>', 'concurrent SMTP sessions across all workers', num)
    .option('--messages <n>', 'total messages', num)
    .option('--messages-per-session <n>', 'messages per connection before QUIT and reconnect', num)
    .option('--duration <time>', 'run time bound, e.g. 30s (with --messages: whichever comes first)', num)
    .option('--recipients <n>', 'recipients (RCPT TO) per message', num)
    .option('--size <size>', 'message size, e.g. 4KiB', num)
    .option('--pipelining <mode>', 'auto | off')
    .option('--seed <n>', 'random seed, recorded in the summary', num)
    .option('--out <dir>', 'results directory (default: results/<run-id>)')
    .option('--json', 'print summary.json to stdout instead of the table')
    .option('--quiet', 'no progress lines')
    .action(async (profileArg, opts) => {
      const path = profileArg ?? defaultProfilePath();
      const input = loadProfileFile(path);
      const overrides: ProfileInput = {};
      const o = overrides as Record<string, unknown>;
      if (opts.target !== undefined) o.target = opts.target;
      if (opts.workers !== undefined) o.workers = opts.workers;
      if (opts.sessions !== undefined) o.sessions = opts.sessions;
      if (opts.messages !== undefined) o.messages = opts.messages;
      if (opts.messagesPerSession !== undefined) o.messagesPerSession = opts.messagesPerSession;
      if (opts.duration !== undefined) o.duration = opts.duration;
      if (opts.pipelining !== undefined) o.pipelining = opts.pipelining;
      if (opts.seed !== undefined) o.seed = opts.seed;
      if (opts.recipients !== undefined || opts.size !== undefined) {
        o.message = { ...(opts.recipients !== undefined && { recipients: opts.recipients }), ...(opts.size !== undefined && { size: opts.size }) };
      }
      const profile = resolveProfile(input, overrides, `profile ${path} with flags`);
      const runId = newRunId(basename(path, extname(path)));
      const outDir = resolve(opts.out ?? `results/${runId}`);
      const onProgress = opts.quiet ? undefined : (p: Progress) => process.stderr.write(`${progressLine(p)}\n`);
      const handle = startRun(profile, onProgress);
      let interrupts = 0;
      const onSignal = (): void => {
        if (++interrupts === 1) {
          process.stderr.write('smtpbench: stopping; transactions in flight finish, then results are written (Ctrl-C again to abort)\n');
          handle.stop();
        } else {
          process.exit(130);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const outcome = await handle.outcome;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const summary = buildSummary(runId, profile, outcome, readEnvironment());
      writeResults(outDir, summary, outcome);
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(`${renderConsole(summary)}\nresults: ${outDir}\n`);
      const failure = noSuccess(summary);
      if (failure) throw new SmtpBenchError('SB_NO_SUCCESS', `${failure} (results: ${outDir})`);
    });
}

/** One plain progress line (live display with a TTY library comes with the load-model issue). */
function progressLine(p: Progress): string {
  const s = p.elapsedMs / 1000;
  const c = p.counters;
  return `[${s.toFixed(0)}s] messages ${c.messagesAccepted} accepted (${(c.messagesAccepted / s).toFixed(0)}/s), ${c.messagesRejected} rejected, ${c.messagesFailed} failed · recipients ${c.recipientsAccepted} (${(c.recipientsAccepted / s).toFixed(0)}/s) · sessions ${p.activeSessions}`;
}

/** Exit code 1 rule: something was to be sent and not one transaction succeeded. Names the target. */
function noSuccess(s: Summary): string | null {
  const m = s.totals.messages;
  if (m.accepted > 0 || m.attempted + m.abandoned === 0) return null;
  const errors = Object.entries(s.errors).map(([k, n]) => `${k} ×${n}`).join(', ') || 'every message was rejected';
  return `no transaction succeeded against ${s.target.url}: ${errors}`;
}
