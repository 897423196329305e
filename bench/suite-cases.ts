/**
 * The cases of the macro suite (issue 14): the server cases (smtp-source driving smtp-sink,
 * `smtpbench serve`, Node's smtp-server and aiosmtpd), the client cases (`smtpbench run` and
 * smtp-source, and postal in the small case, driving the same sink), start-up, 1 MiB end to end
 * beside iperf3, and RSS per idle session. bench/suite.ts runs them and writes the results.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runRounds, spread, type Column, type ColumnResult, type Sample, type Spread } from './suite-pairs.js';
import { python3, type Peer, type PeerName } from './suite-peers.js';
import { freePort, processCpuS, rssKiB, runTimed, startProc, type Proc } from './suite-procs.js';

/** What every case is given. */
export interface SuiteContext {
  readonly peers: Record<PeerName, Peer>;
  /** Counted rounds per case (one warm-up round comes first). */
  readonly pairs: number;
  readonly short: boolean;
  /** A scratch directory, removed at the end. */
  readonly tmp: string;
  /** The smtpbench CLI: `node <main>`. */
  readonly main: string;
  log(line: string): void;
}

/** One side-by-side case. */
export interface PairCase {
  readonly id: string;
  readonly title: string;
  /** The rate's unit: msg/s, rcpt/s or MB/s. */
  readonly unit: string;
  /** What the case compares, in a few words (the baseline is the first column). */
  readonly note: string;
  readonly columns: ColumnResult[];
}

const MB = 1e6;
const RUN_TIMEOUT_MS = 180_000;

/** The sinks of the suite, each started once on first use and stopped at the end. */
export class SinkPool {
  private readonly procs = new Map<string, Promise<Proc>>();
  constructor(private readonly ctx: SuiteContext) {}

  /** Why sink `kind` cannot run, or null. */
  missing(kind: string): string | null {
    const peer = { 'smtp-sink': 'smtp-sink', 'smtp-server': 'smtp-server', aiosmtpd: 'aiosmtpd' }[kind] as PeerName | undefined;
    return peer ? this.ctx.peers[peer].missing : null;
  }

  /** The running sink `kind` (smtp-sink, smtpbench, smtp-server, aiosmtpd). */
  get(kind: string): Promise<Proc> {
    let p = this.procs.get(kind);
    if (!p) {
      p = this.start(kind);
      this.procs.set(kind, p);
    }
    return p;
  }

  private async start(kind: string): Promise<Proc> {
    const port = await freePort();
    switch (kind) {
      case 'smtp-sink':
        return startProc(kind, this.ctx.peers['smtp-sink'].path!, [...asNobody(), `127.0.0.1:${port}`, '1000'], port);
      case 'smtpbench':
        return startProc('smtpbench serve', process.execPath, [this.ctx.main, 'serve', '--host', '127.0.0.1', '--port', String(port), '--quiet'], port);
      case 'smtp-server':
        return startProc(kind, process.execPath, ['bench/smtp-server-sink.mjs', String(port)], port);
      case 'aiosmtpd':
        return startProc(kind, python3(), ['bench/aiosmtpd-sink.py', String(port)], port);
    }
    throw new Error(`unknown sink ${kind}`);
  }

  /** Stops every sink started. */
  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) await p.then((proc) => proc.stop()).catch(() => {});
    this.procs.clear();
  }
}

/** smtp-sink and postal's sink refuse to run as root without `-u`. */
function asNobody(): string[] {
  return process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
}

/** One smtp-source run against a pooled sink: generator CPU from the shell, sink CPU from /proc. */
async function smtpSourceRun(ctx: SuiteContext, sink: Proc, args: string[], messages: number, units: number): Promise<Sample> {
  const c0 = sink.cpuS();
  const t = await runTimed(ctx.peers['smtp-source'].path!, [...args, `127.0.0.1:${sink.port}`], { timeoutMs: RUN_TIMEOUT_MS });
  const c1 = sink.cpuS();
  const error = t.code === 0 ? null : `smtp-source exit ${t.code}: ${t.stderr.trim().slice(-300)}`;
  return { wallS: t.wallS, messages, units, generatorCpuS: t.cpuS, sinkCpuS: c1 - c0, error };
}

/** What a `smtpbench run` wrote to summary.json that the suite reads. */
interface RunSummary {
  totals: { messages: { accepted: number }; recipients: { accepted: number }; rates: { msgsPerS: number; rcptsPerS: number; mbPerS: number } };
  phases: Record<string, { min: number } | undefined>;
}

/** One `smtpbench run` to its end; checks that every message was accepted. */
async function smtpbenchRun(
  ctx: SuiteContext,
  sink: Proc | null,
  args: string[],
  messages: number,
  units: number,
  out: string,
  unit: string = 'msg/s',
): Promise<Sample & { summary: RunSummary | null; spawnedAtMs: number; out: string }> {
  const c0 = sink?.cpuS() ?? 0;
  const target = sink ? ['--target', `smtp://127.0.0.1:${sink.port}`] : [];
  const t = await runTimed(process.execPath, [ctx.main, 'run', ...target, ...args, '--out', out, '--quiet'], { timeoutMs: RUN_TIMEOUT_MS });
  const c1 = sink?.cpuS() ?? 0;
  let summary: RunSummary | null = null;
  let error: string | null = t.code === 0 ? null : `smtpbench run exit ${t.code}: ${t.stderr.trim().slice(-300)}`;
  if (error === null) {
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
    if (summary.totals.messages.accepted !== messages) error = `accepted ${summary.totals.messages.accepted} of ${messages} messages`;
  }
  const rates = summary?.totals.rates;
  const loadRate = rates === undefined ? undefined : unit === 'rcpt/s' ? rates.rcptsPerS : unit === 'MB/s' ? rates.mbPerS : rates.msgsPerS;
  return { wallS: t.wallS, messages, units, generatorCpuS: t.cpuS, sinkCpuS: c1 - c0, error, summary, spawnedAtMs: t.spawnedAtMs, out, loadRate };
}

/** A fresh output directory for `smtpbench run` under the scratch directory. */
let outCount = 0;
function outDir(ctx: SuiteContext, label: string): string {
  const dir = join(ctx.tmp, `${label}-${++outCount}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A workload in smtp-source's terms, with its smtpbench equivalent. */
interface Workload {
  readonly id: string;
  readonly title: string;
  readonly unit: 'msg/s' | 'rcpt/s' | 'MB/s';
  readonly messages: number;
  readonly recipients: number;
  /** Payload octets per message (smtp-source -l), 0 for none. */
  readonly payload: number;
  /** One message per connection (no -d). */
  readonly churn: boolean;
}

function units(w: Workload, messages: number): number {
  if (w.unit === 'rcpt/s') return messages * w.recipients;
  if (w.unit === 'MB/s') return (messages * w.payload) / MB;
  return messages;
}

function sourceArgs(w: Workload, messages: number): string[] {
  const a = ['-s', '20', ...(w.churn ? [] : ['-d']), '-m', String(messages)];
  if (w.recipients > 1) a.push('-r', String(w.recipients));
  if (w.payload > 0) a.push('-l', String(w.payload));
  return a;
}

/** The same workload as `smtpbench run` flags: 20 sessions, kept open unless churn. */
function runArgs(w: Workload): string[] {
  return [
    '--sessions',
    '20',
    '--messages',
    String(w.messages),
    '--messages-per-session',
    String(w.churn ? 1 : Math.ceil(w.messages / 20)),
    '--recipients',
    String(w.recipients),
    '--size',
    String(Math.max(w.payload, 1024)),
  ];
}

/** The workloads, full size or `--short`. */
export function workloads(short: boolean): { server: Workload[]; client: Workload[] } {
  const n = (full: number, s: number): number => (short ? s : full);
  return {
    server: [
      { id: 'server-small', title: 'server, small persistent: smtp-source -s 20 -d -m N -l 1024', unit: 'msg/s', messages: n(20_000, 5_000), recipients: 1, payload: 1024, churn: false },
      { id: 'server-fanout', title: 'server, fan-out: smtp-source -s 20 -d -m N -r 1000', unit: 'rcpt/s', messages: n(200, 20), recipients: 1000, payload: 0, churn: false },
      { id: 'server-churn', title: 'server, churn (one message per connection): smtp-source -s 20 -m N -l 1024', unit: 'msg/s', messages: n(10_000, 1_000), recipients: 1, payload: 1024, churn: true },
      { id: 'server-1mib', title: 'server, 1 MiB: smtp-source -s 20 -d -m N -l 1048576', unit: 'MB/s', messages: n(500, 50), recipients: 1, payload: 1_048_576, churn: false },
    ],
    client: [
      { id: 'client-small', title: 'client, small: N × 1 KiB, 20 sessions kept open', unit: 'msg/s', messages: n(100_000, 20_000), recipients: 1, payload: 1024, churn: false },
      { id: 'client-fanout', title: 'client, fan-out: N × 1000 RCPT, 1 KiB, 20 sessions', unit: 'rcpt/s', messages: n(200, 50), recipients: 1000, payload: 1024, churn: false },
      { id: 'client-1mib', title: 'client, 1 MiB: N × 1 MiB, 20 sessions', unit: 'MB/s', messages: n(500, 100), recipients: 1, payload: 1_048_576, churn: false },
      { id: 'client-churn', title: 'client, churn: N × 1 KiB, one message per connection, 20 sessions', unit: 'msg/s', messages: n(10_000, 2_000), recipients: 1, payload: 1024, churn: true },
    ],
  };
}

/** smtp-source drives each sink in turn; smtp-sink is the baseline. */
export async function serverCase(ctx: SuiteContext, pool: SinkPool, w: Workload): Promise<PairCase> {
  const sourceMissing = ctx.peers['smtp-source'].missing;
  // Node's smtp-server waits 100 ms before every greeting (early-talker check, no option): at 20
  // sessions that is 200 connections/s, so its churn runs get fewer messages; rates stay comparable.
  const count = (kind: string): number => (w.churn && kind === 'smtp-server' ? Math.min(w.messages, ctx.short ? 200 : 400) : w.messages);
  const columns: Column[] = ['smtp-sink', 'smtpbench', 'smtp-server', 'aiosmtpd'].map((kind) => ({
    name: kind === 'smtpbench' ? 'smtpbench serve' : kind,
    missing: sourceMissing ?? pool.missing(kind),
    run: async () => smtpSourceRun(ctx, await pool.get(kind), sourceArgs(w, count(kind)), count(kind), units(w, count(kind))),
  }));
  const note = `smtp-source drives each sink; ratio = sink's rate ÷ smtp-sink's in the same round${w.churn ? '; smtp-server gets fewer messages (100 ms greeting delay)' : ''}`;
  return { id: w.id, title: w.title, unit: w.unit, note, columns: await runRounds(columns, ctx.pairs, ctx.log) };
}

/** smtp-source and `smtpbench run` (and postal, small case, smtp-sink only) drive one sink. */
export async function clientCase(ctx: SuiteContext, pool: SinkPool, w: Workload, sinkKind: 'smtp-sink' | 'smtpbench'): Promise<PairCase> {
  const sinkMissing = pool.missing(sinkKind);
  const out = outDir(ctx, w.id);
  const columns: Column[] = [
    {
      name: 'smtp-source',
      missing: ctx.peers['smtp-source'].missing ?? sinkMissing,
      run: async () => smtpSourceRun(ctx, await pool.get(sinkKind), sourceArgs(w, w.messages), w.messages, units(w, w.messages)),
    },
    {
      name: 'smtpbench run',
      missing: sinkMissing,
      run: async () => smtpbenchRun(ctx, await pool.get(sinkKind), runArgs(w), w.messages, units(w, w.messages), out, w.unit),
    },
  ];
  if (w.id === 'client-small' && sinkKind === 'smtp-sink') {
    const n = ctx.short ? 400 : 4_000;
    columns.push({ name: 'postal -t 20', missing: ctx.peers.postal.missing ?? sinkMissing, run: () => postalRun(ctx, n) });
  }
  const id = `${w.id}${sinkKind === 'smtp-sink' ? '' : '-serve'}`;
  const sinkName = sinkKind === 'smtp-sink' ? 'smtp-sink' : 'smtpbench serve';
  const note = `each client drives ${sinkName}; ratio = client's rate ÷ smtp-source's in the same round${columns.length > 2 ? '; postal sends fewer messages to its own smtp-sink -M' : ''}`;
  return { id, title: `${w.title} → ${sinkName}`, unit: w.unit, note, columns: await runRounds(columns, ctx.pairs, ctx.log) };
}

/**
 * postal never stops by itself: a fresh `smtp-sink -M n` counts the messages and exits, and the
 * wall time runs from postal's start to the sink's exit (as anchors-measured.md did). postal's CPU
 * is read from /proc while it runs (it may crash once the sink is gone), the sink's from its shell.
 */
async function postalRun(ctx: SuiteContext, n: number): Promise<Sample> {
  const dir = join(ctx.tmp, 'postal');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'senders.txt'), 'sender@bench.test\n');
  writeFileSync(join(dir, 'users.txt'), Array.from({ length: 1000 }, (_, i) => `rcpt${i}@bench.test\n`).join(''));
  const port = await freePort();
  const sink = runTimed(ctx.peers['smtp-sink'].path!, [...asNobody(), '-M', String(n), `127.0.0.1:${port}`, '1000'], { timeoutMs: RUN_TIMEOUT_MS });
  await sleep(200); // smtp-sink listens at once; a probe connection would be harmless but is not needed
  const t0 = process.hrtime.bigint();
  // -c 0: unlimited messages per connection in this build (its man page's -1 sends none); -m/-M: 1 KiB bodies.
  const postal = spawn(ctx.peers.postal.path!, ['-p', String(port), '-t', '20', '-c', '0', '-m', '1', '-M', '1', '-f', 'senders.txt', '127.0.0.1', 'users.txt'], {
    cwd: dir,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((done) => postal.once('exit', () => done()));
  let cpu = NaN;
  let sinkDone = false;
  const s = sink.then((r) => ((sinkDone = true), r));
  for (let i = 0; i < RUN_TIMEOUT_MS / 20 && !sinkDone; i++) {
    try {
      cpu = processCpuS(postal.pid!);
    } catch {
      break; // postal exited
    }
    await sleep(20);
  }
  const r = await s;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  try {
    cpu = processCpuS(postal.pid!);
  } catch {
    // gone: keep the last reading (at most 20 ms old)
  }
  postal.kill('SIGKILL');
  await exited;
  const error = r.code === 0 ? null : `smtp-sink -M exit ${r.code}: ${r.stderr.trim().slice(-300)}`;
  return { wallS, messages: n, units: n, generatorCpuS: cpu, sinkCpuS: r.cpuS, error };
}

/** Start-up of `smtpbench run` on the embedded server: how it was measured, and the figures. */
export interface StartupResult {
  readonly method: string;
  readonly command: string;
  readonly ok: string;
  /** Process spawn to the first MAIL written, ms. */
  readonly startupMs: Spread | null;
  /** Spawn to the start barrier (run.hlog StartTime), ms. */
  readonly toBarrierMs: Spread | null;
  /** Fastest connect + greeting + EHLO after the barrier, ms. */
  readonly handshakeMs: Spread | null;
  /** Whole process wall and CPU of this small run, s (the fixed cost every run pays). */
  readonly wallS: Spread | null;
  readonly cpuS: Spread | null;
  readonly errors: string[];
}

/**
 * Spawn of `smtpbench run --messages 100` (embedded server, default workers) to its first message
 * sent. Nothing in the product timestamps the first MAIL, so it is put together from what the run
 * records: run.hlog's StartTime is the start barrier (epoch ms: the workers are up and the embedded
 * server listens), and a session sends MAIL once connect, greeting and EHLO are done; the fastest
 * of each phase (summary.json) stands for the first session. Spawn time is Date.now() before
 * spawn, on the same clock; ms resolution.
 */
export async function startupCase(ctx: SuiteContext): Promise<StartupResult> {
  const args = ['--messages', '100', '--sessions', '2'];
  const out = outDir(ctx, 'startup');
  const toBarrier: number[] = [];
  const handshake: number[] = [];
  const total: number[] = [];
  const wall: number[] = [];
  const cpu: number[] = [];
  const errors: string[] = [];
  for (let round = 0; round <= ctx.pairs; round++) {
    const r = await smtpbenchRun(ctx, null, args, 100, 100, out);
    if (r.error !== null || r.summary === null) {
      errors.push(r.error ?? 'no summary');
      continue;
    }
    const m = /#\[StartTime: ([\d.]+)/.exec(readFileSync(join(out, 'run.hlog'), 'utf8'));
    const barrierMs = m ? Number(m[1]) * 1000 : NaN;
    const hs = ['connect', 'greeting', 'ehlo'].reduce((sum, p) => sum + (r.summary!.phases[p]?.min ?? NaN), 0);
    ctx.log(
      `  ${round === 0 ? 'warm-up' : `round ${round}/${ctx.pairs}`}: spawn → barrier ${(barrierMs - r.spawnedAtMs).toFixed(0)} ms, + handshake ${hs.toFixed(1)} ms; process ${r.wallS.toFixed(3)} s`,
    );
    if (round === 0) continue;
    toBarrier.push(barrierMs - r.spawnedAtMs);
    handshake.push(hs);
    total.push(barrierMs - r.spawnedAtMs + hs);
    wall.push(r.wallS);
    cpu.push(r.generatorCpuS);
  }
  return {
    method:
      'Date.now() before spawn → run.hlog StartTime (the start barrier: workers up, embedded server listening) + the fastest connect + greeting + EHLO of summary.json (the first session then writes MAIL)',
    command: `smtpbench run ${args.join(' ')} (embedded server, default workers)`,
    ok: `${total.length}/${ctx.pairs}`,
    startupMs: spread(total),
    toBarrierMs: spread(toBarrier),
    handshakeMs: spread(handshake),
    wallS: spread(wall),
    cpuS: spread(cpu),
    errors: errors.slice(0, 3),
  };
}

/** 1 MiB end to end (`smtpbench run` into `smtpbench serve`) beside iperf3's loopback figure. */
export interface EndToEndResult {
  readonly command: string;
  readonly iperf3: string | null;
  readonly ok: string;
  /** MB/s of the run's load phase (summary.json totals.rates.mbPerS; start-up excluded, as iperf3's is). */
  readonly runMBps: Spread | null;
  /** MB/s over the whole process (start-up included). */
  readonly processMBps: Spread | null;
  readonly iperf3MBps: Spread | null;
  /** Median over rounds of runMBps ÷ iperf3MBps of the same round. */
  readonly share: Spread | null;
  readonly errors: string[];
}

/** One iperf3 stream on loopback, MB/s (10^6 octets) received. */
async function iperf3Once(ctx: SuiteContext): Promise<number> {
  const port = await freePort();
  const server = spawn(ctx.peers.iperf3.path!, ['-s', '-B', '127.0.0.1', '-p', String(port), '-1', '--forceflush'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  try {
    // Wait for its banner: a probe connection would be taken for the one client of -1.
    await new Promise<void>((done, fail) => {
      const t = setTimeout(() => fail(new Error('iperf3 -s did not start')), 5_000);
      server.stdout.on('data', (d: Buffer) => d.toString().includes('listening') && (clearTimeout(t), done()));
    });
    const r = await runCapture(ctx.peers.iperf3.path!, ['-c', '127.0.0.1', '-p', String(port), '-t', ctx.short ? '2' : '5', '-J'], 30_000);
    const bps = (JSON.parse(r) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
    return bps / 8 / MB;
  } finally {
    server.kill('SIGKILL');
    await exited;
  }
}

function runCapture(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.once('exit', (code) => (clearTimeout(t), code === 0 ? done(out) : fail(new Error(`${cmd} exit ${code}`))));
  });
}

export async function endToEndCase(ctx: SuiteContext, pool: SinkPool): Promise<EndToEndResult> {
  const n = ctx.short ? 100 : 500;
  const w = workloads(ctx.short).client.find((x) => x.id === 'client-1mib')!;
  const args = runArgs({ ...w, messages: n });
  const out = outDir(ctx, 'e2e');
  const run: number[] = [];
  const proc: number[] = [];
  const ip: number[] = [];
  const share: number[] = [];
  const errors: string[] = [];
  const hasIperf = ctx.peers.iperf3.available;
  for (let round = 0; round <= ctx.pairs; round++) {
    let ipMBps = NaN;
    if (hasIperf) {
      try {
        ipMBps = await iperf3Once(ctx);
      } catch (err) {
        errors.push(`iperf3: ${(err as Error).message}`);
      }
    }
    const r = await smtpbenchRun(ctx, await pool.get('smtpbench'), args, n, (n * w.payload) / MB, out);
    const mbps = r.summary?.totals.rates.mbPerS ?? NaN;
    ctx.log(
      `  ${round === 0 ? 'warm-up' : `round ${round}/${ctx.pairs}`}: iperf3 ${ipMBps.toFixed(0)} MB/s, smtpbench ${r.error ?? `${mbps.toFixed(0)} MB/s in the run, ${(r.units / r.wallS).toFixed(0)} over the process`}`,
    );
    if (r.error !== null) errors.push(r.error);
    if (round === 0) continue;
    ip.push(ipMBps);
    if (r.error === null) {
      run.push(mbps);
      proc.push(r.units / r.wallS);
      share.push(mbps / ipMBps);
    }
  }
  return {
    command: `smtpbench run --target smtpbench serve ${args.join(' ')}`,
    iperf3: hasIperf ? `iperf3 -c 127.0.0.1 -t ${ctx.short ? 2 : 5} (one stream)` : null,
    ok: `${run.length}/${ctx.pairs}`,
    runMBps: spread(run),
    processMBps: spread(proc),
    iperf3MBps: spread(ip),
    share: spread(share),
    errors: errors.slice(0, 3),
  };
}

/** RSS per idle session, client and server. */
export interface RssResult {
  readonly method: string;
  readonly sessions: number;
  readonly ulimitN: number;
  readonly note: string | null;
  /** VmRSS, KiB, at the few sessions and at `sessions`. */
  readonly client: { readonly fewKiB: number; readonly manyKiB: number; readonly perSessionKiB: number } | null;
  readonly server: { readonly fewKiB: number; readonly manyKiB: number; readonly perSessionKiB: number } | null;
  readonly error: string | null;
}

const FEW = 10;

/**
 * `smtpbench serve` with every MAIL reply held for 100 s, and `smtpbench run` with N sessions:
 * each session connects, says EHLO, writes its MAIL (RCPT, DATA pipelined behind it) and waits, so
 * the sessions are open and idle. VmRSS of both processes is read once the server counts N open
 * connections (its /stats), for N = 10 and N = 10,000 (fresh processes each time); per session =
 * the difference ÷ (N − 10), which leaves out each process's fixed size.
 */
export async function rssCase(ctx: SuiteContext): Promise<RssResult> {
  const ulimitN = Number((await runCapture('/bin/sh', ['-c', 'ulimit -n'], 5_000)).trim());
  let sessions = ctx.short ? 2_000 : 10_000;
  let note: string | null = null;
  if (ulimitN < sessions + 200) {
    note = `ulimit -n is ${ulimitN}: measured at ${ulimitN - 200} sessions instead of ${sessions}`;
    sessions = ulimitN - 200;
  }
  const method = `serve --profile (MAIL reply held 100 s) + run --sessions N (closed model, one message each); VmRSS when serve's /stats shows N open connections; per session = (RSS at N − RSS at ${FEW}) ÷ (N − ${FEW}); fresh processes for each N`;
  try {
    const few = await holdSessions(ctx, FEW);
    const many = await holdSessions(ctx, sessions);
    const per = (a: number, b: number): number => (b - a) / (sessions - FEW);
    return {
      method,
      sessions,
      ulimitN,
      note,
      client: { fewKiB: few.client, manyKiB: many.client, perSessionKiB: per(few.client, many.client) },
      server: { fewKiB: few.server, manyKiB: many.server, perSessionKiB: per(few.server, many.server) },
      error: null,
    };
  } catch (err) {
    return { method, sessions, ulimitN, note, client: null, server: null, error: (err as Error).message };
  }
}

async function holdSessions(ctx: SuiteContext, n: number): Promise<{ client: number; server: number }> {
  const profile = join(ctx.tmp, 'rss-profile.json');
  writeFileSync(
    profile,
    JSON.stringify({
      executor: 'closed',
      timeouts: { connect: '60s', greeting: '60s', reply: '200s' },
      server: { maxConnections: 0, faults: ['mail: delay 100s'], tls: { starttls: false } },
    }),
  );
  const port = await freePort();
  const http = await freePort();
  const serve = await startProc('smtpbench serve', process.execPath, [ctx.main, 'serve', '--profile', profile, '--host', '127.0.0.1', '--port', String(port), '--http', String(http), '--quiet'], port);
  const run = spawn(
    process.execPath,
    [
      ctx.main,
      'run',
      profile,
      '--target',
      `smtp://127.0.0.1:${port}`,
      '--sessions',
      String(n),
      '--messages',
      String(n),
      '--messages-per-session',
      '1',
      '--duration',
      '150s',
      '--out',
      outDir(ctx, 'rss'),
      '--quiet',
      '--force',
    ],
    {
      stdio: 'ignore',
    },
  );
  const runExited = new Promise<void>((done) => run.once('exit', () => done()));
  try {
    const until = Date.now() + 90_000;
    let open = 0;
    while (Date.now() < until) {
      const stats = (await (await fetch(`http://127.0.0.1:${http}/stats`)).json()) as { activeConnections: number };
      open = stats.activeConnections;
      if (open >= n) break;
      if (run.exitCode !== null) throw new Error(`smtpbench run exited ${run.exitCode} with ${open} of ${n} sessions open`);
      await sleep(250);
    }
    if (open < n) throw new Error(`only ${open} of ${n} sessions open after 90 s`);
    await sleep(1_000); // the last sessions' EHLO and MAIL
    const r = { client: rssKiB(run.pid!), server: rssKiB(serve.pid) };
    ctx.log(`  ${n} sessions open: client ${(r.client / 1024).toFixed(1)} MiB, server ${(r.server / 1024).toFixed(1)} MiB`);
    return r;
  } finally {
    run.kill('SIGKILL');
    await runExited;
    await serve.stop();
  }
}
