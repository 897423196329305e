import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ProfileIssue } from '../errors.js';
import { notADirectory, RESULT_FILES } from '../report/out-dir.js';

/**
 * A flag value as a number when it is a decimal one (`500`, `2.5`, `1e-6`); otherwise the raw
 * text, so the resolver names it in its error (`0x10` stays text). Durations are passed as text
 * instead, so a bare `--duration 5` gets the resolver's "needs a unit" rather than meaning 5 ms.
 */
export const num = (v: string): number | string => (/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v.trim()) ? Number(v) : v);

/** A port flag's problem, or null: an integer 0..65535 (0: any free port). */
export function portIssue(flag: string, value: number | string | undefined): { path: string; message: string } | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65_535) return null;
  return { path: flag, message: `expected a port 0..65535, got ${JSON.stringify(value)}` };
}

/**
 * `value` without undefined entries, and without the mappings that leaves empty: flags that were
 * not given must not add even an empty section (an empty `auth:` would ask for AUTH).
 */
export function definedOnly<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = definedOnly(v);
    if (kept === undefined) continue;
    if (kept !== null && typeof kept === 'object' && !Array.isArray(kept) && Object.keys(kept).length === 0) continue;
    // defineProperty, not `out[k] =`: a "__proto__" key (`--domain __proto__`) stays a key, for the resolver to name.
    Object.defineProperty(out, k, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return out as T;
}

/** Commander collector for a repeatable flag: each use adds its value. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * What is wrong with an output file flag's `path` (`--junit`, `--ndjson`), or null: it must not be
 * a directory, nor one of the result files of `dirs` (the run's own `--out`, or merge's inputs and
 * output: symbolic links resolved), and its directory must be possible to make (it is made, as
 * `--out` is).
 */
export function outputIssue(flag: string, path: string | null, dirs: readonly string[]): ProfileIssue | null {
  if (path === null) return null;
  const name = basename(path);
  const resultFile = name.endsWith('.hgrm') || RESULT_FILES.includes(name);
  if (resultFile && dirs.some((d) => sameDir(dirname(path), d))) return { path: flag, message: `${path} is a result file of a run directory` };
  try {
    if (statSync(path).isDirectory()) return { path: flag, message: `${path} is a directory` };
  } catch {
    // Not there yet: fine.
  }
  const blocked = notADirectory(dirname(path));
  return blocked === null ? null : { path: flag, message: `${blocked} is not a directory` };
}

/** True when `a` and `b` name the same directory (symbolic links resolved; a missing one by its path). */
export function sameDir(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/** `--out`'s problem, or null: an empty value (an unset shell variable) would mean the current directory. */
export function outIssue(out: string | undefined): ProfileIssue | null {
  return out !== undefined && out.trim() === '' ? { path: '--out', message: 'is empty (an unset variable?); name the results directory' } : null;
}
