/**
 * The environment every figure is recorded with (house style §12: Node version, CPU and git sha):
 * in summary.json and the reports, and printed before every benchmark run (`npm run bench`).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** Where a run or a benchmark ran. */
export interface Environment {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly os: string;
  /** HEAD of the smtpbench checkout, or null outside a git checkout. */
  readonly gitSha: string | null;
}

/** Reads the environment of this process. Never throws. */
export function readEnvironment(): Environment {
  let gitSha: string | null;
  try {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    gitSha =
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || null;
  } catch {
    gitSha = null;
  }
  return {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    gitSha,
  };
}

/**
 * One line for the top of a benchmark's output, e.g.
 * `node v20.19.0 · AMD EPYC 7B13 × 2 · linux 6.8.0 x64 · git 0c61dfc1a2b3 · 2025-01-02T03:04:05.000Z`.
 */
export function environmentLine(env: Environment, at: Date = new Date()): string {
  return `node ${env.node} · ${env.cpu} × ${env.cores} · ${env.os} · git ${env.gitSha?.slice(0, 12) ?? 'unknown'} · ${at.toISOString()}`;
}
