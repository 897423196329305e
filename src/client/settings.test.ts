import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileError } from '../errors.js';
import { resolveProfile } from '../profile/resolve.js';
import { sessionSettings } from './settings.js';

const dir = mkdtempSync(join(tmpdir(), 'smtpbench-settings-'));

describe('sessionSettings', () => {
  it('takes credentials from the file, else from the environment, never from the profile', () => {
    const file = join(dir, 'accounts.txt');
    writeFileSync(file, 'a:1\nb:2\n');
    expect(sessionSettings(resolveProfile({ auth: { credentialsFile: file } })).auth).toEqual({
      mechanism: 'auto',
      accounts: [
        { user: 'a', pass: '1' },
        { user: 'b', pass: '2' },
      ],
    });
    const env = { SMTPBENCH_AUTH_USER: 'u', SMTPBENCH_AUTH_PASSWORD: 'p' };
    expect(sessionSettings(resolveProfile({ auth: { mechanism: 'PLAIN' } }), env).auth).toEqual({ mechanism: 'PLAIN', accounts: [{ user: 'u', pass: 'p' }] });
  });

  it('names the key of every file it cannot use', () => {
    const profile = resolveProfile({ tls: { starttls: 'on', ca: join(dir, 'missing.pem') }, auth: { credentialsFile: join(dir, 'missing.txt') }, message: { replay: dir } });
    try {
      sessionSettings(profile, {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileError);
      expect((err as ProfileError).issues.map((i) => i.path)).toEqual(['tls.ca', 'auth.credentialsFile', 'message.replay']);
      expect((err as ProfileError).issues[2].message).toMatch(/no \.eml files/);
    }
    expect(() => sessionSettings(resolveProfile({ auth: {} }), {})).toThrow(/no credentials/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# none\n');
    expect(() => sessionSettings(resolveProfile({ auth: { credentialsFile: empty } }), {})).toThrow(/empty\.txt: no accounts in the file/);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'a:1\nalice\n');
    expect(() => sessionSettings(resolveProfile({ auth: { credentialsFile: bad } }), {})).toThrow(/bad\.txt: line 2 is not user:password/);
  });

  it('names every replay file it cannot send: a directory called x.eml, an empty .eml (hostile review F22)', () => {
    const replay = mkdtempSync(join(tmpdir(), 'smtpbench-replay-'));
    writeFileSync(join(replay, 'a.eml'), 'Subject: a\r\n\r\nhi\r\n');
    writeFileSync(join(replay, 'b.eml'), '');
    mkdirSync(join(replay, 'x.eml'));
    expect(() => sessionSettings(resolveProfile({ message: { replay } }), {})).toThrow(/message\.replay: .*: b\.eml is empty; x\.eml: EISDIR/);
  });

  it('turns smtps:// into implicit TLS and lmtp:// into LMTP', () => {
    expect(sessionSettings(resolveProfile({ target: 'smtps://127.0.0.1:465' })).tls).toEqual({ implicit: true, starttls: 'off', verify: true, ca: null, resume: false });
    expect(sessionSettings(resolveProfile({})).tls).toBeNull();
    expect(sessionSettings(resolveProfile({ target: 'lmtp://127.0.0.1:24' })).lmtp).toBe(true);
  });
});
