/** Runs the built CLI (`dist/cli/main.js`, built by `npm test`'s pretest) as a child process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from './paths.js';

export interface CliResult {
  /** The exit code (a signal or a spawn failure counts as -1). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock time from spawn to exit, ms. */
  readonly wallMs: number;
  /** `performance.now()` when the process exited. */
  readonly exitedAt: number;
}

/** Runs `smtpbench ARGS` to completion (at most `timeoutMs`) and collects its output. */
export function cli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const exitedAt = performance.now();
      done({ code, stdout, stderr, wallMs: exitedAt - t0, exitedAt });
    });
  });
}

/** A fresh temporary directory. */
export const tmp = (): string => mkdtempSync(join(tmpdir(), 'smtpbench-test-'));

/** The parsed summary.json of a run directory. */
export const summaryOf = (dir: string): any => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

/** Writes a profile of YAML `lines` in a fresh directory and runs it (`--out DIR/out --quiet`, then `args`): the result and the run's directory. */
export async function runProfileLines(lines: readonly string[], args: readonly string[] = []): Promise<{ r: CliResult; out: string }> {
  const dir = tmp();
  const profile = join(dir, 'profile.yaml');
  writeFileSync(profile, lines.join('\n'));
  const out = join(dir, 'out');
  return { r: await cli(['run', profile, '--out', out, '--quiet', ...args]), out };
}
