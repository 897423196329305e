/**
 * From the resolved profile to a session's protocol settings: TLS (the CA file read once), AUTH
 * accounts (from the credentials file or the environment, never from the profile or argv), body
 * mode, recipient cap. Used by each load worker, and by the CLI first so that a missing file is
 * a usage error (exit 2) naming its profile key.
 */
import { readFileSync } from 'node:fs';
import { ProfileError } from '../errors.js';
import type { Profile } from '../profile/types.js';
import { parseAccounts, type Account } from '../profile/accounts.js';
import type { AuthConfig, SessionConfig, TlsClientConfig } from './config.js';
import { readEmpirical } from './distributions.js';
import { loadReplay } from './message.js';
import { expandAddresses } from '../profile/addresses.js';
import { MAX_RECIPIENTS, MAX_SIZE_BYTES } from '../profile/limits.js';

/** Environment variables for a single AUTH account when no credentials file is given. */
export const AUTH_USER_ENV = 'SMTPBENCH_AUTH_USER';
export const AUTH_PASSWORD_ENV = 'SMTPBENCH_AUTH_PASSWORD';

/**
 * The protocol settings of the profile's sessions.
 *
 * @throws ProfileError naming `tls.ca` or `auth.credentialsFile` when the file cannot be read or
 *   parsed, or `auth` when neither a file nor the environment gives credentials
 */
export function sessionSettings(
  profile: Profile,
  env: NodeJS.ProcessEnv = process.env,
): Pick<SessionConfig, 'tls' | 'auth' | 'lmtp' | 'body' | 'chunkBytes' | 'maxRecipientsPerTransaction' | 'identity'> {
  const issues: { path: string; message: string }[] = [];
  const scheme = profile.target?.scheme ?? 'smtp';
  let ca: Buffer | null = null;
  if (profile.tls.ca !== null) {
    try {
      ca = readFileSync(profile.tls.ca);
      // A file that holds no PEM certificate would make every handshake fail: say so now.
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
        issues.push({ path: 'tls.ca', message: `${profile.tls.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
      }
    } catch (err) {
      issues.push({ path: 'tls.ca', message: `cannot read ${profile.tls.ca}: ${(err as Error).message}` });
    }
  }
  const tls: TlsClientConfig | null =
    scheme === 'smtps' || profile.tls.starttls !== 'off'
      ? { implicit: scheme === 'smtps', starttls: scheme === 'smtps' ? 'off' : profile.tls.starttls, verify: profile.tls.verify, ca, resume: profile.tls.resume }
      : null;
  let auth: AuthConfig | null = null;
  if (profile.auth !== null) {
    let accounts: Account[] = [];
    const file = profile.auth.credentialsFile;
    if (file !== null) {
      try {
        accounts = parseAccounts(readFileSync(file, 'utf8'));
        if (accounts.length === 0) throw new Error('no accounts in the file');
      } catch (err) {
        issues.push({ path: 'auth.credentialsFile', message: `${file}: ${(err as Error).message}` });
      }
    } else if (env[AUTH_USER_ENV] && env[AUTH_PASSWORD_ENV] !== undefined) {
      accounts = [{ user: env[AUTH_USER_ENV]!, pass: env[AUTH_PASSWORD_ENV]! }];
    } else {
      issues.push({ path: 'auth', message: `no credentials: set auth.credentialsFile (--credentials FILE) or ${AUTH_USER_ENV} and ${AUTH_PASSWORD_ENV}` });
    }
    auth = { mechanism: profile.auth.mechanism, accounts };
  }
  if (profile.message.replay !== null) {
    try {
      loadReplay(profile.message.replay);
    } catch (err) {
      issues.push({ path: 'message.replay', message: (err as Error).message });
    }
  }
  const empirical = [
    ['message.size.file', profile.message.sizeDist, { min: 1, max: MAX_SIZE_BYTES }],
    ['message.recipients.file', profile.message.recipientsDist, { min: 1, max: MAX_RECIPIENTS }],
  ] as const;
  for (const [key, d, limits] of empirical) {
    if (d?.dist !== 'empirical') continue;
    try {
      readEmpirical(d.file, limits);
    } catch (err) {
      issues.push({ path: key, message: `${d.file}: ${(err as Error).message}` });
    }
  }
  if (issues.length > 0) throw new ProfileError(issues, 'profile files');
  return {
    tls,
    auth,
    lmtp: scheme === 'lmtp',
    body: profile.message.body,
    chunkBytes: profile.message.chunkBytes,
    maxRecipientsPerTransaction: profile.message.maxRecipientsPerTransaction ?? undefined,
    identity: identityOf(profile),
  };
}

/** The identity settings with address ranges expanded; null when nothing is set. */
function identityOf(profile: Profile): SessionConfig['identity'] {
  const id = profile.identity;
  if (id.sourceIp === null && id.clientAddress === null && id.proxy === 'off' && !id.xclient) return null;
  return {
    sourceIps: id.sourceIp === null ? [] : expandAddresses(id.sourceIp),
    clientAddresses: id.clientAddress === null ? [] : expandAddresses(id.clientAddress),
    proxy: id.proxy,
    xclient: id.xclient,
  };
}
