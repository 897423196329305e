/**
 * swaks (a real, independent SMTP client) against `smtpbench serve --profile
 * profiles/serve-corpus.yaml`: pipelining, AUTH PLAIN/LOGIN/CRAM-MD5 and STARTTLS. Skipped when
 * swaks is not installed; CI installs it (with Net::SSLeay for --tls).
 */
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from './helpers/serve-cli.js';

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_SWAKS = has('swaks', ['--version']);
const HAVE_TLS = HAVE_SWAKS && has('perl', ['-MNet::SSLeay', '-e1']);

function swaks(port: number, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) =>
    execFile(
      'swaks',
      ['--server', `127.0.0.1:${port}`, '--helo', 'client.example', '--from', 'sender@example.test', '--to', 'rcpt@example.test', ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 99) : 0, out: stdout + stderr }),
    ),
  );
}

describe.skipIf(!HAVE_SWAKS)('swaks against smtpbench serve', () => {
  let port = 0;
  let stop: () => void = () => {};
  beforeAll(async () => {
    const s = await serve(['--profile', 'profiles/serve-corpus.yaml']);
    port = s.port;
    stop = () => s.child.kill('SIGTERM');
  });
  afterAll(() => stop());

  it('delivers a message with PIPELINING (MAIL, RCPT, DATA in one group)', async () => {
    const r = await swaks(port, ['--pipeline']);
    expect(r.code, r.out).toBe(0);
    // swaks prints the pipelined group's three commands before the first of their replies.
    expect(r.out).toMatch(/-> MAIL FROM:<sender@example\.test>\n -> RCPT TO:<rcpt@example\.test>\n -> DATA\n<- {2}250/);
    expect(r.out).toContain('<-  250 2.0.0 Message accepted');
  });

  for (const mech of ['PLAIN', 'LOGIN', 'CRAM-MD5']) {
    it(`authenticates with AUTH ${mech}, and a wrong password fails`, async () => {
      const ok = await swaks(port, ['--auth', mech, '--auth-user', 'alice', '--auth-password', 'secret']);
      expect(ok.code, ok.out).toBe(0);
      expect(ok.out).toContain('<-  235 2.7.0');
      const bad = await swaks(port, ['--auth', mech, '--auth-user', 'alice', '--auth-password', 'wrong']);
      expect(bad.code).not.toBe(0);
      expect(bad.out).toContain('<** 535 5.7.8');
    });
  }

  it.skipIf(!HAVE_TLS)('upgrades with STARTTLS, then authenticates and delivers inside TLS', async () => {
    const r = await swaks(port, ['--tls', '--pipeline', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'secret']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('<-  220 2.0.0 Ready to start TLS');
    expect(r.out).toMatch(/=== TLS started with cipher TLSv1\.3/);
    // After TLS, swaks's lines are marked ~> / <~; the new EHLO no longer offers STARTTLS.
    expect(r.out).toContain('<~  235 2.7.0');
    expect(r.out).toContain('<~  250 2.0.0 Message accepted');
    expect(r.out.split('=== TLS started')[1]).not.toContain('STARTTLS');
  });
});
