/**
 * `smtpbench serve` end to end: the built CLI (dist/, built by pretest) as a child process on
 * port 0, driven over real sockets.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient } from './helpers/raw-client.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

/** Starts `serve ARGS --port 0` and resolves with the port from its first line, `listening on HOST:PORT`. */
export function serve(args: string[]): Promise<{ port: number; child: ChildProcess; firstLine: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((ok, fail) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        const firstLine = out.slice(0, nl);
        ok({ port: Number(/:(\d+)$/.exec(firstLine)?.[1]), child, firstLine });
      }
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
  });
}

describe('smtpbench serve', () => {
  it('prints "listening on HOST:PORT" first and applies repeated --fault flags', async () => {
    const { port, firstLine } = await serve(['--fault', 'rcpt: 450 4.2.1 busy', '--fault', 'noop: delay 50ms']);
    expect(firstLine).toMatch(/^listening on 127\.0\.0\.1:\d+$/);
    const c = await rawClient(port);
    await c.replyCount(1);
    const t0 = performance.now();
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nNOOP\r\nQUIT\r\n');
    const r = await c.replyCount(6);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 450, 250, 221]);
    expect(r[4].atMs - t0).toBeGreaterThanOrEqual(45);
  });

  it('exits 2 and names every bad --fault by its path', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((done) =>
      execFile(process.execPath, [CLI, 'serve', '--port', '0', '--fault', 'rcpt: 250 ok', '--fault', 'delay soon'], { cwd: ROOT }, (err, _o, stderr) =>
        done({ code: err ? (err.code as number) : 0, stderr }),
      ),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('server.faults.0.reply');
    expect(r.stderr).toContain('server.faults.1.delay');
  });
});
