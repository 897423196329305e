/**
 * A self-signed certificate for 127.0.0.1 and localhost, made once per test process with the
 * openssl command line (the recipe). The certificate is its own CA: trusting its file
 * (`tls.ca`, `--ca`) makes verification pass.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerCert } from './scripted-server.js';

export interface TestCert extends ServerCert {
  readonly keyFile: string;
  readonly certFile: string;
}

let made: TestCert | null = null;

export function testCert(): TestCert {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'smtpbench-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  made = { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
  return made;
}
