/** Ctrl-C: the first stops and still writes every report; the second aborts but writes what was merged. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { delayServer, type DelayServer } from './helpers/delay-server.js';

const ROOT = resolve(import.meta.dirname, '..');

let server: DelayServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/**
 * Starts a long closed run, sends SIGINT `signals` times (50 ms apart) after `afterMs`, and waits
 * for the exit. `extra` adds run flags (a slow target, to make the graceful stop take a while).
 */
async function interrupted(signals: number, afterMs: number, extra: string[] = []): Promise<{ code: number | null; out: string; stderr: string }> {
  const out = mkdtempSync(join(tmpdir(), 'smtpbench-sig-'));
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'run', '--duration', '60s', '--sessions', '4', '--workers', '2', '--out', out, ...extra], { cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise((r) => setTimeout(r, afterMs));
  for (let i = 0; i < signals; i++) {
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 50));
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, out, stderr };
}

describe('signals', () => {
  it('stops on the first Ctrl-C, lets transactions finish, and writes every report', async () => {
    const r = await interrupted(1, 2500);
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

  it('aborts on a second Ctrl-C and still writes what was merged', async () => {
    // Every end-of-data reply takes 400 ms, so the graceful stop is still waiting when the second Ctrl-C comes.
    server = await delayServer({ endOfDataDelayMs: 400 });
    const r = await interrupted(2, 2500, ['--target', `smtp://127.0.0.1:${server.port}`, '--graceful-stop', '30s']);
    expect(r.code).toBe(130);
    const s = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(s.interrupted).toBe(true);
    expect(s.aborted).toBe(true);
    expect(r.stderr).toContain('aborted');
    // About 2 s were merged: 4 sessions × ~2 messages/s each; the run's later messages are not there.
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    expect(s.totals.messages.accepted).toBeLessThan(40);
    expect(s.phases.transaction.count).toBeGreaterThan(0);
  });
});
