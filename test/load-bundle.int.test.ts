/**
 * dist/cli/load-bundle.cjs: the built bundles run strict, through their trained code caches, and a
 * cache that does not fit its bundle, or is damaged, never reaches V8 (scripts/build.mjs, issue 14).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';

const DIST = join(ROOT, 'dist/cli');
const LOADER = join(DIST, 'load-bundle.cjs');

/** What V8 said of the cache beside `file` when `loader` compiled it in a fresh Node (V8 flags as the CLI's): undefined when none was offered. */
function rejected(loader: string, file: string): boolean | undefined {
  const out = execFileSync(
    process.execPath,
    ['-e', `const s = require(${JSON.stringify(loader)}).compileBundle(${JSON.stringify(file)}, true); console.log(JSON.stringify(s.cachedDataRejected ?? null))`],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) ?? undefined;
}

describe('load-bundle', () => {
  it.each(['main', 'worker', 'thread'])('%s.cjs: ASCII, strict, with a trained cache V8 takes', (name) => {
    const file = join(DIST, `${name}.cjs`);
    const source = readFileSync(file);
    expect(source.every((b) => b < 0x80)).toBe(true);
    // The sources are ES modules: the bundle must run strict too ('use strict' before any statement).
    expect(source.toString('latin1')).toMatch(/^(#![^\n]*\n)?'use strict';\n/);
    // Trained: the cache holds what a run compiled, much more than the top level alone (measured
    // in a fresh Node: a test runner's V8 flags can change what is compiled eagerly).
    const top = Number(
      execFileSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(LOADER)}).compileBundle(${JSON.stringify(file)}, false).createCachedData().length)`], { encoding: 'utf8' }),
    );
    expect(statSync(`${file}.cache`).size).toBeGreaterThan(top * 1.1);
    expect(rejected(LOADER, file)).toBe(false);
  });

  it('offers V8 no cache of another bundle or a damaged one, and a cache V8 refuses still runs the bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smtpbench-load-bundle-'));
    const loader = join(dir, 'load-bundle.cjs');
    copyFileSync(LOADER, loader);
    const bundle = join(dir, 'demo.cjs');
    writeFileSync(bundle, '#!/usr/bin/env node\nmodule.exports.answer = 6 * 7;\n');
    const { compileBundle, writeCache, loadBundle } = createRequire(import.meta.url)(loader);
    writeCache(bundle, compileBundle(bundle, false));
    expect(rejected(loader, bundle)).toBe(false);
    const good = readFileSync(`${bundle}.cache`);
    // Another bundle of the same length (V8 would check only the length and run the old code).
    writeFileSync(bundle, '#!/usr/bin/env node\nmodule.exports.answer = 6 + 7;\n');
    expect(rejected(loader, bundle)).toBeUndefined();
    expect(loadBundle('demo').answer).toBe(13);
    writeFileSync(bundle, '#!/usr/bin/env node\nmodule.exports.answer = 6 * 7;\n');
    // Damaged data (V8 release builds do not checksum it, and can crash on it).
    const damaged = Buffer.from(good);
    damaged[Math.floor(damaged.length * 0.9)] ^= 0xff;
    writeFileSync(`${bundle}.cache`, damaged);
    expect(rejected(loader, bundle)).toBeUndefined();
    // Too short, or not a cache at all.
    writeFileSync(`${bundle}.cache`, good.subarray(0, 8));
    expect(rejected(loader, bundle)).toBeUndefined();
    // Sound to the loader but not V8's (another Node would write such): V8 refuses it, and the bundle is compiled from source.
    const data = Buffer.alloc(4096, 7);
    const header = Buffer.from(good.subarray(0, 12));
    header.writeUInt32BE(crc32(data), 8);
    writeFileSync(`${bundle}.cache`, Buffer.concat([header, data]));
    expect(rejected(loader, bundle)).toBe(true);
    expect(loadBundle('demo').answer).toBe(42);
  });
});
