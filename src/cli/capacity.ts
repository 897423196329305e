/**
 * `smtpbench capacity [profile] --slo EXPR…`: the highest arrival rate the target sustains while
 * every SLO holds (src/load/capacity.ts searches; src/report/capacity.ts reports). Each step is a
 * real open-model run through the coordinator, with a profile the one resolver derives from the
 * profile file and the flags (executor open, the step's rate, duration = warm-up + step duration);
 * its results are an ordinary run directory under `steps/<n>-<rate>/`.
 */
import { Command } from '@commander-js/extra-typings';
import { onStopSignals } from './signals.js';
import { errorList } from '../report/table.js';
import { existsSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sessionSettings } from '../client/settings.js';
import { ProfileError, SmtpBenchError, type ProfileIssue } from '../errors.js';
import {
  ACHIEVED_RATE_FLOOR,
  BROKEN_BADLY_FACTOR,
  brokenBadly,
  judgeStep,
  nextRate,
  plannedStepMs,
  roundRate,
  searchCapacity,
  STEP_START_MS,
  type JudgedStep,
  type SearchEnd,
  type StepMeasurement,
} from '../load/capacity.js';
import { startRun } from '../load/coordinator.js';
import { defaultProfilePath, loadProfileFile, parseDuration, resolveProfile, type ProfileInput } from '../profile/index.js';
import { resolveThresholds } from '../profile/thresholds.js';
import { answerOf, CAPACITY_SCHEMA, curvePhase, renderCapacityConsole, renderCapacityHtml, renderCapacityMarkdown, type CapacityReport, type CapacityStep } from '../report/capacity.js';
import { readEnvironment } from '../report/environment.js';
import { IntervalLog } from '../report/hlog.js';
import { decodeServerStats } from '../report/server-stats.js';
import { buildSummary, redacted, type Summary } from '../report/summary.js';
import { metricValue } from '../metrics/catalog.js';
import { evaluate, liveRun, type AbortRecord } from '../report/thresholds.js';
import { TimelineBuilder, TimelineLog } from '../report/timeline.js';
import { newRunId, writeResults } from '../report/write.js';
import { claimOutDir, makeDirs, settleOutDir } from '../report/out-dir.js';
import { collect, definedOnly, num } from './flags.js';

/** The highest arrival rate the profile resolver accepts (src/profile/schema.ts). */
const MAX_RATE = 10_000_000;

/** Each step's gracefulStop unless the profile sets one, ms (counted in the --max-time budget). */
const STEP_GRACE_MS = 2000;

/** Profile keys every step sets itself: they are taken out of the profile file before resolving. */
const STEP_KEYS = ['executor', 'rate', 'startRate', 'stages', 'duration', 'messages', 'warmup'];

/** A step's measurement with what the curve shows besides. */
interface Measured extends StepMeasurement {
  readonly summary: Summary;
  readonly dir: string;
  readonly early: AbortRecord | null;
}

export function capacityCommand() {
  return new Command('capacity')
    .description('find the highest arrival rate the target sustains while every --slo holds (docs/recipes.md "Capacity planning")')
    .argument('[profile]', 'profile file, YAML or JSON (default: profiles/smoke.yaml); its thresholds count as SLOs too')
    .option('--slo <expr>', 'service level objective in the threshold syntax, e.g. "transaction.p99 < 250ms" (repeatable)', collect, [] as string[])
    .option('--target <url>', 'MTA to load: smtp://HOST:PORT, smtps://HOST:PORT, lmtp://HOST:PORT (default: the embedded reference server)')
    .option('--start-rate <msgs/s>', 'first arrival rate (default 50)', num)
    .option('--factor <x>', 'step-up factor until an SLO breaks (default 2)', num)
    .option('--max-rate <msgs/s>', 'highest arrival rate to offer (default: no bound)', num)
    .option('--precision <ratio>', 'stop bisecting when (bad − good) / good is at most this, e.g. 5% or 0.05 (default 5%)')
    .option('--step-duration <time>', 'measured time of each step, after its warm-up (default 10s)')
    .option('--warmup <time>', "each step's warm-up (default: the profile's warmup, else 2s)")
    .option('--max-time <time>', 'bound on the whole search; a step that cannot finish within it is not started (default 5m)')
    .option('--workers <n>', 'load worker threads (default: one per core, one fewer when the target is on this machine)', num)
    .option('--max-sessions <n>', "most concurrent sessions per step (default: the profile's maxSessions)", num)
    .option('--messages-per-session <n>', 'messages per connection before QUIT and reconnect', num)
    .option('--recipients <n>', 'recipients (RCPT TO) per message', num)
    .option('--size <size>', 'message size, e.g. 4KiB', num)
    .option('--seed <n>', 'random seed', num)
    .option('--out <dir>', 'results directory (default: results/<run-id>); replaces only the files an earlier smtpbench run wrote there')
    .option('--force', 'write into an --out directory that holds files smtpbench did not write (same names are replaced, nothing else is touched)')
    .option('--json', 'print capacity.json to stdout (the table goes to stderr)')
    .option('--quiet', 'no line per step')
    .action(async (profileArg, opts) => {
      const path = profileArg ?? defaultProfilePath();
      const issues: ProfileIssue[] = [];
      const duration = (flag: string, v: string | undefined, dflt: number, min: number): number => {
        if (v === undefined) return dflt;
        try {
          const ms = parseDuration(v);
          if (ms < min) issues.push({ path: flag, message: `must be at least ${min >= 1000 ? `${min / 1000} s` : `${min} ms`}, got ${JSON.stringify(v)}` });
          return ms;
        } catch (err) {
          issues.push({ path: flag, message: (err as Error).message });
          return dflt;
        }
      };
      // The capacity flags first, each named once; the step profiles are derived only from valid ones
      // (else the resolver would report the same mistake again under a field the user never set).
      const rateFlag = (flag: string, v: number | string | undefined, dflt: number): number => {
        if (v === undefined) return dflt;
        // Rates are rounded to 0.1 msg/s; the resolver's own bound is 10,000,000.
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0.1 || v > MAX_RATE) {
          issues.push({ path: flag, message: `expected messages per second from 0.1 to ${MAX_RATE}, got ${JSON.stringify(v)}` });
          return Number.NaN;
        }
        return v;
      };
      const startRate = rateFlag('--start-rate', opts.startRate, 50);
      const maxRate = opts.maxRate === undefined ? null : rateFlag('--max-rate', opts.maxRate, Number.NaN);
      let factor = 2;
      if (opts.factor !== undefined) {
        factor = typeof opts.factor === 'number' ? opts.factor : Number.NaN;
        if (!Number.isFinite(factor) || factor <= 1) issues.push({ path: '--factor', message: `expected a number above 1, got ${JSON.stringify(opts.factor)}` });
        // Rates round to 0.1 msg/s: a factor that cannot raise the start rate by that would run the same rate again and again.
        else if (Number.isFinite(startRate) && nextRate(roundRate(startRate), factor) <= roundRate(startRate))
          issues.push({
            path: '--factor',
            message: `${factor} cannot raise --start-rate ${startRate} by 0.1 msg/s (rates are rounded to 0.1); use at least ${Math.ceil(((roundRate(startRate) + 0.05) / roundRate(startRate)) * 1000) / 1000}`,
          });
      }
      if (maxRate !== null && Number.isFinite(maxRate) && Number.isFinite(startRate) && maxRate < startRate)
        issues.push({ path: '--max-rate', message: `the rate range is empty: --max-rate ${maxRate} is below --start-rate ${startRate}` });
      let precision = 0.05;
      if (opts.precision !== undefined) {
        const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%?)$/.exec(opts.precision.trim());
        precision = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
        if (!(precision > 0 && precision < 1)) issues.push({ path: '--precision', message: `expected a ratio between 0 and 1 or a percentage (5%), got ${JSON.stringify(opts.precision)}` });
      }
      const stepMs = duration('--step-duration', opts.stepDuration, 10_000, 1000);
      const maxTimeMs = duration('--max-time', opts.maxTime, 300_000, 1000);
      // The one parser (parseThreshold, via the resolver's threshold list), with the flag's own name in errors.
      const sloFlags = resolveThresholds(opts.slo, (p, message) => issues.push({ path: `--slo${p.map((x) => `[${x}]`).join('')}`, message }));
      const file = loadProfileFile(path);
      // Steps set these; the file's own values would fight the search (a message count, a closed model).
      const input = file !== null && typeof file === 'object' && !Array.isArray(file) ? Object.fromEntries(Object.entries(file).filter(([k]) => !STEP_KEYS.includes(k))) : file;
      const fileWarmup = file !== null && typeof file === 'object' && 'warmup' in file ? (file as { warmup: unknown }).warmup : undefined;
      // A bare number in a profile is ms (as the resolver reads it); a flag needs a unit.
      const warmupMs =
        typeof fileWarmup === 'number' && opts.warmup === undefined ? fileWarmup : duration('--warmup', opts.warmup ?? (typeof fileWarmup === 'string' ? fileWarmup : undefined), 2000, 0);
      const source = `profile ${path} with flags`;
      if (issues.length > 0) throw new ProfileError(issues, source);
      // A step's gracefulStop: the profile's when it sets one, else STEP_GRACE_MS (the 10 s default would
      // let one stalled step eat most of a short --max-time).
      const fileGrace = file !== null && typeof file === 'object' && 'gracefulStop' in file;
      const overrides = (rate: number): ProfileInput =>
        definedOnly({
          target: opts.target,
          workers: opts.workers,
          maxSessions: opts.maxSessions,
          messagesPerSession: opts.messagesPerSession,
          seed: opts.seed,
          executor: 'open',
          rate,
          duration: warmupMs + stepMs,
          warmup: warmupMs,
          gracefulStop: fileGrace ? undefined : STEP_GRACE_MS,
          message: { recipients: opts.recipients, size: opts.size },
          thresholds: opts.slo.length > 0 && sloFlags.length === opts.slo.length ? opts.slo : undefined,
        } as ProfileInput);
      const base = resolveProfile(input, overrides(roundRate(startRate)), source);
      if (base.thresholds.length === 0) issues.push({ path: '--slo', message: 'at least one SLO is needed: give --slo "transaction.p99 < 250ms" (or thresholds in the profile)' });
      for (const t of base.thresholds) {
        // Capacity has no --sink: nothing would ever fill delivery.*, and the step would fail at the lowest rate.
        if (t.metric.startsWith('delivery.'))
          issues.push({ path: '--slo', message: `"${t.expression}": capacity has no --sink, so delivery.* has no data; measure delivery with \`smtpbench run --sink\`` });
        // server.* comes from the embedded reference server's own statistics.
        else if (t.metric.startsWith('server.') && base.target !== null)
          issues.push({
            path: '--slo',
            message: `"${t.expression}": server.* is measured only by the embedded reference server (no --target); ${base.target.host}:${base.target.port} does not report it`,
          });
      }
      const stepPlanMs = plannedStepMs(warmupMs, stepMs, base.gracefulStopMs);
      if (maxTimeMs < stepPlanMs)
        issues.push({
          path: '--max-time',
          message: `${maxTimeMs} ms is shorter than one step (warm-up ${warmupMs} ms + step ${stepMs} ms + ${STEP_START_MS} ms to start + gracefulStop ${base.gracefulStopMs} ms = ${stepPlanMs} ms)`,
        });
      if (issues.length > 0) throw new ProfileError(issues, source);
      sessionSettings(base);
      const slos = base.thresholds;

      const runId = newRunId(`capacity-${basename(path, extname(path))}`);
      const outDir = resolve(opts.out ?? `results/${runId}`);
      const claim = claimOutDir(outDir, runId, { force: opts.force ?? false, streaming: ['steps/'] });
      // Every file the search wrote, for the directory's manifest (src/report/out-dir.ts).
      const written: string[] = [];
      const env = readEnvironment();
      const warn = (message: string): void => void process.stderr.write(`smtpbench: ${message}\n`);
      const say = (line: string): void => {
        if (!opts.quiet) process.stderr.write(`${line}\n`);
      };
      const startedAt = new Date();
      let stopping = false;
      // The step in progress: its rate, its run, and whether Ctrl-C cut it short.
      let current: { rate: number; stop(): void; cut: boolean } | null = null;
      // Every completed step, judged, for the curve a second Ctrl-C writes.
      const completed: JudgedStep<Measured>[] = [];
      const onSignal = (): void => {
        if (stopping) {
          // Second signal: abort at once, but keep the curve of the completed steps (as `run` keeps what it merged).
          process.stderr.write('smtpbench: aborted; writing the curve of the completed steps\n');
          const report = reportOf(completed, 'interrupted', current?.rate ?? null);
          publish(report, process.stderr);
          process.exit(130);
        }
        stopping = true;
        process.stderr.write('\nsmtpbench: stopping the step in progress (it is not judged); the curve of the completed steps is written (Ctrl-C again to abort)\n');
        if (current) {
          current.cut = true;
          current.stop();
        }
      };
      const offSignals = onStopSignals(onSignal);

      const runStep = async (rate: number, index: number): Promise<Measured> => {
        const profile = resolveProfile(input, overrides(rate), source);
        const dir = join(outDir, 'steps', `${index + 1}-${rate}`);
        makeDirs(dir);
        say(`step ${index + 1}: ${rate} msg/s for ${stepMs / 1000} s after ${warmupMs / 1000} s warm-up`);
        const timeline = new TimelineBuilder(profile);
        const log = new TimelineLog(join(dir, 'timeline.ndjson'), warn);
        let measuredS = 0;
        let early: AbortRecord | null = null;
        const handle = startRun(profile, {
          // Early stop: the running totals once a second (as abortOnFail in `run`), an SLO 10× beyond its limit.
          onProgress: (p) => {
            log.write(timeline.next(p));
            if (!p.measuring || early !== null) return;
            measuredS += p.intervalS;
            const live = liveRun(handle.partial().merged, measuredS);
            for (const [i, t] of slos.entries()) {
              const value = metricValue(t.metric, live);
              if (value !== null && brokenBadly(t.op, t.limit, value)) {
                early = { index: i, atS: Math.round(measuredS * 1000) / 1000, value };
                say(`  ${t.metric} = ${value} after ${early.atS} s: more than ${BROKEN_BADLY_FACTOR}× beyond "${t.expression}"; stopping the step`);
                handle.stop();
                return;
              }
            }
          },
          intervalLog: (startMs) => new IntervalLog(join(dir, 'run.hlog'), startMs, warn),
        });
        const running = { rate, stop: () => handle.stop(), cut: false };
        current = running;
        let outcome;
        try {
          outcome = await handle.outcome;
        } finally {
          current = null;
          log.close();
        }
        const built = buildSummary(`${runId}-step-${index + 1}`, profile, outcome, env);
        const serverHistograms = outcome.server ? decodeServerStats(outcome.server) : new Map();
        const summary: Summary = { ...built, thresholds: evaluate(slos, { summary: built, histograms: outcome.merged.histograms, serverHistograms }, early) };
        written.push(...writeResults(dir, summary, outcome), ...['run.hlog', 'timeline.ndjson'].map((f) => join(dir, f)).filter((f) => existsSync(f)));
        const m = summary.totals.messages;
        if (m.accepted === 0 && m.attempted + m.abandoned + m.dropped > 0)
          warn(`step ${index + 1}: no transaction succeeded against ${summary.target.url}: ${errorList(summary) || 'every message was rejected'}`);
        return {
          rate,
          achievedRate: summary.totals.rates.msgsPerS,
          slos: summary.thresholds,
          saturated: summary.generator?.saturated ?? false,
          dropped: m.dropped,
          late: m.late,
          stoppedEarly: early === null ? null : slos[(early as AbortRecord).index].metric,
          summary,
          dir: `steps/${index + 1}-${rate}`,
          early,
          interrupted: running.cut,
        };
      };

      const phase = curvePhase(slos);
      const t0 = performance.now();
      const reportOf = (judged: readonly JudgedStep<Measured>[], end: SearchEnd, cutRate: number | null): CapacityReport => {
        const steps = judged.map((s, i) => judgedStepOf(s, i, phase));
        return {
          schema: CAPACITY_SCHEMA,
          kind: 'capacity',
          runId,
          startedAt: startedAt.toISOString(),
          durationS: Math.round(performance.now() - t0) / 1000,
          target: judged[0]?.measurement.summary.target.url ?? (base.target ? `${base.target.scheme}://${base.target.host}:${base.target.port}` : 'embedded reference server'),
          slos,
          phase,
          search: {
            startRate,
            factor,
            maxRate,
            precision,
            stepDurationS: stepMs / 1000,
            warmupS: warmupMs / 1000,
            maxTimeS: maxTimeMs / 1000,
            achievedRateFloor: ACHIEVED_RATE_FLOOR,
            brokenBadlyFactor: BROKEN_BADLY_FACTOR,
            sessions: 'each step opens its own sessions (fresh connections), up to maxSessions',
          },
          steps,
          answer: answerOf(end, steps, slos, precision, cutRate),
          profile: redacted(base),
          environment: env,
        };
      };
      /** Writes capacity.json, report.md and report.html, then the table and the answer to `tableTo`. */
      const publish = (report: CapacityReport, tableTo: NodeJS.WritableStream): void => {
        const put = (name: string, text: () => string): void => {
          try {
            writeFileSync(join(outDir, name), text());
            written.push(join(outDir, name));
          } catch (err) {
            warn(`cannot write ${join(outDir, name)}: ${(err as Error).message}`);
          }
        };
        put('capacity.json', () => `${JSON.stringify(report, null, 2)}\n`);
        put('report.md', () => renderCapacityMarkdown(report));
        put('report.html', () => renderCapacityHtml(report));
        settleOutDir(claim, written, warn);
        tableTo.write(`${renderCapacityConsole(report)}\nresults: ${outDir}\n`);
      };
      const result = await searchCapacity(
        { startRate, factor, maxRate, precision, maxTimeMs, stepTimeMs: stepPlanMs },
        async (rate, index) => {
          const m = await runStep(rate, index);
          const judged = judgeStep(m);
          if (judged.verdict !== 'interrupted') completed.push(judged);
          const j = stepOf(m, index, phase);
          const ms = (x: number | null): string => (x === null ? 'no data' : `${x} ms`);
          // Dropped starts: messages still due when the step ended (no session came free within gracefulStop).
          const dropped = m.dropped > 0 ? `, ${m.dropped} starts dropped (still due when the step ended)` : '';
          say(`  ${judged.verdict === 'interrupted' ? 'interrupted, not judged: ' : ''}achieved ${j.achievedRate} msg/s, ${phase} p50 ${ms(j.p50)}, p99 ${ms(j.p99)}${dropped}`);
          return m;
        },
        () => performance.now(),
        () => stopping,
      );
      offSignals();
      const report = reportOf(result.steps, result.end, null);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        publish(report, process.stderr);
      } else publish(report, process.stdout);
      if (report.answer.sustainedRate === null) throw new SmtpBenchError('SB_NO_SUCCESS', `no rate passed: ${report.answer.text} (results: ${outDir})`);
    });
}

/** The curve's record of a step measurement (before judging: the verdict fields are filled by `judgedStepOf`). */
function stepOf(m: Measured, index: number, phase: string): Omit<CapacityStep, 'verdict' | 'reliable' | 'reason'> {
  const s = m.summary;
  const due = s.totals.messages.attempted + s.totals.messages.dropped + s.totals.messages.abandoned;
  const stats = s.phases[phase];
  return {
    index: index + 1,
    dir: m.dir,
    rate: m.rate,
    achievedRate: m.achievedRate,
    p50: stats ? stats.p50 : null,
    p99: stats ? stats.p99 : null,
    errorRate: due > 0 ? (metricValue('errors.rate', { summary: s, histograms: new Map(), serverHistograms: new Map() }) as number | null) : null,
    late: m.late,
    dropped: m.dropped,
    accepted: s.totals.messages.accepted,
    errors: s.errors,
    saturated: m.saturated,
    durationS: s.durationS,
    slos: s.thresholds,
    stoppedEarly: m.early === null ? null : { metric: m.stoppedEarly!, atS: m.early.atS, value: m.early.value },
  };
}

function judgedStepOf(j: JudgedStep<Measured>, index: number, phase: string): CapacityStep {
  return { ...stepOf(j.measurement, index, phase), verdict: j.verdict, reliable: j.reliable, reason: j.reason };
}
