/**
 * The reference server's TLS credentials: PEM files from the profile, or an ephemeral
 * self-signed certificate made once per process with the `openssl` command line (Node has no
 * API to create X.509 certificates). Clients of a benchmark sink do not verify it; smtpbench's
 * own client needs `--insecure` (tls.verify: false) against it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SmtpBenchError, type ProfileIssue } from '../errors.js';

/** PEM certificate chain and private key. */
export interface Credentials {
  readonly cert: string;
  readonly key: string;
}

const cache = new Map<string, Promise<Credentials>>();

/** Whether a server with these TLS settings needs credentials: it offers STARTTLS or listens on an implicit TLS port. */
export function needsCredentials(tls: { readonly starttls: boolean; readonly port: number | null }): boolean {
  return tls.starttls || tls.port !== null;
}

/**
 * A self-signed P-256 certificate for `hostname`, valid for 7 days, made once per process and
 * host name (later calls share it).
 * @throws SmtpBenchError `SB_TLS_SETUP` when `openssl` is missing or fails
 */
export function ephemeralCredentials(hostname: string): Promise<Credentials> {
  let p = cache.get(hostname);
  if (p === undefined) {
    p = makeSelfSigned(hostname);
    cache.set(hostname, p);
    p.catch(() => cache.delete(hostname));
  }
  return p;
}

async function makeSelfSigned(hostname: string): Promise<Credentials> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpbench-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '7',
      '-subj',
      `/CN=${hostname}`,
      '-addext',
      `subjectAltName=DNS:${hostname},DNS:localhost,IP:127.0.0.1`,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
  } catch (err) {
    throw new SmtpBenchError('SB_TLS_SETUP', `cannot make an ephemeral TLS certificate with openssl (install openssl, or set server.tls.cert and key): ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Reads the configured PEM files, or makes the ephemeral certificate when none are configured.
 * @throws SmtpBenchError `SB_TLS_SETUP` when a file cannot be read
 */
export async function loadCredentials(certFile: string | null, keyFile: string | null, hostname: string): Promise<Credentials> {
  if (certFile === null || keyFile === null) return ephemeralCredentials(hostname);
  try {
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } catch (err) {
    throw new SmtpBenchError('SB_TLS_SETUP', `cannot read the TLS certificate or key: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * What is wrong with the configured PEM files, before anything listens: each file readable, and
 * the two a certificate and its private key (Node's TLS context accepts them together). A missing
 * or mismatched file is a usage error naming its key, not a listen failure (hostile review F17).
 * @param flags the command-line flag each key came from, to name it beside the key (`--tls-cert`)
 */
export function credentialIssues(tls: { certFile: string | null; keyFile: string | null }, flags: { cert?: string; key?: string } = {}): ProfileIssue[] {
  if (tls.certFile === null || tls.keyFile === null) return [];
  const named = (key: string, flag?: string): string => (flag ? `${key} (${flag})` : key);
  const issues: ProfileIssue[] = [];
  const read = (file: string, path: string): string | null => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      issues.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return null;
    }
  };
  const cert = read(tls.certFile, named('server.tls.cert', flags.cert));
  const key = read(tls.keyFile, named('server.tls.key', flags.key));
  if (cert !== null && key !== null) {
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      issues.push({ path: named('server.tls.cert', flags.cert), message: `${tls.certFile} and ${tls.keyFile} are not a PEM certificate and its private key: ${(err as Error).message}` });
    }
  }
  return issues;
}
