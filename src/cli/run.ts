/** `smtpbench run [profile]`: resolve, run, report. */
import { Command } from '@commander-js/extra-typings';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ProfileError, SmtpBenchError } from '../errors.js';
import { sessionSettings } from '../client/settings.js';
import { startRun, type RunOutcome } from '../load/coordinator.js';
import { defaultProfilePath, loadProfileFile, resolveProfile } from '../profile/index.js';
import { readEnvironment } from '../report/environment.js';
import { junitXml } from '../report/junit.js';
import { decodeServerStats } from '../report/server-stats.js';
import { buildSummary, type ShardInfo, type Summary } from '../report/summary.js';
import { partOf, planShard, WHOLE, type Part } from '../profile/shard.js';
import { measureClockOffset } from '../load/clock-offset.js';
import { shardSettings } from './shard-flags.js';
import { hostname } from 'node:os';
import { abortingThreshold, evaluate, formatValue, liveRun, renderVerdicts, type AbortRecord } from '../report/thresholds.js';
import { errorList, renderConsole } from '../report/table.js';
import { newRunId, writeResults } from '../report/write.js';
import { claimOutDir, makeDirs, settleOutDir } from '../report/out-dir.js';
import { TimelineBuilder, TimelineLog } from '../report/timeline.js';
import { publishRun } from '../report/publish.js';
import { deliveryReport, drainSink, readSink, restarted, sinkAgent, sinkName, type DeliveryReport, type DrainResult, type SinkSnapshot } from '../report/sink.js';
import { credentialIssues } from '../server/certificate.js';
import { onStopSignals } from './signals.js';
import { collect, num, outIssue, outputIssue } from './flags.js';
import { domainFlagIssues, profileOverrides, publishSettings, sinkSettings } from './run-flags.js';

export function runCommand() {
  return new Command('run')
    .description('run a load profile (default: profiles/smoke.yaml) against the embedded reference server or --target')
    .argument('[profile]', 'profile file, YAML or JSON')
    .option('--target <url>', 'MTA to load: smtp://HOST:PORT, smtps://HOST:PORT (implicit TLS), lmtp://HOST:PORT (default: the embedded reference server)')
    .option('--workers <n>', 'load worker threads (default: one per core, one fewer when the target is on this machine)', num)
    .option('--sessions <n>', 'concurrent SMTP sessions across all workers', num)
    .option('--messages <n>', 'total messages', num)
    .option('--messages-per-session <n>', 'messages per connection before QUIT and reconnect', num)
    .option('--duration <time>', 'run time bound, e.g. 30s (with --messages: whichever comes first)')
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
    .option('--domain <domain:weight>', 'weighted recipient domain, e.g. gmail.test:67.4 (repeatable; weights are normalised; envelope.to.domains)', collect, [] as string[])
    .option('--allow-real-recipients', 'allow non-reserved recipient domains on a non-loopback target')
    .option('--executor <model>', 'closed | open | ramping-rate | ramping-sessions')
    .option('--rate <msgs/s>', 'open model: arrival rate, messages per second', num)
    .option('--max-sessions <n>', 'open models: most concurrent sessions', num)
    .option('--warmup <time>', 'excluded from every figure, e.g. 2s')
    .option('--graceful-stop <time>', 'after a stop, how long transactions in flight may take, e.g. 10s')
    .option('--seed <n>', 'random seed, recorded in the summary', num)
    .option('--out <dir>', 'results directory (default: results/<run-id>); replaces only the files an earlier smtpbench run wrote there')
    .option('--force', 'write into an --out directory that holds files smtpbench did not write (same names are replaced, nothing else is touched)')
    .option('--json', 'print summary.json to stdout instead of the table (the table goes to stderr)')
    .option('--ndjson <file>', 'stream one JSON line per second (rates, totals, per-phase p50/p99) to FILE, or - for stdout (the table then goes to stderr)')
    .option('--percentiles <list>', 'percentiles the reports show, e.g. 50,90,99,99.9,99.99 (default 50,90,99,99.9)')
    .option('--quiet', 'no progress lines')
    .option('--threshold <expr>', 'pass/fail criterion, e.g. "transaction.p99 < 250ms" (repeatable; after the profile\'s; docs/results.md "Thresholds"); a failure exits 99', collect, [] as string[])
    .option('--junit <file>', 'write the threshold verdicts as JUnit XML')
    .option('--publish <url>', 'after the results are written, POST summary.json to this http(s) webhook')
    .option('--pushgateway <url>', "after the results are written, PUT the run's figures to this Prometheus Pushgateway (base URL)")
    .option('--publish-required', 'a failed publish exits 1 (default: it prints one line and the exit code stays)')
    .option('--publish-timeout <time>', 'total time for each publish, retries included (default 10s)')
    .option('--shard <i/N>', 'run shard i (0-based) of N: an exact 1/N share of the profile\'s sessions, arrivals and messages (docs/distributed.md "Shards"; also SMTPBENCH_SHARD=i/N)')
    .option('--shards <n>', 'run one of N shards, the index taken from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)')
    .option('--start-at <time>', 'start the load at this time, RFC 3339 (2026-12-07T13:00:00Z) or +30s: the common start of every shard')
    .option('--clock-ref <url>', 'measure this clock against an HTTP server (a `smtpbench serve --http` /stats, or any Date header) and start --start-at on its clock')
    .option('--sink <url>', 'delivery through the target MTA: the stats URL of the `smtpbench serve --http` it relays to, e.g. http://127.0.0.1:8025 (docs/recipes.md "Delivery latency")')
    .option('--drain-timeout <time>', 'with --sink: after the load, how long to wait for the sink to receive every accepted message (default 60s)')
    .action(async (profileArg, opts) => {
      if (opts.json && opts.ndjson === '-') throw new SmtpBenchError('SB_USAGE', '--json and --ndjson - both want standard output: give --ndjson a file');
      const publishing = publishSettings(opts);
      const sinking = sinkSettings(opts);
      const sharding = shardSettings(opts, process.env, Date.now());
      // A shared sink counts every shard's deliveries in each shard's reading: the figures would add up N times.
      if (opts.sink !== undefined && sharding.shard !== null && sharding.shard.count > 1) {
        sharding.issues.push({ path: '--sink', message: "cannot be used with shards: each shard would count the other shards' deliveries as its own (run the delivery check unsharded)" });
      }
      const path = profileArg ?? defaultProfilePath();
      const overrides = profileOverrides(opts);
      const runId = newRunId(basename(path, extname(path)));
      const outDir = resolve(opts.out ?? `results/${runId}`);
      // The flags the resolver does not see (publishing, --junit, --ndjson) are named in the same
      // error as the profile's problems, so one try shows every one.
      const junitPath = opts.junit === undefined ? null : resolve(opts.junit);
      const ndjsonPath = opts.ndjson === undefined || opts.ndjson === '-' ? null : resolve(opts.ndjson);
      const flagIssues = [
        ...publishing.issues,
        ...sinking.issues,
        ...sharding.issues,
        ...domainFlagIssues(opts.domain),
        ...[outputIssue('--junit', junitPath, [outDir]), outputIssue('--ndjson', ndjsonPath, [outDir]), outIssue(opts.out)].filter((i) => i !== null),
      ];
      const source = flagIssues.length > 0 || Object.values(overrides).some((v) => v !== undefined) ? `profile ${path} with flags` : `profile ${path}`;
      let profile;
      try {
        profile = resolveProfile(loadProfileFile(path), overrides, source);
      } catch (err) {
        if (flagIssues.length > 0 && err instanceof ProfileError) throw new ProfileError([...err.issues, ...flagIssues], source, err.note);
        throw err;
      }
      if (flagIssues.length > 0) throw new ProfileError(flagIssues, source);
      // Read the CA and credentials files now: a bad one is a usage error naming its key, before any thread starts.
      sessionSettings(profile);
      // The embedded server's PEM files likewise, before its thread starts.
      const pemIssues = profile.target === null ? credentialIssues(profile.server.tls) : [];
      if (pemIssues.length > 0) throw new ProfileError(pemIssues, source);
      // This machine's share (throws SB_USAGE for a shard that cannot run its share), before anything is written.
      const shard = sharding.shard ?? WHOLE;
      const plan = planShard(profile, shard, profile.workers);
      const shardName = sharding.shard === null ? 'this run' : `shard ${shard.index}/${shard.count}`;
      if (plan.idle !== null) process.stderr.write(`smtpbench: ${plan.idle}: nothing to run; its result is empty and merges as zeros\n`);
      let clock: ShardInfo['clock'] = { offsetMs: null, errorMs: null, source: null };
      if (sharding.clockRef && plan.idle === null) {
        try {
          const c = await measureClockOffset(sharding.clockRef);
          clock = c;
          if (!opts.quiet) process.stderr.write(`smtpbench: clock offset ${c.offsetMs} ms ± ${c.errorMs} ms against ${c.source}\n`);
          // A mistyped path (/metrics, a 404 page's server) reads only whole seconds: say so.
          if (c.source.endsWith('(Date header)'))
            process.stderr.write(`smtpbench: --clock-ref read only an HTTP Date header (± 500 ms); a \`smtpbench serve --http\` /stats URL gives its clock to the microsecond\n`);
        } catch (err) {
          // The run goes on on the local clock; the summary says there was no reference.
          process.stderr.write(`smtpbench: ${(err as Error).message}; --start-at is kept on the local clock\n`);
        }
      }
      // --start-at is on the reference clock: its time on this clock is that minus the offset. A
      // relative one (+30s) counted from this clock's now is on this clock already.
      const offset = clock.offsetMs ?? 0;
      const startAtRef = sharding.startAtMs === null ? null : sharding.startAtRelative ? sharding.startAtMs + offset : sharding.startAtMs;
      const startAtMs = startAtRef === null || plan.idle !== null ? null : startAtRef - offset;
      const claim = claimOutDir(outDir, runId, { force: opts.force ?? false, streaming: ['run.hlog', 'timeline.ndjson'] });
      // The sink's figures before the load: the run's share is the end minus this (a shared sink
      // keeps counting across runs). A sink that does not answer is one line; the run goes on.
      const agent = sinking.url ? await sinkAgent() : null;
      let sinkStart: SinkSnapshot | null = null;
      let windowStart = 0;
      if (sinking.url && agent) {
        try {
          sinkStart = await readSink(sinking.url, agent);
          windowStart = performance.now();
        } catch (err) {
          process.stderr.write(`smtpbench: --sink ${sinkName(sinking.url)}: cannot read the sink (${(err as Error).message}); the run goes on without delivery figures\n`);
        }
      }
      // Loaded only when shown (log-update and its terminal helpers: start-up, issue 14).
      const display = opts.quiet ? null : (await import('./progress.js')).progressDisplay();
      const timeline = new TimelineBuilder(profile);
      const warn = (message: string): void => void process.stderr.write(`\nsmtpbench: ${message}\n`);
      const timelineLogs: TimelineLog[] = [];
      if (opts.ndjson !== undefined) {
        try {
          if (ndjsonPath !== null) makeDirs(dirname(ndjsonPath));
          timelineLogs.push(new TimelineLog(ndjsonPath ?? '-', warn));
        } catch (err) {
          throw new SmtpBenchError('SB_USAGE', `--ndjson ${opts.ndjson}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      }
      // k6's abortOnFail: the abortOnFail thresholds are checked on the running totals after each
      // measured second; rates divide by the measured seconds (the coordinator's partial() counts
      // from the start barrier, warm-up included).
      // A shard's figures are a share of the run (a third of the rate, of the counts): its thresholds
      // are judged once, by `smtpbench merge`, on the whole run; a shard neither fails nor aborts on them.
      const judged = shard.count === 1 ? profile.thresholds : [];
      if (judged.length < profile.thresholds.length && !opts.quiet) {
        process.stderr.write(`smtpbench: ${shardName}: ${profile.thresholds.length} threshold(s) are judged by \`smtpbench merge\` on the whole run, not on this share\n`);
      }
      const watched = judged.some((t) => t.abortOnFail);
      // The sink is read once a second during the load too (one request at a time, bounded): if it
      // dies, its last good reading gives "at least" figures; a count that went back is a restart.
      let sinkDuring: SinkSnapshot | null = null;
      let sinkRestarted = false;
      let sinkReading: Promise<void> | null = null;
      const pollSink = (): void => {
        if (!sinking.url || !agent || !sinkStart || sinkReading || sinkRestarted) return;
        const start = sinkStart;
        sinkReading = readSink(sinking.url, agent)
          .then((snap) => {
            if (restarted(sinkDuring ?? start, snap)) sinkRestarted = true;
            sinkDuring = snap;
          })
          .catch(() => {
            // Kept quiet: the drain reports the failure if the sink stays unreachable.
          })
          .finally(() => (sinkReading = null));
      };
      let measuredS = 0;
      let timelineOpened = false;
      let stoppedBy: AbortRecord | null = null;
      // Loaded while the threads start (startRun spawns them before this resolves): the interval log's
      // writer sets up ICU as its module loads, about 17 ms better spent off the way to the first message.
      const hlog = import('../report/hlog.js');
      const handle = startRun(profile, {
        plan,
        startAtMs,
        onWaiting: (msLeft) => {
          const at = new Date(startAtRef!).toISOString();
          if (msLeft < 0) process.stderr.write(`smtpbench: ${shardName} is ${(-msLeft / 1000).toFixed(3)} s late for --start-at ${at}; starting at once (summary.json shard.lateMs)\n`);
          else if (!opts.quiet) process.stderr.write(`smtpbench: ${shardName} ready; waiting ${(msLeft / 1000).toFixed(1)} s for --start-at ${at}\n`);
        },
        onProgress: (p) => {
          // The directory's timeline opens with the first second, as run.hlog does at the start:
          // an earlier run's files there stay until this run has figures of its own.
          if (!timelineOpened) {
            timelineOpened = true;
            try {
              timelineLogs.unshift(new TimelineLog(join(outDir, 'timeline.ndjson'), warn));
            } catch (err) {
              warn(`${join(outDir, 'timeline.ndjson')}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; the timeline is not written there`);
            }
          }
          const second = timeline.next(p);
          for (const log of timelineLogs) log.write(second);
          display?.update(p);
          pollSink();
          if (!watched || !p.measuring || stoppedBy !== null) return;
          measuredS += p.intervalS;
          stoppedBy = abortingThreshold(judged, liveRun(handle.partial().merged, measuredS), measuredS);
          if (stoppedBy === null) return;
          const t = judged[stoppedBy.index];
          process.stderr.write(
            `\nsmtpbench: threshold "${t.expression}" failed at ${stoppedBy.atS} s (${t.metric} = ${formatValue(stoppedBy.value, t.unit, t.metric)}); stopping the run (abortOnFail)\n`,
          );
          handle.stop();
        },
        intervalLog: async (startMs) => new (await hlog).IntervalLog(join(outDir, 'run.hlog'), startMs, warn),
      });
      let summaryWritten = false;
      const finish = (outcome: RunOutcome, aborted: boolean, delivery: DeliveryReport | null = null): Summary => {
        display?.done();
        for (const log of timelineLogs) log.close();
        const base = {
          ...buildSummary(runId, profile, outcome, readEnvironment(), aborted),
          shard: sharding.shard === null && sharding.startAtMs === null && sharding.clockRef === null ? null : shardInfo(shard, startAtRef, outcome.lateMs ?? null, clock, plan.idle !== null),
          // A closed model's shard has its own share of the sessions (the profile's whole count is in
          // `profile`); the other models report the peak they opened (buildSummary).
          ...(profile.executor === 'closed' ? { sessions: partOf(profile.sessions, shard) } : {}),
        };
        // A Ctrl-C during the drain interrupts the run as one during the load does.
        const built = { ...base, interrupted: base.interrupted || drainInterrupted, ...(delivery ? { delivery } : {}) };
        // Thresholds read the exact merged histograms, the client's and the embedded server's.
        const serverHistograms = outcome.server ? decodeServerStats(outcome.server) : new Map();
        const summary: Summary = { ...built, thresholds: evaluate(judged, { summary: built, histograms: outcome.merged.histograms, serverHistograms }, stoppedBy) };
        const written = writeResults(outDir, summary, outcome);
        summaryWritten = written.includes(join(outDir, 'summary.json'));
        const verdicts = renderVerdicts(summary.thresholds);
        // stdout carries one machine-readable stream at most; the table then goes to stderr.
        const table = `${renderConsole(summary)}\n${verdicts ? `${verdicts}\n` : ''}results: ${outDir}\n`;
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        if (opts.json || opts.ndjson === '-') process.stderr.write(table);
        else process.stdout.write(table);
        if (junitPath !== null) {
          try {
            makeDirs(dirname(junitPath));
            writeFileSync(junitPath, junitXml(summary.thresholds, summary));
            written.push(junitPath);
          } catch (err) {
            process.stderr.write(`smtpbench: cannot write --junit ${junitPath}: ${(err as Error).message}\n`);
          }
        }
        const streamed = ['run.hlog', 'timeline.ndjson'].map((f) => join(outDir, f)).filter((f) => existsSync(f));
        settleOutDir(claim, [...written, ...streamed], (m) => void process.stderr.write(`smtpbench: ${m}\n`));
        return summary;
      };
      let interrupts = 0;
      let drainInterrupted = false;
      let writing = false;
      const publishStop = new AbortController();
      let onSignalWhilePublishing: (() => void) | null = null;
      const onSignal = (): void => {
        if (onSignalWhilePublishing) return onSignalWhilePublishing();
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
      const offSignals = onStopSignals(onSignal);
      const outcome = await handle.outcome;
      let delivery: DeliveryReport | null = null;
      if (sinking.url && agent && sinkStart) {
        await sinkReading;
        // Time to drain: the MTA may still hold accepted messages in its queue.
        display?.done();
        const accepted = outcome.merged.counters.messagesAccepted;
        const drainStop = new AbortController();
        let abortAfterDrain = false;
        // Ctrl-C during the drain: the first stops the drain (results are written, the run marked
        // interrupted); the next one aborts with 130, as during the load.
        onSignalWhilePublishing = () => {
          drainInterrupted = true;
          if (++interrupts === 1) process.stderr.write('\nsmtpbench: stopping the drain; results are written (Ctrl-C again to abort)\n');
          else {
            if (!abortAfterDrain) process.stderr.write('smtpbench: aborted; writing the results so far\n');
            abortAfterDrain = true;
          }
          drainStop.abort();
        };
        let drain: DrainResult;
        if (sinkRestarted) {
          // Seen during the load: nothing the sink says now can be counted, so no drain.
          drain = { end: sinkDuring, atLoadEnd: null, drained: false, drainMs: 0, error: null, restarted: true, stopped: false };
        } else {
          if (!opts.quiet) process.stderr.write(`smtpbench: waiting up to ${sinking.drainTimeoutMs / 1000} s for the sink to receive ${accepted} message(s)\n`);
          drain = await drainSink(sinking.url, agent, sinkStart, sinkDuring ?? sinkStart, accepted, sinking.drainTimeoutMs, drainStop.signal);
        }
        onSignalWhilePublishing = null;
        const made = deliveryReport(sinking.url, sinkStart, drain, accepted, sinking.drainTimeoutMs, performance.now() - windowStart, sinkDuring, outcome.barrierAtMs);
        delivery = made.report;
        if (made.delivery) outcome.merged.histograms.get('delivery')!.add(made.delivery);
        if (delivery.error) process.stderr.write(`smtpbench: --sink ${delivery.sink}: ${delivery.error}\n`);
        if (abortAfterDrain) {
          writing = true;
          agent.destroy().catch(() => {});
          finish(outcome, true, delivery);
          process.exit(130);
        }
      }
      await agent?.destroy();
      writing = true;
      const summary = finish(outcome, false, delivery);
      if (summary.warmupCompleted === false && !summary.interrupted)
        process.stderr.write(
          `smtpbench: the run ended inside its ${summary.warmupS} s warm-up (its message quota ran out first): nothing was measured; raise --messages or --duration, or shorten --warmup\n`,
        );
      const failure = noSuccess(summary);
      let published: string[] = [];
      if (publishing.webhook || publishing.pushgateway) {
        // Results are on disk; a Ctrl-C now only cuts the publish short.
        onSignalWhilePublishing = () => publishStop.abort();
        // What was written is what goes out: summary.json byte for byte, and the figures read from it.
        const results = await publishRun(readFileSync(join(outDir, 'summary.json'), 'utf8'), publishing, { timeoutMs: publishing.timeoutMs, signal: publishStop.signal });
        for (const r of results) if (r.ok && !opts.quiet) process.stderr.write(`smtpbench: ${r.message}\n`);
        published = results.filter((r) => !r.ok).map((r) => r.message);
      }
      offSignals();
      // Exit 1 (nothing succeeded) wins over 99: the run measured nothing a threshold could judge.
      // A failed publish is one line; with --publish-required it is the error (exit 1) of a run that would exit 0.
      const failed = summary.thresholds.filter((v) => !v.ok).length;
      const publishFails = published.length > 0 && opts.publishRequired && !failure && failed === 0;
      if (!publishFails) for (const line of published) process.stderr.write(`smtpbench: ${line}\n`);
      if (failure) throw new SmtpBenchError('SB_NO_SUCCESS', `${failure} (results: ${outDir})`);
      // The figures were printed above; without summary.json nothing downstream (compare, CI) has them.
      if (!summaryWritten) throw new SmtpBenchError('SB_WRITE', `the results could not be written to ${outDir} (the summary above is all there is)`);
      if (failed > 0) throw new SmtpBenchError('SB_THRESHOLD_FAILED', `${failed} of ${summary.thresholds.length} threshold(s) failed (results: ${outDir})`);
      if (publishFails) throw new SmtpBenchError('SB_PUBLISH', published.join('\n'));
    });
}

/** What summary.json records of this machine's shard. */
function shardInfo(shard: Part, startAtMs: number | null, lateMs: number | null, clock: ShardInfo['clock'], idle: boolean): ShardInfo {
  return {
    index: shard.index,
    count: shard.count,
    host: hostname(),
    startAt: startAtMs === null ? null : new Date(startAtMs).toISOString(),
    lateMs: lateMs === null ? null : Math.round(lateMs),
    clock,
    idle,
  };
}

/** Exit code 1 rule: something was to be sent and not one transaction succeeded. Names the target. */
function noSuccess(s: Summary): string | null {
  const m = s.totals.messages;
  if (m.accepted > 0 || m.attempted + m.abandoned === 0) return null;
  const errors = errorList(s) || 'every message was rejected';
  return `no transaction succeeded against ${s.target.url}: ${errors}`;
}
