/** `smtpbench run [profile]`: resolve, run, report. */
import { Command } from '@commander-js/extra-typings';
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { SmtpBenchError } from '../errors.js';
import { sessionSettings } from '../client/settings.js';
import { startRun, type RunOutcome } from '../load/coordinator.js';
import { defaultProfilePath, loadProfileFile, resolveProfile, type ProfileInput } from '../profile/index.js';
import { readEnvironment } from '../report/environment.js';
import { buildSummary, type Summary } from '../report/summary.js';
import { renderConsole } from '../report/table.js';
import { newRunId, writeResults } from '../report/write.js';
import { IntervalLog } from '../report/hlog.js';
import { progressDisplay } from './progress.js';

/** A flag value as a number when it is one; otherwise the raw text, so the resolver names it in its error. */
const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

export function runCommand() {
  return new Command('run')
    .description('run a load profile (default: profiles/smoke.yaml) against the embedded reference server or --target')
    .argument('[profile]', 'profile file, YAML or JSON')
    .option('--target <url>', 'MTA to load: smtp://HOST:PORT, smtps://HOST:PORT (implicit TLS), lmtp://HOST:PORT (default: the embedded reference server)')
    .option('--workers <n>', 'load worker threads (default: number of cores)', num)
    .option('--sessions <n>', 'concurrent SMTP sessions across all workers', num)
    .option('--messages <n>', 'total messages', num)
    .option('--messages-per-session <n>', 'messages per connection before QUIT and reconnect', num)
    .option('--duration <time>', 'run time bound, e.g. 30s (with --messages: whichever comes first)', num)
    .option('--recipients <n>', 'recipients (RCPT TO) per message', num)
    .option('--size <size>', 'message size, e.g. 4KiB', num)
    .option('--pipelining <mode>', 'auto | off')
    .option('--max-recipients-per-transaction <n>', 'RCPT commands per transaction; more recipients take more transactions', num)
    .option('--body <mode>', 'data | bdat | auto (BDAT when the server offers CHUNKING)')
    .option('--chunk-size <size>', 'BDAT chunk size, e.g. 64KiB', num)
    .option('--text <kind>', 'generated text: ascii | utf8 (8-bit, BODY=8BITMIME)')
    .option('--attachment <size>', 'generated messages carry a base64 attachment of this size, e.g. 100KiB', num)
    .option('--replay <dir>', 'replay the .eml files of a directory instead of generated messages')
    .option('--starttls <mode>', 'off | auto | on (on: a server without STARTTLS is an error)')
    .option('--ca <file>', 'PEM file of CA certificates to trust (e.g. a test CA)')
    .option('--insecure', 'do not verify the server certificate (never the default)')
    .option('--tls-resume', 'resume TLS sessions on reconnect')
    .option('--auth <mechanism>', 'AUTH with PLAIN | LOGIN | CRAM-MD5 | XOAUTH2 | auto (credentials: --credentials or SMTPBENCH_AUTH_USER/SMTPBENCH_AUTH_PASSWORD)')
    .option('--credentials <file>', 'AUTH accounts, one user:password per line')
    .option('--source-ip <addresses>', 'local addresses to connect from, e.g. 127.0.0.2-127.0.0.9 (connections take them in turn)')
    .option('--client-address <addresses>', 'client addresses to announce with --proxy or --xclient, e.g. 192.0.2.1-192.0.2.254')
    .option('--proxy <version>', 'PROXY protocol header before the greeting: off | v1 | v2')
    .option('--xclient', 'announce --client-address with Postfix XCLIENT after EHLO')
    .option('--scenario <mix>', 'units of work by weight, e.g. message=90,VRFY=5,NOOP=5')
    .option('--allow-real-recipients', 'allow non-reserved recipient domains on a non-loopback target')
    .option('--executor <model>', 'closed | open | ramping-rate')
    .option('--rate <msgs/s>', 'open model: arrival rate, messages per second', num)
    .option('--max-sessions <n>', 'open models: most concurrent sessions', num)
    .option('--warmup <time>', 'excluded from every figure, e.g. 2s', num)
    .option('--graceful-stop <time>', 'after a stop, how long transactions in flight may take', num)
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
      if (opts.executor !== undefined) o.executor = opts.executor;
      if (opts.rate !== undefined) o.rate = opts.rate;
      if (opts.maxSessions !== undefined) o.maxSessions = opts.maxSessions;
      if (opts.warmup !== undefined) o.warmup = opts.warmup;
      if (opts.gracefulStop !== undefined) o.gracefulStop = opts.gracefulStop;
      if (opts.allowRealRecipients) o.allowRealRecipients = true;
      const identity = {
        ...(opts.sourceIp !== undefined && { sourceIp: opts.sourceIp }),
        ...(opts.clientAddress !== undefined && { clientAddress: opts.clientAddress }),
        ...(opts.proxy !== undefined && { proxy: opts.proxy }),
        ...(opts.xclient && { xclient: true }),
      };
      if (Object.keys(identity).length > 0) o.identity = identity;
      if (opts.scenario !== undefined) o.scenario = Object.fromEntries(opts.scenario.split(',').map((kv) => kv.split('=')).map(([k, w]) => [k.trim(), num(w ?? '')]));
      const message = {
        ...(opts.recipients !== undefined && { recipients: opts.recipients }),
        ...(opts.size !== undefined && { size: opts.size }),
        ...(opts.maxRecipientsPerTransaction !== undefined && { maxRecipientsPerTransaction: opts.maxRecipientsPerTransaction }),
        ...(opts.body !== undefined && { body: opts.body }),
        ...(opts.chunkSize !== undefined && { chunkSize: opts.chunkSize }),
        ...(opts.text !== undefined && { text: opts.text }),
        ...(opts.replay !== undefined && { replay: opts.replay }),
        ...(opts.attachment !== undefined && { attachment: opts.attachment }),
      };
      if (Object.keys(message).length > 0) o.message = message;
      const tls = {
        ...(opts.starttls !== undefined && { starttls: opts.starttls }),
        ...(opts.ca !== undefined && { ca: opts.ca }),
        ...(opts.insecure && { verify: false }),
        ...(opts.tlsResume && { resume: true }),
      };
      if (Object.keys(tls).length > 0) o.tls = tls;
      const auth = { ...(opts.auth !== undefined && { mechanism: opts.auth }), ...(opts.credentials !== undefined && { credentialsFile: opts.credentials }) };
      if (Object.keys(auth).length > 0) o.auth = auth;
      const profile = resolveProfile(input, overrides, `profile ${path} with flags`);
      // Read the CA and credentials files now: a bad one is a usage error naming its key, before any thread starts.
      sessionSettings(profile);
      const runId = newRunId(basename(path, extname(path)));
      const outDir = resolve(opts.out ?? `results/${runId}`);
      mkdirSync(outDir, { recursive: true });
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
      const onSignal = (): void => {
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
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const failure = noSuccess(finish(outcome, false));
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
