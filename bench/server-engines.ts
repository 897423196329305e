/**
 * The reference servers a benchmark runs: this tree's, and with `CONNECTION_BENCH_BASE=DIR` also
 * another checkout's (DIR, with node_modules), each with its own profile resolver and `Connection`
 * (the shell every split step of issue 12 keeps). Rows of the two run side by side in one process
 * and one stretch of machine time; `bench/vs-base.mjs` turns several such runs into ratios.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as profile from '../src/profile/index.js';
import * as server from '../src/server/connection.js';

/** One tree's server. `label` is '' with no base, else ' (this tree)' or ' (base: DIR)'. */
export interface ServerEngine {
  label: string;
  resolveProfile: typeof profile.resolveProfile;
  Connection: typeof server.Connection;
  serverContext: typeof server.serverContext;
}

async function load(dir: string, rel: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(resolve(dir, rel)).href)) as Record<string, unknown>;
}

/** This tree's server, then the base checkout's when `CONNECTION_BENCH_BASE` names one. */
export async function serverEngines(): Promise<ServerEngine[]> {
  const engines: ServerEngine[] = [{ label: '', ...profile, ...server }];
  const baseDir = process.env.CONNECTION_BENCH_BASE;
  if (baseDir) {
    engines[0].label = ' (this tree)';
    const base = { ...(await load(baseDir, 'src/profile/index.ts')), ...(await load(baseDir, 'src/server/connection.ts')) };
    engines.push({ label: ` (base: ${baseDir})`, ...base } as unknown as ServerEngine);
  }
  return engines;
}
