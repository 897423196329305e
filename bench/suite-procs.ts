/**
 * Processes for the macro suite (bench/suite.ts): long-lived sinks whose CPU is read from
 * /proc/PID/stat around each run, and short-lived load generators whose CPU is read from the
 * wrapping shell's cutime + cstime once it has waited for them. Every process is started here and
 * stopped here, by its own PID (or its own process group); every wait is bounded.
 *
 * CPU method (documented in bench/README.md):
 * - a sink (smtp-sink, `smtpbench serve`, smtp-server, aiosmtpd) lives through a whole case: its
 *   utime + stime (fields 14 and 15 of /proc/PID/stat, all threads included) are read just before
 *   and just after each run, and the difference is that run's sink CPU;
 * - a load generator (smtp-source, `smtpbench run`) runs under `sh -c 'CMD; cat /proc/$$/stat >&3'`:
 *   the shell has reaped CMD when `cat` reads the shell's stat, so its cutime + cstime (fields 16
 *   and 17) are CMD's user + system CPU, worker threads and children included. Start-up is counted:
 *   it is part of what a run costs.
 * Ticks are 1/CLK_TCK s (10 ms on Linux), so a figure below about 0.5 s of CPU carries ±2 % or more.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Seconds per /proc tick (1 / CLK_TCK). */
export const TICK_S = 1 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

/** The fields after the `(comm)` of /proc/PID/stat (field 3, the state, is index 0). */
function statFields(text: string): string[] {
  return text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

/** utime + stime of a live process, in seconds (all its threads). */
export function processCpuS(pid: number): number {
  const f = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (Number(f[11]) + Number(f[12])) * TICK_S;
}

/** VmRSS of a live process, in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

let nextPort = 31500;
/**
 * A free port in the range this suite may use (31500–31599), in turn, skipping ports another
 * process holds. Wraps around; throws after one full pass without a free port.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = nextPort;
    nextPort = nextPort === 31599 ? 31500 : nextPort + 1;
    const free = await new Promise<boolean>((done) => {
      const s = createServer();
      s.once('error', () => done(false));
      s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 31500-31599');
}

/** Resolves once 127.0.0.1:port accepts a connection; throws after `timeoutMs`. */
export async function waitPort(port: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((done) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => (c.destroy(), done(true)));
      c.once('error', () => done(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never opened`);
}

/** A long-lived process of this suite (a sink, a server under test). */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** utime + stime so far, seconds. */
  cpuS(): number;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  stop(): Promise<void>;
  /** Last output lines (stderr, and stdout unless it was discarded), for error messages. */
  tail(): string;
}

function keepTail(stream: NodeJS.ReadableStream | null, into: { text: string }): void {
  stream?.on('data', (d: Buffer) => (into.text = (into.text + d.toString()).slice(-2000)));
}

/** Starts `cmd args` and waits until it listens on `port`. */
export async function startProc(name: string, cmd: string, args: string[], port: number, env?: NodeJS.ProcessEnv): Promise<Proc> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  const out = { text: '' };
  keepTail(child.stdout, out);
  keepTail(child.stderr, out);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await Promise.race([waitPort(port), exited.then(() => Promise.reject(new Error(`${name} exited: ${out.text.trim()}`)))]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    name,
    pid: child.pid!,
    port,
    cpuS: () => processCpuS(child.pid!),
    tail: () => out.text,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(t);
}

/** Process groups of the load generators running now (their shells' PIDs). */
const running = new Set<number>();

/** Kills the process group of every load generator still running (on Ctrl-C). */
export function killRunning(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** One finished load-generator run. */
export interface Timed {
  /** Spawn to exit, seconds (monotonic clock). */
  readonly wallS: number;
  /** User + system CPU of the command and everything it waited for, seconds. */
  readonly cpuS: number;
  readonly code: number | null;
  /** The last 2000 characters of its stderr. */
  readonly stderr: string;
  /** Date.now() just before the spawn (for start-up timing). */
  readonly spawnedAtMs: number;
}

/**
 * Runs `cmd args` to its end under a shell that reports the command's CPU (see the file comment).
 * A run longer than `timeoutMs` is killed (its whole process group) and reported with code null.
 */
export function runTimed(cmd: string, args: string[], opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const spawnedAtMs = Date.now();
    const t0 = process.hrtime.bigint();
    const child = spawn('/bin/sh', ['-c', '"$@"; rc=$?; cat /proc/$$/stat >&3; exit $rc', 'sh', cmd, ...args], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true, // its own process group, so a timeout kills the command too
    });
    running.add(child.pid!);
    const err = { text: '' };
    keepTail(child.stderr, err);
    let stat = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (stat += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, opts.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child.pid!);
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const f = stat ? statFields(stat) : [];
      const cpuS = f.length > 14 ? (Number(f[13]) + Number(f[14])) * TICK_S : NaN;
      resolve({ wallS, cpuS, code: timedOut ? null : code, stderr: timedOut ? `timed out after ${opts.timeoutMs} ms\n${err.text}` : err.text, spawnedAtMs });
    });
  });
}
