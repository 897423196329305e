import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileError, SmtpBenchError } from '../errors.js';
import { defaultProfilePath, loadProfileFile } from './load.js';
import { resolveProfile } from './resolve.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smtpbench-profile-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('loadProfileFile', () => {
  it('reads YAML and JSON by extension', () => {
    expect(loadProfileFile(write('a.yaml', 'sessions: 3\nmessage:\n  size: 4KiB\n'))).toEqual({ sessions: 3, message: { size: '4KiB' } });
    expect(loadProfileFile(write('a.yml', 'workers: 2\n'))).toEqual({ workers: 2 });
    expect(loadProfileFile(write('a.json', '{"sessions": 3}'))).toEqual({ sessions: 3 });
    expect(loadProfileFile(write('empty.yaml', '# nothing here\n'))).toBeNull();
  });

  it('throws SB_PROFILE_NOT_FOUND with the path for a missing file', () => {
    const path = join(dir, 'missing.yaml');
    const err = thrown(() => loadProfileFile(path));
    expect(err).toBeInstanceOf(SmtpBenchError);
    expect((err as SmtpBenchError).code).toBe('SB_PROFILE_NOT_FOUND');
    expect((err as Error).message).toContain(path);
  });

  it('reports a YAML syntax error with line and column', () => {
    const path = write('bad.yaml', 'sessions: 20\nmessage:\n  size: [1KiB\n  recipients: 1\n');
    const err = thrown(() => loadProfileFile(path));
    expect(err).toBeInstanceOf(ProfileError);
    const { issues, message } = err as ProfileError;
    expect(issues.length).toBeGreaterThanOrEqual(1);
    expect(issues[0].path).toBe('');
    expect(issues[0].message).toMatch(/^YAML syntax error at line 4, column 3: /);
    expect(message).toContain(path);
  });

  it('reports duplicate YAML keys', () => {
    const err = thrown(() => loadProfileFile(write('dup.yaml', 'sessions: 1\nsessions: 2\n'))) as ProfileError;
    expect(err.issues[0].message).toMatch(/line 2, column 1: .*unique/);
  });

  it('reports a YAML alias bomb as a profile issue, not a crash (hostile review F16)', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    const err = thrown(() => loadProfileFile(write('bomb.yaml', `${levels.join('\n')}\n`)));
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).issues[0].message).toMatch(/^YAML cannot be read: .*alias/i);
  });

  it('reports a JSON syntax error with line and column', () => {
    const err = thrown(() => loadProfileFile(write('bad.json', '{\n  "sessions": 3\n  "workers": 2\n}'))) as ProfileError;
    expect(err).toBeInstanceOf(ProfileError);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ path: '', message: expect.stringMatching(/^JSON syntax error at line 3, column 3: /) });
  });

  it('refuses other extensions', () => {
    const err = thrown(() => loadProfileFile(write('a.toml', 'sessions = 3\n'))) as SmtpBenchError;
    expect(err.code).toBe('SB_USAGE');
  });
});

describe('shipped profiles', () => {
  it('defaultProfilePath points at profiles/smoke.yaml', () => {
    expect(defaultProfilePath().replaceAll('\\', '/')).toMatch(/\/profiles\/smoke\.yaml$/);
    expect(existsSync(defaultProfilePath())).toBe(true);
  });

  it('smoke.yaml resolves to the closed smoke run', () => {
    const p = resolveProfile(loadProfileFile(defaultProfilePath()));
    expect(p).toMatchObject({ executor: 'closed', sessions: 20, messagesPerSession: 100, messages: 10_000, durationMs: null });
    expect(p.message).toEqual({
      sizeBytes: 1024,
      sizeDist: null,
      recipients: 1,
      recipientsDist: null,
      maxRecipientsPerTransaction: null,
      body: 'data',
      chunkBytes: 65_536,
      text: 'ascii',
      replay: null,
      attachmentBytes: null,
    });
  });

  it('every shipped profile resolves', () => {
    const dir = join(defaultProfilePath(), '..');
    const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) expect(() => resolveProfile(loadProfileFile(join(dir, f)), undefined, f), f).not.toThrow();
  });

  it('fanout.yaml resolves to 1000 recipients per message', () => {
    const p = resolveProfile(loadProfileFile(join(defaultProfilePath(), '..', 'fanout.yaml')));
    expect(p).toMatchObject({ executor: 'closed', sessions: 10, messagesPerSession: 10, messages: 200 });
    expect(p.message).toEqual({
      sizeBytes: 1024,
      sizeDist: null,
      recipients: 1000,
      recipientsDist: null,
      maxRecipientsPerTransaction: null,
      body: 'data',
      chunkBytes: 65_536,
      text: 'ascii',
      replay: null,
      attachmentBytes: null,
    });
    expect(p.envelope.to).toContain('{n}');
  });
});
