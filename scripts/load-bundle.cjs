// Runs one of dist/cli/'s CommonJS bundles through V8's code cache (copied to dist/cli/ by
// scripts/build.mjs; each entry file there is a line that calls it).
//
// Why: compiling a bundle's source is much of what a thread spends before it can work: in the CLI
// and again in every worker thread and the server thread (issue 14). Node 20 can only cache what
// `vm.Script` compiles (module.enableCompileCache() is Node 22's), so the bundles are CommonJS and
// this file compiles them with the cache the build wrote beside them (`<bundle>.cache`). A cache V8
// refuses (another Node, other V8 flags), one made from another bundle or a damaged one is not
// used: the bundle is then compiled from source, as plain Node would.
//
// The build trains the caches (SMTPBENCH_BUILD_CODE_CACHE=1): it runs a short load, and each
// thread writes its cache once its work is done, so the cache holds the functions the run
// compiled, not only the top level (V8 compiles most functions on first call).
//
// CommonJS itself, as are the entry files (dist/cli/package.json says so): a thread whose entry is
// CommonJS starts without Node's ES module loader, about 8 ms sooner.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { constants, Script } = require('node:vm');
const { parentPort, threadId } = require('node:worker_threads');
const { crc32 } = require('node:zlib');

/** CommonJS's own wrapper, so the bundle sees require, module, __filename and __dirname as Node's loader gives them. */
const HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const TAIL = '\n})';

/**
 * A cache file is a 12-octet header, then V8's data: "SBC1", the CRC-32 of the bundle it was made
 * from, the CRC-32 of the data. V8 itself checks only the source's length and, in release builds,
 * not the data: a cache of another bundle of the same length would run that bundle's code, and
 * damaged data can crash the process. Both are caught here, before V8 sees the data.
 */
const MAGIC = 0x53424331; // "SBC1"
const HEADER = 12;

/** The cache data beside `file` made from exactly `source` (its bytes) and intact, or undefined. */
function cacheFor(file, source) {
  let cache;
  try {
    cache = readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
  if (cache.length <= HEADER || cache.readUInt32BE(0) !== MAGIC || cache.readUInt32BE(4) !== crc32(source)) return undefined;
  const data = cache.subarray(HEADER);
  return cache.readUInt32BE(8) === crc32(data) ? data : undefined;
}

/** Compiles the bundle `file` (absolute path), with its cache when `useCache` and there is a sound one. */
function compileBundle(file, useCache) {
  const bytes = readFileSync(file);
  // The build makes every bundle ASCII: latin1 is its exact and cheapest decoding.
  const source = bytes.toString('latin1');
  // A hashbang (main.ts keeps its own) is only valid at the very start: commented, lines unchanged.
  return new Script(HEAD + (source.startsWith('#!') ? `//${source}` : source) + TAIL, {
    filename: file,
    cachedData: useCache ? cacheFor(file, bytes) : undefined,
    // `import()` inside the bundle resolves as it would in a module of Node's own loader.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

/** Writes `script`'s code cache beside `file` (the bundle it compiled), whole or not at all (a temporary file renamed). */
function writeCache(file, script) {
  const data = script.createCachedData();
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(crc32(readFileSync(file)), 4);
  header.writeUInt32BE(crc32(data), 8);
  const temp = `${file}.cache.${process.pid}.${threadId}`;
  writeFileSync(temp, Buffer.concat([header, data]));
  renameSync(temp, `${file}.cache`);
}

/** Runs the bundle `name`.cjs beside this file and returns its `module.exports`. */
function loadBundle(name) {
  const file = join(__dirname, `${name}.cjs`);
  const training = process.env.SMTPBENCH_BUILD_CODE_CACHE === '1';
  const script = compileBundle(file, true);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return training ? train(name, file, script, module.exports) : module.exports;
}

/** Training (the build's): the cache is written when the thread's work is done. Returns the exports to use. */
function train(name, file, script, exports) {
  const write = () => writeCache(file, script);
  if (name === 'main') process.on('exit', write);
  // The server thread is terminated once it has sent its statistics: write on `stop`.
  else if (name === 'thread') parentPort.on('message', (m) => m === 'stop' && write());
  // A load worker: after its task.
  else
    return {
      default: async (task) => {
        try {
          return await exports.default(task);
        } finally {
          write();
        }
      },
    };
  return exports;
}

module.exports = { compileBundle, writeCache, loadBundle };
