// Builds dist/cli/: the CLI, the load worker and the server thread, each bundled from src/ by
// esbuild with the libraries they use, code they share in chunks beside them.
//
// Why a bundle: start-up is a fixed cost of every run (issue 14). Node 20 resolves, reads and
// links every ES module file on its own; smtpbench and its libraries are hundreds of files, three
// times over (the CLI thread, each worker thread, the server thread). One file per entry, with the
// code loaded only by some commands split into chunks imported on demand, cuts that to a few reads.
//
// Layout: every output is in dist/cli/, so the paths the code builds from import.meta.url hold in
// the bundle as they do in src/ (`./worker.js`, `./thread.js` beside the code that starts them;
// `../../package.json`, `../../profiles/` two levels up). Type checking is tsc's (`npm run
// typecheck`, run first by `npm run build`); esbuild only strips the types.
import { chmodSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts', worker: 'src/load/worker.ts', thread: 'src/server/thread.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // tinypool starts its own worker script from a path beside its module: it stays in node_modules.
  // playwright-core is a test tool, never loaded by the CLI.
  external: ['tinypool', 'playwright-core'],
  // The CommonJS libraries (cli-table3, undici, …) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as smtpbenchCreateRequire } from 'node:module'; const require = smtpbenchCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/cli/main.js', 0o755);
