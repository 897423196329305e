/** The environment every figure is recorded with (DEVELOPERS.md: Node version, CPU and git sha). */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

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
