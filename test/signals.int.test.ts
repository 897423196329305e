/** Ctrl-C: the first stops and still writes every report; the second aborts but writes what was merged. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers/paths.js';

/**
 * Starts a long closed run, waits until it has printed `seconds` progress lines (one per second of
 * the run, on stderr) with messages accepted, sends SIGINT `signals` times (300 ms apart), and waits
 * for the exit. Waiting on the run's own progress, not on a wall-clock delay, keeps the test valid
 * on a loaded machine where start-up takes longer. `extra` comes first: a profile (a stalling
 * server, to make the graceful stop take a while) or flags.
 */
async function interrupted(signals: number, seconds: number, extra: string[] = [], signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; out: string; stderr: string }> {
  const out = mkdtempSync(join(tmpdir(), 'smtpbench-sig-'));
  const child = spawn(process.execPath, [CLI, 'run', ...extra, '--duration', '60s', '--messages', '100000000', '--sessions', '4', '--workers', '2', '--out', out], {
    cwd: ROOT,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const progressed = () => {
    const lines = stderr.split('\n').filter((l) => /^\[\s*\d+s\]/.test(l));
    return lines.length >= seconds && /accepted [1-9]/.test(lines[lines.length - 1]);
  };
  for (const t0 = Date.now(); !progressed() && Date.now() - t0 < 30_000;) await new Promise((r) => setTimeout(r, 50));
  expect(progressed(), stderr).toBe(true);
  for (let i = 0; i < signals; i++) {
    child.kill(signal);
    await new Promise((r) => setTimeout(r, 300));
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, out, stderr };
}

describe('signals', () => {
  it('stops on the first Ctrl-C, lets transactions finish, and writes every report', async () => {
    const r = await interrupted(1, 1);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(s.interrupted).toBe(true);
    expect(s.aborted).toBe(false);
    expect(s.durationS).toBeLessThan(30);
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    // Graceful: every started transaction got its final reply.
    expect(s.totals.messages.accepted + s.totals.messages.rejected).toBe(s.totals.messages.attempted);
    expect(s.server.counters.messages).toBe(s.totals.messages.accepted);
    expect(readFileSync(join(r.out, 'run.hlog'), 'utf8')).toMatch(/^Tag=transaction,/m);
  });

  it('a hang-up (the ssh session closed) stops the run like Ctrl-C and writes every report (hostile review F21)', async () => {
    const r = await interrupted(1, 1, [], 'SIGHUP');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(s.interrupted).toBe(true);
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    expect(s.totals.messages.accepted + s.totals.messages.rejected).toBe(s.totals.messages.attempted);
  });

  it('a Ctrl-C during warm-up reports nothing measured: warm-up is excluded from every figure', async () => {
    const r = await interrupted(1, 1, ['--warmup', '30s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warm-up .*accepted [1-9]/);
    const s = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(s.interrupted).toBe(true);
    expect(s.durationS).toBe(0);
    expect(s.totals.messages.attempted).toBe(0);
    expect(s.phases).toEqual({});
    // Nothing measured is said, not dressed as figures (hostile review F3): the server's figures and
    // the generator's health would be warm-up data.
    expect(s.warmupCompleted).toBe(false);
    expect(s.server.counters.messages).toBe(0);
    expect(s.generator).toBeNull();
    expect(readFileSync(join(r.out, 'report.md'), 'utf8')).toContain('nothing measured: the run ended inside its 30 s warm-up');
  });

  it('aborts on a second Ctrl-C and still writes what was merged', async () => {
    // The embedded server stalls every reply from 1.5 s on, so after the second progress line the
    // graceful stop is still waiting for the transactions in flight when the second Ctrl-C comes.
    const profile = join(mkdtempSync(join(tmpdir(), 'smtpbench-sig-')), 'stall.json');
    writeFileSync(profile, JSON.stringify({ server: { faults: ['stall 60s at 1500ms'] } }));
    const r = await interrupted(2, 2, [profile, '--graceful-stop', '30s']);
    expect(r.code, r.stderr).toBe(130);
    const s = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(s.interrupted).toBe(true);
    expect(s.aborted).toBe(true);
    expect(r.stderr).toContain('aborted');
    // What the first second merged is there; the stalled transactions are not.
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    expect(s.phases.transaction.count).toBeGreaterThan(0);
    // The totals still add up: the stalled transactions are in flight, not lost (hostile review F13).
    const m = s.totals.messages;
    expect(m.inFlight).toBeGreaterThan(0);
    expect(m.accepted + m.rejected + m.failed + m.inFlight).toBe(m.attempted);
    const rc = s.totals.recipients;
    expect(rc.accepted + rc.rejected + rc.failed + rc.inFlight).toBe(rc.attempted);
    // Unknown is unknown, not zero: the workers never reported their health.
    expect(s.generator).toBeNull();
    expect(readFileSync(join(r.out, 'report.md'), 'utf8')).toContain('Generator: unknown');
    // The measured time is the merged seconds', not "now − start" (which would lower the rates).
    expect(s.durationS).toBeGreaterThan(0.5);
    expect(s.durationS).toBeLessThan(3);
  });
});
