/**
 * The floors of src/ (DESIGN §2, issue 12 item 4): every import runs down, never up and never
 * sideways between two folders of one floor. Each module of src/, tests included, is read with
 * TypeScript's own import scanner (static, `export … from`, dynamic and type-only imports alike:
 * a type import couples two floors as much as a value does).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * Each place in src/ and its floor, lowest first. A module imports only from its own folder or
 * from a lower floor. client/ and server/ share a floor and must not import each other.
 */
const FLOORS: Readonly<Record<string, number>> = {
  // The root leaves: typed errors, the error-kind registry, text redaction, the monotonic clock and deadline sweeper, the HTTP client.
  'errors.ts': 0,
  'error-kinds.ts': 0,
  'redact.ts': 0,
  'clock.ts': 0,
  'rng.ts': 0,
  // undici's three exports, loaded on demand by the floors that make HTTP requests.
  'http-client.ts': 0,
  // Wire knowledge shared by client and server; no sockets.
  protocol: 1,
  // Histograms, phases, the recorder, the metric catalog.
  metrics: 2,
  // Profile types, defaults, the resolver, the shard rule.
  profile: 3,
  client: 4,
  server: 4,
  // The run engine: coordinator, workers, executors.
  load: 5,
  // Summaries, reports, merge, compare, publishing.
  report: 6,
  cli: 7,
};

/**
 * Imports that run up a floor, each with the reason and the change that would remove it (none
 * today). An entry that no longer matches an import fails the test too: delete it then. Tests that
 * check what several floors derive from one module (the verb list) live in test/, not beside it.
 */
const ALLOWED: readonly { readonly from: string; readonly to: string; readonly why: string }[] = [];

/** Every .ts file under src/, as a path relative to src/ with forward slashes. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path).split('\\').join('/')] : [];
  });
}

/** The place of a module: its top folder, or at the root its module's name (`redact.test.ts` → `redact.ts`). */
const placeOf = (file: string): string => (file.includes('/') ? file.split('/')[0] : file.replace(/^([^.]+)\..*$/, '$1.ts'));

/** The src/ modules `file` imports (relative specifiers only; `.js` names the `.ts` source). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

describe('layering of src/', () => {
  const files = sources();
  const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));
  const allowed = (e: { from: string; to: string }): boolean => ALLOWED.some((a) => a.from === e.from && a.to === e.to);

  it('places every module on a floor', () => {
    const unplaced = [...new Set(files.map(placeOf))].filter((p) => FLOORS[p] === undefined);
    expect(unplaced, 'add each to FLOORS in test/layering.test.ts').toEqual([]);
  });

  it('has no import that leaves src/', () => {
    expect(edges.filter((e) => e.to.startsWith('../')).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('imports only downwards, or within a folder', () => {
    const bad = edges
      .filter((e) => {
        const from = placeOf(e.from);
        const to = placeOf(e.to);
        return from !== to && FLOORS[to] >= FLOORS[from] && !allowed(e);
      })
      .map((e) => `${e.from} → ${e.to} (floor ${FLOORS[placeOf(e.from)]} → ${FLOORS[placeOf(e.to)]})`);
    expect(bad).toEqual([]);
  });

  it('keeps no stale allow-list entry', () => {
    const unused = ALLOWED.filter((a) => !edges.some((e) => e.from === a.from && e.to === a.to)).map((a) => `${a.from} → ${a.to}`);
    expect(unused, 'delete these from ALLOWED').toEqual([]);
  });
});
