/**
 * The peer tools of the macro suite, found on this machine or reported missing (never faked):
 * Postfix's smtp-source and smtp-sink, postal, iperf3, aiosmtpd (Debian's python3-aiosmtpd, run by
 * /usr/bin/python3) and Node's smtp-server library (a devDependency).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** One peer: where it is, or why it is missing. */
export interface Peer {
  readonly available: boolean;
  /** The executable (or module) used. */
  readonly path: string | null;
  /** The Debian package version (dpkg), the npm version, or the tool's own; null when unknown. */
  readonly version: string | null;
  /** Why it is missing, and how to get it. */
  readonly missing: string | null;
}

export type PeerName = 'smtp-source' | 'smtp-sink' | 'postal' | 'iperf3' | 'aiosmtpd' | 'smtp-server';

/** The executable `name` on PATH (then /usr/sbin, /sbin: Postfix's tools live there), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

function quiet(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** The version of the Debian package that owns `path`, or null (not from a package, or no dpkg). */
function dpkgVersion(path: string): string | null {
  const owner = quiet('dpkg-query', ['-S', realpathSync(path)]);
  const pkg = owner?.split(':')[0];
  if (!pkg) return null;
  return quiet('dpkg-query', ['-W', '-f=${Version}', pkg]);
}

function tool(name: string, pkg: string, version?: (path: string) => string | null): Peer {
  const path = which(name);
  if (path === null) return { available: false, path: null, version: null, missing: `not installed (Debian: apt-get install ${pkg})` };
  return { available: true, path, version: dpkgVersion(path) ?? version?.(path) ?? null, missing: null };
}

/** The Python that runs aiosmtpd: Debian's /usr/bin/python3, else python3 on PATH. */
export function python3(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Looks for every peer. Takes a second or two (dpkg queries). */
export function detectPeers(): Record<PeerName, Peer> {
  const py = python3();
  const aio = quiet(py, ['-c', 'import aiosmtpd; print(aiosmtpd.__version__)']);
  let smtpServer: Peer;
  try {
    const require = createRequire(import.meta.url);
    const version = (require('smtp-server/package.json') as { version: string }).version;
    smtpServer = { available: true, path: 'bench/smtp-server-sink.mjs', version, missing: null };
  } catch {
    smtpServer = { available: false, path: null, version: null, missing: 'devDependency smtp-server not installed (npm ci)' };
  }
  return {
    'smtp-source': tool('smtp-source', 'postfix'),
    'smtp-sink': tool('smtp-sink', 'postfix'),
    postal: tool('postal', 'postal'),
    iperf3: tool('iperf3', 'iperf3', (p) => quiet(p, ['--version'])?.split('\n')[0] ?? null),
    aiosmtpd:
      aio === null
        ? { available: false, path: null, version: null, missing: `${py} cannot import aiosmtpd (Debian: apt-get install python3-aiosmtpd)` }
        : { available: true, path: `${py} bench/aiosmtpd-sink.py`, version: aio, missing: null },
    'smtp-server': smtpServer,
  };
}
