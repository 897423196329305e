#!/usr/bin/env node
/**
 * Before and after in one process, several times: runs a benchmark file that knows a base checkout
 * (`bench/connection.bench.ts`, `bench/peers.bench.ts`, `bench/session.bench.ts`) `--runs` times
 * with the base named, pairs each "(this tree)" row with its "(base: …)" row, and prints, per bench,
 * the median over the runs of two speed ratios, this tree ÷ base (above 1: this tree is faster):
 * - `median`: from each row's median time per op;
 * - `min`: from each row's fastest op, which preemption on a shared machine barely moves.
 * Issue 12 holds every split step to "no more than 3 % slower" on these ratios.
 *
 *   node bench/vs-base.mjs --base /path/to/checkout [--runs 5] bench/connection.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { base: { type: 'string' }, runs: { type: 'string', default: '5' } }, allowPositionals: true });
const runs = Number(values.runs);
if (!values.base || positionals.length !== 1 || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/vs-base.mjs --base DIR [--runs N] bench/<file>.bench.ts');
  process.exit(2);
}
const base = resolve(values.base);
const env = { ...process.env, CONNECTION_BENCH_BASE: base, SESSION_BENCH_BASE: base };
const dir = mkdtempSync(join(tmpdir(), 'vs-base-'));
/** bench title without its label → { median: number[], min: number[] } of ratios, one per run. */
const ratios = new Map();
try {
  for (let run = 1; run <= runs; run++) {
    const out = join(dir, `run-${run}.json`);
    const r = spawnSync('npx', ['vitest', 'bench', '--run', '--project', 'main', '--maxWorkers', '1', positionals[0], '--outputJson', out], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`vitest bench exited ${r.status} on run ${run}`);
    for (const file of JSON.parse(readFileSync(out, 'utf8')).files) {
      for (const group of file.groups) {
        const rows = new Map(group.benchmarks.map((b) => [b.name, b]));
        for (const [name, mine] of rows) {
          if (!name.endsWith(' (this tree)')) continue;
          const title = name.slice(0, -' (this tree)'.length);
          const theirs = [...rows.values()].find((b) => b.name.startsWith(`${title} (base: `));
          if (!theirs) continue;
          const key = `${group.fullName.replace(/^.*? > /, '')} > ${title}`;
          const entry = ratios.get(key) ?? { median: [], min: [] };
          entry.median.push(theirs.median / mine.median);
          entry.min.push(theirs.min / mine.min);
          ratios.set(key, entry);
        }
      }
    }
    console.error(`run ${run}/${runs} done`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (ratios.size === 0) {
  console.error('no "(this tree)" / "(base: …)" pairs: does this bench file know a base checkout?');
  process.exit(1);
}
console.log(`this tree ÷ base (${base}), median of ${runs} runs; above 1 is faster`);
console.log('| bench | median-time ratio | min-time ratio | per-run median ratios |');
console.log('|---|---|---|---|');
for (const [key, r] of ratios) {
  console.log(`| ${key} | ${median(r.median).toFixed(3)} | ${median(r.min).toFixed(3)} | ${r.median.map((x) => x.toFixed(2)).join(' ')} |`);
}
