/**
 * dist/cli/load-bundle.cjs: the built bundles run through their trained code caches, and a cache
 * that does not fit its bundle is never used (scripts/build.mjs, issue 14).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';

const DIST = join(ROOT, 'dist/cli');
const LOADER = join(DIST, 'load-bundle.cjs');

/** Whether V8 refused the cache beside `file` when `loader` compiled it, in a fresh Node (V8 flags as the CLI's). */
function rejected(loader: string, file: string): boolean | undefined {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const l = require(${JSON.stringify(loader)}); const s = l.compileBundle(${JSON.stringify(file)}, l.cacheOf(${JSON.stringify(file)})); console.log(JSON.stringify(s.cachedDataRejected ?? null))`,
    ],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) ?? undefined;
}

describe('load-bundle', () => {
  it.each(['main', 'worker', 'thread'])('%s.cjs: ASCII, with a trained cache V8 takes', (name) => {
    const file = join(DIST, `${name}.cjs`);
    expect(readFileSync(file).every((b) => b < 0x80)).toBe(true);
    // Trained: the cache holds what a run compiled, much more than the top level alone.
    const top = createRequire(import.meta.url)(LOADER)
      .compileBundle(file, undefined)
      .createCachedData().length;
    expect(statSync(`${file}.cache`).size).toBeGreaterThan(top * 1.1);
    expect(rejected(LOADER, file)).toBe(false);
  });

  it('never uses a cache older than its bundle or one V8 refuses; the bundle still runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smtpbench-load-bundle-'));
    const loader = join(dir, 'load-bundle.cjs');
    copyFileSync(LOADER, loader);
    const bundle = join(dir, 'demo.cjs');
    writeFileSync(bundle, '#!/usr/bin/env node\nmodule.exports.answer = 6 * 7;\n');
    const { compileBundle, writeCache, loadBundle } = createRequire(import.meta.url)(loader);
    writeCache(bundle, compileBundle(bundle, undefined));
    expect(rejected(loader, bundle)).toBe(false);
    // Older than the bundle (a bundle edited or rebuilt without its cache): not offered to V8.
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${bundle}.cache`, past, past);
    expect(rejected(loader, bundle)).toBeUndefined();
    // Not a cache at all: V8 refuses it, and the bundle is compiled from source.
    writeFileSync(`${bundle}.cache`, Buffer.alloc(4096, 7));
    expect(rejected(loader, bundle)).toBe(true);
    expect(loadBundle('demo').answer).toBe(42);
  });
});
