/**
 * What `smtpbench merge` checks before it adds runs up: never the same run or the same shard twice
 * (its messages would count twice), one split of shards, and, unless forced, one profile (the keys
 * that may differ per machine left out). Refusals are one line naming the inputs.
 */
import { SmtpBenchError } from '../errors.js';
import type { Profile } from '../profile/types.js';
import { printable } from '../redact.js';
import type { RunData } from './run-data.js';
import type { MergeInput } from './summary.js';

/**
 * Profile keys that may differ between the machines of one distributed run, left out when merge
 * compares profiles: `workers` (default: the machine's cores), `thresholds` and `percentiles` (a
 * shard may gate or report on its own; the merged run is judged and reported with all of them), and
 * `target` (each machine's own embedded server, or the nodes of one MTA cluster; a differing target
 * URL is a warning).
 */
export const PER_MACHINE_KEYS: readonly string[] = ['workers', 'thresholds', 'percentiles', 'target'];

/** An input as messages name it: its path, printable. */
export const inputName = (run: RunData): string => printable(run.source);

/** A value for a one-line message: JSON, cut short. */
function show(v: unknown): string {
  const text = v === undefined ? 'absent' : JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The dotted paths where `a` and `b` differ, each `path a ≠ b` (arrays compared whole). */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || '(root)'} ${show(a)} ≠ ${show(b)}`];
}

/** The differences between two profiles that matter: `PER_MACHINE_KEYS` left out. */
function profileDifferences(a: Profile, b: Profile): string[] {
  const strip = (p: Profile): Record<string, unknown> => Object.fromEntries(Object.entries(p).filter(([k]) => !PER_MACHINE_KEYS.includes(k)));
  return differences(strip(a), strip(b));
}

/** At most three differences, then how many more, on one line. */
const listed = (diffs: readonly string[]): string => diffs.slice(0, 3).join('; ') + (diffs.length > 3 ? `; and ${diffs.length - 3} more` : '');

/**
 * Checks that `runs` can be added up. Returns the warnings (missing shards; with `force`, the
 * differences it merged despite).
 * @throws SmtpBenchError SB_USAGE, one line naming the inputs: no input; the same run twice (runId)
 *   or the same shard twice; unless `force`, different profiles or shard counts
 */
export function checkInputs(runs: readonly RunData[], force: boolean): string[] {
  if (runs.length === 0) throw new SmtpBenchError('SB_USAGE', 'merge needs at least one run directory');
  const warnings: string[] = [];
  // Different schema versions cannot get here: loadRunDir reads schema 1 only, and names any other.
  // A merged input stands for the runs it was merged from: each of them counts, so merging a merged
  // run with one of its own runs (or with another merge of it) is the same run twice.
  const leaves = runs.flatMap((r) => leavesOf(r).map((leaf) => ({ r, leaf })));
  const byRunId = new Map<string, RunData>();
  for (const { r, leaf } of leaves) {
    const seen = byRunId.get(leaf.runId);
    if (seen) {
      const plain = seen.summary.runId === leaf.runId && r.summary.runId === leaf.runId;
      const what = plain ? `are the same run (${printable(leaf.runId)})` : `${seen === r ? 'hold' : 'both hold'} the run ${printable(leaf.runId)}`;
      throw new SmtpBenchError('SB_USAGE', `cannot merge: ${inputName(seen)} and ${inputName(r)} ${what}; merging it twice would count its messages twice`);
    }
    byRunId.set(leaf.runId, r);
  }
  const refuse = (message: string): void => {
    if (!force) throw new SmtpBenchError('SB_USAGE', `cannot merge: ${message}; --force merges them anyway`);
    warnings.push(`merged despite: ${message} (--force)`);
  };
  // Shards: one count N, each index once. A "shard" of 1 (an unsharded run given --start-at) is a whole run.
  const partOf = (leaf: MergeInput): { index: number; count: number } | null => (leaf.shard && leaf.shard.count > 1 ? leaf.shard : null);
  const shardOf = (leaf: MergeInput): string => {
    const sh = partOf(leaf);
    return sh ? `shard ${sh.index}/${sh.count}` : 'not a shard';
  };
  const first = leaves[0];
  const other = leaves.find(({ leaf }) => (partOf(leaf)?.count ?? null) !== (partOf(first.leaf)?.count ?? null));
  if (other)
    refuse(
      `${inputName(first.r)} is ${shardOf(first.leaf)} but ${inputName(other.r)} ${other.r === first.r ? 'also holds' : 'is'} ${shardOf(other.leaf)}: shards of different splits cover different shares`,
    );
  const byShard = new Map<string, RunData>();
  for (const { r, leaf } of leaves) {
    const sh = partOf(leaf);
    if (!sh) continue;
    const key = `${sh.index}/${sh.count}`;
    const seen = byShard.get(key);
    if (seen) throw new SmtpBenchError('SB_USAGE', `cannot merge: ${inputName(seen)} and ${inputName(r)} ${seen === r ? 'hold' : 'are'} both shard ${key}; merging both would count that share twice`);
    byShard.set(key, r);
  }
  for (const count of new Set(
    leaves.flatMap(({ leaf }) => {
      const sh = partOf(leaf);
      return sh ? [sh.count] : [];
    }),
  )) {
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byShard.has(`${i}/${count}`));
    if (missing.length > 0) {
      warnings.push(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing: the merged run covers ${count - missing.length} of ${count} shares of the profile`);
    }
  }
  for (const r of runs.slice(1)) {
    const diffs = profileDifferences(runs[0].summary.profile, r.summary.profile);
    if (diffs.length > 0) refuse(`${inputName(runs[0])} and ${inputName(r)} ran different profiles (${listed(diffs)})`);
  }
  return warnings;
}

/**
 * The runs an input stands for: a merged run's own inputs (themselves the runs it was made of, so a
 * merge of merges lists every run once), or the input itself.
 */
export function leavesOf(r: RunData): MergeInput[] {
  const s = r.summary;
  if (s.merged && s.merged.inputs.length > 0) return [...s.merged.inputs];
  return [
    {
      source: r.source,
      runId: s.runId,
      shard: s.shard ?? null,
      host: s.shard?.host ?? null,
      startedAt: s.startedAt,
      measured: s.measured ?? null,
      durationS: s.durationS,
      workers: s.workers,
      accepted: s.totals.messages.accepted,
    },
  ];
}
