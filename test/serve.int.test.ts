/**
 * `smtpbench serve` end to end: the built CLI (dist/, built by pretest) as a child process on
 * port 0, driven over real sockets.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient } from './helpers/raw-client.js';
import { CLI, ROOT, serve as serveCli } from './helpers/serve-cli.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

async function serve(args: string[]) {
  const s = await serveCli(args);
  children.push(s.child);
  return s;
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
