// Builds dist/cli/: the CLI, the load worker and the server thread, each one CommonJS bundle from
// src/ by esbuild with the libraries it uses, plus V8's code cache of each (scripts/load-bundle.cjs).
//
// Why bundles: start-up is a fixed cost of every run (issue 14). Node 20 resolves, reads and
// links every ES module file on its own; smtpbench and its libraries are hundreds of files, three
// times over (the CLI thread, each worker thread, the server thread). Why CommonJS: only a
// classic script can be compiled with a code cache on Node 20 (vm.Script), and compiling is what
// is left once the files are one. Code a command loads on demand (`import()`) stays lazy inside
// the bundle: it is compiled when first called.
//
// Layout: every output is in dist/cli/, so the paths the code builds from import.meta.url hold in
// the bundle as they do in src/ (`./worker.js`, `./thread.js` beside the code that starts them;
// `../../package.json`, `../../profiles/` two levels up). `<entry>.js` is the file Node, the
// `smtpbench` bin and tinypool load: a line that runs `<entry>.cjs` through load-bundle.cjs.
// Type checking is tsc's (`npm run typecheck`, run first by `npm run build`); esbuild only strips
// the types.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, transform } from 'esbuild';
import loader from './load-bundle.cjs';

/** Entry name → source, and its `.js` file (CommonJS: dist/cli/package.json). */
const ENTRIES = {
  main: ['src/cli/main.ts', "#!/usr/bin/env node\nrequire('./load-bundle.cjs').loadBundle('main');\n"],
  // tinypool takes the task function from the module's `default`.
  worker: ['src/load/worker.ts', "module.exports = require('./load-bundle.cjs').loadBundle('worker');\n"],
  thread: ['src/server/thread.ts', "require('./load-bundle.cjs').loadBundle('thread');\n"],
};

/**
 * Makes a bundle ASCII, so Node reads it as a one-byte string (a third of the time of UTF-8 with
 * a few non-ASCII characters, which makes the whole string two-byte) and load-bundle.cjs can read
 * it as latin1. esbuild escapes non-ASCII in code (its default charset) but keeps comments as
 * written; the check below proves every non-ASCII character is in a comment (the code without
 * comments has none) before those are replaced by '?'.
 */
async function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) return;
  const { code } = await transform(text, { minifyWhitespace: true, legalComments: 'none', format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error' });
  if (/[^\x00-\x7f]/.test(code)) throw new Error(`${file}: non-ASCII outside comments`);
  writeFileSync(file, text.replace(/[^\x00-\x7f]/g, '?'));
}

/**
 * tinypool, bundled (required from node_modules it is an ES module, and Node's ES loader costs the
 * CLI about 10 ms before the threads can start), but still pointing at its own files: it starts
 * its worker script from a path beside its module (`import.meta.url + "/../entry/worker.js"`), and
 * that path must stay node_modules/tinypool/dist/, where require.resolve finds it.
 */
const tinypoolInPlace = {
  name: 'tinypool-in-place',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]tinypool[\\/]dist[\\/]index\.js$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', 'smtpbenchTinypoolUrl()'),
      loader: 'js',
    }));
  },
};

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/cli', { recursive: true });
copyFileSync('scripts/load-bundle.cjs', 'dist/cli/load-bundle.cjs');
// The entry files are CommonJS (load-bundle.cjs says why); the package is "type": "module".
writeFileSync('dist/cli/package.json', '{ "type": "commonjs" }\n');
for (const [name, [source, stub]] of Object.entries(ENTRIES)) {
  await build({
    entryPoints: [source],
    outfile: `dist/cli/${name}.cjs`,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    // playwright-core is a test tool, never loaded by the CLI.
    external: ['playwright-core'],
    // The sources are ES modules: import.meta.url is the bundle's own URL, as it was the module's.
    define: { 'import.meta.url': 'smtpbenchImportMetaUrl' },
    // 'use strict' first: the sources are ES modules, always strict, and esbuild's own directive comes
    // after the banner, where it is an ordinary statement.
    banner: {
      js: [
        "'use strict';",
        "const smtpbenchImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
        "const smtpbenchTinypoolUrl = () => require('node:url').pathToFileURL(require.resolve('tinypool')).href;",
      ].join('\n'),
    },
    plugins: [tinypoolInPlace],
    logLevel: 'warning',
  });
  await asciiOnly(`dist/cli/${name}.cjs`);
  writeFileSync(`dist/cli/${name}.js`, stub);
  // The top level's cache, until the training below writes what a run compiles.
  const file = join(process.cwd(), 'dist/cli', `${name}.cjs`);
  loader.writeCache(file, loader.compileBundle(file, false));
}
chmodSync('dist/cli/main.js', 0o755);

// Training: a short run on the embedded server, every thread writing the cache of what it compiled.
// It only makes start-up faster: when it cannot run, the top-level caches above stay.
const out = mkdtempSync(join(tmpdir(), 'smtpbench-build-'));
const training = spawnSync(process.execPath, ['dist/cli/main.js', 'run', '--messages', '200', '--sessions', '2', '--workers', '1', '--quiet', '--out', out], {
  env: { ...process.env, SMTPBENCH_BUILD_CODE_CACHE: '1' },
  encoding: 'utf8',
  timeout: 60_000,
});
rmSync(out, { recursive: true, force: true });
if (training.status !== 0) {
  const why = training.stderr.trim().split('\n').pop()?.slice(0, 300) ?? '';
  process.stderr.write(`build: the code caches were not trained (a short run exited ${training.status ?? training.signal}: ${why}); start-up is slower, nothing else changes\n`);
}
