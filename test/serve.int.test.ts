/**
 * `smtpbench serve` end to end: the built CLI (dist/, built by pretest) as a child process on
 * port 0, driven over real sockets.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient } from './helpers/raw-client.js';
import { CLI, ROOT } from './helpers/paths.js';
import { serve as serveCli } from './helpers/serve-cli.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

async function serve(args: string[], env?: NodeJS.ProcessEnv) {
  const s = await serveCli(args, env);
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

  it('prints per-second statistics and serves them as JSON and Prometheus text with --http', async () => {
    const s = await serve(['--http', '0']);
    const c = await rawClient(s.port);
    await c.replyCount(1);
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n');
    await c.closedByServer();
    await new Promise((r) => setTimeout(r, 1300));
    const lines = s.stdout().split('\n');
    const httpLine = lines.find((l) => l.startsWith('stats on http://'))!;
    const base = /^stats on (http:\/\/[^/]+)\/stats/.exec(httpLine)![1];
    expect(lines.some((l) => /^\d+s conns 0 open\/1 · msg\/s \d+ · rcpt\/s \d+ · cmd\/s \d+ · MB\/s [\d.]+ · messages 1 · /.test(l))).toBe(true);

    const json = await (await fetch(`${base}/stats`)).json();
    expect(json.counters).toMatchObject({ connections: 1, messages: 1, recipients: 1, bytes: 7 });
    expect(json.activeConnections).toBe(0);
    expect(json.histograms['cmd.mail'].count).toBe(1);
    expect(json.histograms['data-stream'].count).toBe(1);
    expect(json.sizes['message-bytes']).toMatchObject({ count: 1, unit: 'bytes', min: 7, max: 7 });

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('# TYPE smtpbench_server_messages_total counter\nsmtpbench_server_messages_total 1\n');
    expect(text).toContain('smtpbench_server_messages_rejected_total 0\n');
    expect(text).toMatch(/smtpbench_server_duration_seconds\{name="cmd\.rcpt",quantile="0\.99"\} [\d.e-]+\n/);
    expect(text).toContain('smtpbench_server_duration_seconds_count{name="cmd.rcpt"} 1\n');
    expect(text).toContain('smtpbench_server_size_bytes{name="message-bytes",quantile="0.5"} 7\n');
    // Every sample line is "name{labels} number" or "name number" (exposition format 0.0.4).
    for (const l of text
      .trim()
      .split('\n')
      .filter((x) => !x.startsWith('#')))
      expect(l).toMatch(/^[a-z_]+(\{[^}]*\})? -?[\d.e+-]+$/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('still serves, without STARTTLS and with a warning, when openssl cannot make the default certificate', async () => {
    const s = await serve([], { ...process.env, PATH: '/nonexistent' });
    const c = await rawClient(s.port);
    await c.replyCount(1);
    c.write('EHLO x\r\nSTARTTLS\r\n');
    const r = await c.replyCount(3);
    expect(r[1].text).not.toContain('STARTTLS');
    expect(r[2].code).toBe(502);
    expect(s.stderr()).toContain('STARTTLS not offered: cannot make an ephemeral TLS certificate with openssl');
  });
});
