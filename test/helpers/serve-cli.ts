/** Starts the built CLI's `serve` (dist/, built by pretest) as a child process on port 0. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT } from './paths.js';

/** A running `smtpbench serve`: its port, its first stdout line, and everything it printed so far. */
export interface ServeProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly firstLine: string;
  stdout(): string;
}

/**
 * Starts `smtpbench serve ARGS --port 0` and resolves once it prints `listening on HOST:PORT`.
 * The caller kills `child` when done.
 */
export function serve(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess & { stderr(): string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let out = '';
    let err = '';
    let started = false;
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (!started && nl !== -1) {
        started = true;
        const firstLine = out.slice(0, nl);
        ok({ port: Number(/:(\d+)$/.exec(firstLine)?.[1]), child, firstLine, stdout: () => out, stderr: () => err });
      }
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
  });
}

/**
 * Starts `smtpbench serve --http 0 --quiet` (a sink with a stats endpoint); the child is pushed onto
 * `children` for the caller's cleanup. Resolves with its SMTP port and its stats base URL.
 */
export async function serveWithStats(children: ChildProcess[], args: string[] = []): Promise<{ port: number; url: string }> {
  const s = await serve(['--http', '0', '--quiet', ...args]);
  children.push(s.child);
  for (let i = 0; i < 100; i++) {
    const m = /^stats on (http:\/\/[^/\s]+)\/stats/m.exec(s.stdout());
    if (m) return { port: s.port, url: m[1] };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`serve printed no stats line: ${s.stdout()}`);
}

/** `GET {url}/stats` of a `serve --http` sink, parsed. */
export async function statsOf(url: string): Promise<{ counters: Record<string, number>; wallClockMs: number }> {
  const res = await fetch(`${url}/stats`);
  return (await res.json()) as { counters: Record<string, number>; wallClockMs: number };
}
