/**
 * The results directory and what smtpbench may do to it. A run, a capacity search or a merge
 * writes into a directory that may already hold files: an earlier run's results (a reused
 * `--out`), or anything else a user keeps there (`--out .`, wrk2's `.hgrm` files, a project's own
 * report.md). smtpbench touches only what it wrote itself: a manifest in the directory lists those
 * files, the next run replaces them, and a directory with files it did not write is refused unless
 * `--force`, which writes beside them and still deletes nothing of theirs (hostile review F1).
 * Files of an earlier run that the new one does not write again (a phase with no data this time)
 * are removed only after the new results are written.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SmtpBenchError } from '../errors.js';
import { PHASES } from '../metrics/phases.js';
import { SERVER_HISTOGRAMS } from '../metrics/server-histograms.js';

/** The manifest's name: hidden, so listings of results show the results. */
export const MANIFEST = '.smtpbench-manifest.json';

/** The files a run writes into its directory besides the `<phase>.hgrm`s (a new report file goes here too). */
export const RESULT_FILES: readonly string[] = ['summary.json', 'report.md', 'report.html', 'run.hlog', 'timeline.ndjson'];

/** Names a run, capacity search or merge may write at the top of its directory: a foreign file of one of these names clashes. */
const OUR_NAMES: ReadonlySet<string> = new Set([...RESULT_FILES, 'junit.xml', 'capacity.json', 'steps', ...PHASES.map((p) => `${p}.hgrm`), ...SERVER_HISTOGRAMS.map((h) => `server.${h}.hgrm`)]);

/** What the manifest holds: paths relative to the directory, `/`-separated; a trailing `/` owns a whole subtree. */
interface Manifest {
  tool: 'smtpbench';
  runId: string;
  note: string;
  files: string[];
}

/** A claimed results directory: where it is, and what the previous smtpbench run there wrote. */
export interface OutDir {
  /** Absolute path. */
  readonly dir: string;
  readonly runId: string;
  /** The previous manifest's entries (empty for a new directory). */
  readonly previous: readonly string[];
}

/**
 * Creates `dir` and its missing parents one level at a time. Node 20's `mkdirSync(…, {recursive:
 * true})` never returns for a path under /proc (`/proc/self/nope`: hostile review F21); walking up
 * to the nearest existing directory and making each level below it fails at once instead.
 * @throws the file system's error, or an Error naming the part of the path that is not a directory
 */
export function makeDirs(dir: string): void {
  const { existing, missing } = walkUp(resolve(dir));
  if (existing !== null) throw new Error(`${existing} is not a directory`);
  for (const p of missing.reverse()) mkdirSync(p);
}

/** The nearest existing ancestor of `dir` (itself included) when it is not a directory, else null: `dir` can be made. */
export function notADirectory(dir: string): string | null {
  return walkUp(dir).existing;
}

/**
 * Walks up from `dir` to its nearest existing ancestor (itself included): that ancestor when it is
 * not a directory (else null), and the missing levels below it, deepest first. A level that cannot
 * be read counts as missing: making it then says why.
 */
function walkUp(dir: string): { existing: string | null; missing: string[] } {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      return { existing: statSync(d).isDirectory() ? null : d, missing };
    } catch {
      if (dirname(d) === d) return { existing: null, missing };
      missing.push(d);
    }
  }
}

function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Partial<Manifest>;
    if (m.tool === 'smtpbench' && Array.isArray(m.files) && m.files.every((f) => typeof f === 'string' && safeEntry(f))) return m as Manifest;
  } catch {
    // An unreadable manifest owns nothing: the directory's files count as someone else's.
  }
  return null;
}

/** A manifest entry may name only a path inside the directory (an edited manifest must not reach out). */
function safeEntry(entry: string): boolean {
  return entry !== '' && !entry.startsWith('/') && !entry.split('/').some((part) => part === '..' || part === '.');
}

/** Whether `name` (a top-level entry) belongs to the manifest's files. */
function owns(files: readonly string[], name: string): boolean {
  return files.some((f) => f === name || f.startsWith(`${name}/`));
}

/** The files under `sub` (a `name/` entry), as `/`-separated paths relative to `dir`; none when it is missing. */
function filesUnder(dir: string, sub: string): string[] {
  try {
    return readdirSync(join(dir, sub), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  } catch {
    return [];
  }
}

function writeManifest(dir: string, runId: string, files: readonly string[]): void {
  const m: Manifest = { tool: 'smtpbench', runId, note: 'files smtpbench wrote here; the next smtpbench run into this directory replaces them and touches nothing else', files: [...files].sort() };
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

/**
 * Claims `dir` for a run before anything starts: creates it if missing, refuses a directory that
 * holds files smtpbench did not write unless `force`, and proves it writable by writing the
 * manifest (hostile review F11: an unwritable directory is a usage error before any thread
 * starts, not a stack trace later). Removes nothing. The manifest written now lists the previous
 * run's files and `streaming` (the files this run writes while it runs, such as run.hlog), so a
 * run killed halfway still leaves a directory the next run recognises as its own.
 * @param streaming top-level names or `name/` subtrees this run may write before it ends
 * @throws SmtpBenchError SB_USAGE naming the directory and the reason
 */
export function claimOutDir(dir: string, runId: string, opts: { force: boolean; streaming: readonly string[] }): OutDir {
  const abs = resolve(dir);
  const fail = (why: string): never => {
    throw new SmtpBenchError('SB_USAGE', `cannot use ${abs} as the results directory: ${why}`);
  };
  try {
    makeDirs(abs);
  } catch (err) {
    fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  let names: string[] = [];
  try {
    names = readdirSync(abs);
  } catch (err) {
    fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  const manifest = readManifest(abs);
  const previous = manifest?.files ?? [];
  const foreign = names.filter((n) => n !== MANIFEST && !owns(previous, n));
  if (!opts.force && foreign.length > 0) {
    // With a manifest, files beside ours are left alone; only one we would overwrite stops the run.
    const clashing = manifest ? foreign.filter((n) => OUR_NAMES.has(n)) : foreign;
    if (clashing.length > 0) {
      const shown = clashing.slice(0, 5).join(', ') + (clashing.length > 5 ? `, … (${clashing.length} in all)` : '');
      fail(`it holds files smtpbench did not write (${shown}); name a new or empty directory, or add --force to write beside them (files of the same names are replaced, nothing else is touched)`);
    }
  }
  try {
    writeManifest(abs, runId, [...new Set([...previous, ...opts.streaming])]);
  } catch (err) {
    fail(`cannot write there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return { dir: abs, runId, previous };
}

/**
 * Ends a run's claim once its results are written: removes the previous run's files that this run
 * did not write again, then empty directories they leave, and writes the manifest of `written`.
 * Never throws: a file that cannot be removed or a manifest that cannot be written is one line
 * through `warn` (the results are already there).
 * @param written absolute paths of the files this run wrote; those outside the directory are ignored
 */
export function settleOutDir(out: OutDir, written: readonly string[], warn: (message: string) => void): void {
  const files = written.map((p) => relative(out.dir, resolve(p))).filter((r) => r !== '' && !r.startsWith('..') && !r.startsWith(sep));
  const mine = new Set(files.map((f) => f.split(sep).join('/')));
  // A `name/` entry (a run killed while writing a capacity search's steps/) owns every file under it.
  const stale = out.previous.flatMap((old) => (old.endsWith('/') ? filesUnder(out.dir, old) : [old])).filter((old) => !mine.has(old));
  for (const old of stale) {
    try {
      rmSync(join(out.dir, old), { force: true });
      // A capacity step directory the new search did not reach: remove it once it is empty.
      for (let d = dirname(old); d !== '.'; d = dirname(d)) rmdirSync(join(out.dir, d));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'ENOENT' && code !== 'EEXIST') warn(`cannot remove ${join(out.dir, old)} of an earlier run: ${code ?? (err as Error).message}`);
    }
  }
  try {
    writeManifest(out.dir, out.runId, [...mine]);
  } catch (err) {
    warn(`cannot write ${join(out.dir, MANIFEST)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
