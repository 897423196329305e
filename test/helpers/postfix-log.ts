/**
 * Reading a private Postfix's maillog (scripts/postfix-instance.sh) and running the CLI, for the
 * real-MTA integration tests. Postfix (3.7, maillog_file + postlogd, syslog_name
 * postfix-smtpbench) writes, for one accepted and discarded message:
 *
 *   … postfix-smtpbench/qmgr[3824]: 793ED20C180: from=<bench@example.test>, size=450, nrcpt=1 (queue active)
 *   … postfix-smtpbench/discard[3853]: 793ED20C180: to=<rcpt@example.test>, relay=none, …, dsn=2.0.0, status=sent (example.test)
 */
import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { CLI, ROOT } from './paths.js';

/** Current size of the maillog in bytes: everything after this offset was written later. */
export async function logSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * The complete lines appended to the log since `offset`. A trailing line that postlogd has
 * not finished writing is left out (it is read again on the next poll).
 */
export async function readLogSince(path: string, offset: number): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size <= offset) return [];
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const end = text.lastIndexOf('\n');
    return end < 0 ? [] : text.slice(0, end).split('\n');
  } finally {
    await fh.close();
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ...args` from the repository root; never rejects on exit status. */
export function runCli(args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr),
      });
    });
  });
}
