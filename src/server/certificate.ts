/**
 * The reference server's TLS credentials: PEM files from the profile, or an ephemeral
 * self-signed certificate made once per process with the `openssl` command line (Node has no
 * API to create X.509 certificates). Clients of a benchmark sink do not verify it; smtpbench's
 * own client needs `--insecure` (tls.verify: false) against it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SmtpBenchError } from '../errors.js';

/** PEM certificate chain and private key. */
export interface Credentials {
  readonly cert: string;
  readonly key: string;
}

const cache = new Map<string, Promise<Credentials>>();

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
