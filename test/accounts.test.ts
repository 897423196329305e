import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUsers } from '../src/cli/serve.js';
import { sessionSettings } from '../src/client/settings.js';
import { SmtpBenchError } from '../src/errors.js';
import { parseAccounts } from '../src/profile/accounts.js';
import { resolveProfile } from '../src/profile/resolve.js';

const dir = mkdtempSync(join(tmpdir(), 'smtpbench-accounts-'));
/** Spaces around and inside a password, a colon in one, a comment, a blank line of white space, CRLF. */
const FILE = '# accounts\nalice:s3cr:et\n \t \nbob: pass word \r\ncarol:\n';

describe('parseAccounts', () => {
  it('reads user:password lines as written: the password runs to the end of the line, colons and spaces included', () => {
    expect(parseAccounts(FILE)).toEqual([
      { user: 'alice', pass: 's3cr:et' },
      { user: 'bob', pass: ' pass word ' },
      { user: 'carol', pass: '' },
    ]);
    expect(parseAccounts('# none\n\n')).toEqual([]);
  });

  it('names the first line without a user name and a colon', () => {
    expect(() => parseAccounts('a:1\nalice\n')).toThrow('line 2 is not user:password');
    expect(() => parseAccounts(':pw\n')).toThrow('line 1 is not user:password');
    expect(() => parseAccounts('  # indented is no comment\n')).toThrow('line 1 is not user:password');
  });
});

describe('both callers read the same accounts from one file', () => {
  const file = join(dir, 'accounts.txt');
  writeFileSync(file, FILE);

  it('run --credentials (auth.credentialsFile)', () => {
    expect(sessionSettings(resolveProfile({ auth: { credentialsFile: file } }), {}).auth?.accounts).toEqual(parseAccounts(FILE));
  });

  it('serve --users', () => {
    expect(readUsers(file)).toEqual({ alice: 's3cr:et', bob: ' pass word ', carol: '' });
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'alice\n');
    expect(() => readUsers(bad)).toThrow(SmtpBenchError);
    expect(() => readUsers(bad)).toThrow(`--users ${bad}: line 1 is not user:password`);
    expect(() => readUsers(join(dir, 'missing.txt'))).toThrow(/cannot read --users/);
  });
});
