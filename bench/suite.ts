/**
 * `npm run bench`: the benchmark suite of issue 14 in one invocation. Builds dist/, runs the
 * micro-benchmarks (vitest bench, bench/*.bench.ts) and the macro suite side by side with the peer
 * tools (bench/suite-cases.ts), judges the issue's targets, and writes results/bench-<sha>.json and
 * results/bench-<sha>.md (bench/README.md explains how to read them). Ratios never fail the run:
 * the exit code is 0 unless the suite itself could not run (a failed build, a bad flag).
 *
 *   npm run bench                              # everything, 5 counted pairs per case
 *   npm run bench -- --short                   # CI: 3 pairs, smaller runs, no -serve client cases, about 2 minutes
 *   npm run bench -- --only server-churn,startup --pairs 7
 *   npm run bench -- bench/connection.bench.ts # one micro-benchmark file only (nothing written)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { environmentLine, readEnvironment } from '../src/report/environment.js';
import { clientCase, endToEndCase, rssCase, serverCase, SinkPool, startupCase, workloads, type PairCase, type SuiteContext } from './suite-cases.js';
import { detectPeers } from './suite-peers.js';
import { killRunning } from './suite-procs.js';
import { judgeTargets, renderMarkdown, type BenchDocument, type MicroRow } from './suite-report.js';

const ROOT = resolve(import.meta.dirname, '..');
process.chdir(ROOT);

const USAGE = `usage: npm run bench -- [--short] [--only CASE[,CASE…]] [--pairs N] [--out DIR]
       npm run bench -- bench/<file>.bench.ts …   (micro-benchmark files only)
cases: micro, server-{small,fanout,churn,1mib}, client-{small,fanout,1mib,churn}[-serve], startup, e2e-1mib, rss-idle
       (a prefix selects a family: --only server, --only client-small)`;

/** The case ids in the order they run. */
const CASE_IDS = [
  'micro',
  'server-small',
  'server-fanout',
  'server-churn',
  'server-1mib',
  'client-small',
  'client-small-serve',
  'client-fanout',
  'client-fanout-serve',
  'client-1mib',
  'client-1mib-serve',
  'client-churn',
  'client-churn-serve',
  'startup',
  'e2e-1mib',
  'rss-idle',
];

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      options: {
        short: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        pairs: { type: 'string' },
        out: { type: 'string', default: 'results' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** `vitest bench` over the given files (all when none), one worker; `json` receives its report. */
function vitestBench(files: string[], json: string | null): number {
  const args = ['vitest', 'bench', '--run', '--project', 'main', '--maxWorkers', '1', ...files, ...(json ? ['--outputJson', json] : [])];
  return spawnSync('npx', args, { stdio: ['ignore', 'inherit', 'inherit'] }).status ?? 1;
}

// `npm run bench -- bench/x.bench.ts`: the micro files alone, as before the suite existed.
if (positionals.length > 0) {
  const bad = positionals.filter((p) => !p.endsWith('.bench.ts'));
  if (bad.length > 0) fail(`not a bench file: ${bad.join(' ')}`);
  console.log(environmentLine(readEnvironment()));
  process.exit(vitestBench(positionals, null));
}

const short = values.short;
const pairs = values.pairs === undefined ? (short ? 3 : 5) : Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 1 || pairs > 50) fail(`--pairs must be an integer from 1 to 50, got ${values.pairs}`);
const only = (values.only ?? []).flatMap((o) => o.split(',')).filter((o) => o !== '');
for (const o of only) if (!CASE_IDS.some((id) => id === o || id.startsWith(`${o}-`))) fail(`--only ${o}: no such case`);
const selected = (id: string): boolean => only.length === 0 || only.some((o) => id === o || id.startsWith(`${o}-`));

const started = Date.now();
const loadStart = loadavg()[0];
const log = (line: string): void => void process.stderr.write(`${line}\n`);

log('bench: npm run build');
if (spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) {
  console.error('bench: npm run build failed');
  process.exit(1);
}
const env = readEnvironment();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no']).toString().trim() !== '';
log(`${environmentLine(env)}${dirty ? ' (+dirty)' : ''}`);
const peers = detectPeers();
for (const [name, p] of Object.entries(peers)) log(`peer ${name}: ${p.available ? `${p.path}${p.version ? ` (${p.version})` : ''}` : `MISSING: ${p.missing}`}`);

const tmp = mkdtempSync(join(tmpdir(), 'smtpbench-suite-'));
const ctx: SuiteContext = { peers, pairs, short, tmp, main: join(ROOT, 'dist/cli/main.js'), log };
const pool = new SinkPool(ctx);
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  log('bench: interrupted; stopping what it started');
  killRunning();
  void pool.stopAll().finally(() => {
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
});

let micro: BenchDocument['micro'] = { ran: false, files: [], rows: [], error: null };
if (selected('micro')) {
  log('\n== micro-benchmarks (vitest bench)');
  const json = join(tmp, 'micro.json');
  const code = vitestBench([], json);
  try {
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      files: { filepath: string; groups: { fullName: string; benchmarks: { name: string; hz: number; mean: number; rme: number; sampleCount: number }[] }[] }[];
    };
    const rows: MicroRow[] = [];
    for (const f of report.files) {
      const file = relative(ROOT, f.filepath);
      for (const g of f.groups) {
        const group = g.fullName.replace(/^.*? > /, '');
        for (const b of g.benchmarks) rows.push({ file, group, name: b.name, hz: b.hz, meanMs: b.mean, rme: b.rme, samples: b.sampleCount });
      }
    }
    micro = { ran: true, files: [...new Set(rows.map((r) => r.file))], rows, error: code === 0 ? null : `vitest bench exited ${code}` };
  } catch (err) {
    micro = { ran: false, files: [], rows: [], error: `vitest bench exited ${code}; no report: ${(err as Error).message}` };
  }
}

const cases: PairCase[] = [];
let startup: BenchDocument['startup'] = null;
let endToEnd: BenchDocument['endToEnd'] = null;
let rss: BenchDocument['rss'] = null;
try {
  const w = workloads(short);
  for (const wl of w.server) {
    if (!selected(wl.id)) continue;
    log(`\n== ${wl.id}: ${wl.title}, ${wl.messages} messages`);
    cases.push(await serverCase(ctx, pool, wl));
  }
  for (const wl of w.client) {
    for (const sink of ['smtp-sink', 'smtpbench'] as const) {
      const id = sink === 'smtp-sink' ? wl.id : `${wl.id}-serve`;
      if (!selected(id)) continue;
      // --short (CI) keeps the client cases against smtp-sink; the -serve ones only when named.
      if (short && sink === 'smtpbench' && !only.includes(id)) continue;
      log(`\n== ${id}: ${wl.title}, ${wl.messages} messages, into ${sink}`);
      cases.push(await clientCase(ctx, pool, wl, sink));
    }
  }
  if (selected('startup')) {
    log('\n== startup: smtpbench run on the embedded server, spawn to first message');
    startup = await startupCase(ctx);
  }
  if (selected('e2e-1mib')) {
    log('\n== e2e-1mib: smtpbench run into smtpbench serve, 1 MiB messages, beside iperf3');
    endToEnd = await endToEndCase(ctx, pool);
  }
} finally {
  await pool.stopAll();
}
if (selected('rss-idle')) {
  log('\n== rss-idle: RSS per idle session, client and server');
  rss = await rssCase(ctx);
}
rmSync(tmp, { recursive: true, force: true });

const doc: BenchDocument = {
  kind: 'smtpbench-bench',
  schema: 1,
  date: new Date(started).toISOString(),
  mode: short ? 'short' : 'full',
  pairs,
  argv: process.argv.slice(2),
  environment: { node: env.node, cpu: env.cpu, cores: env.cores, os: env.os, gitSha: env.gitSha, dirty, loadavg: { start: loadStart, end: loadavg()[0] } },
  peers,
  micro,
  cases,
  startup,
  endToEnd,
  rss,
  targets: judgeTargets(cases, startup, endToEnd, rss),
  durationS: (Date.now() - started) / 1000,
};
const name = `bench-${env.gitSha?.slice(0, 7) ?? 'unknown'}${dirty ? '-dirty' : ''}${short ? '-short' : ''}`;
mkdirSync(values.out, { recursive: true });
const md = renderMarkdown(doc);
writeFileSync(join(values.out, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(join(values.out, `${name}.md`), md);
console.log(`\n${md}`);
log(`bench: wrote ${join(values.out, `${name}.json`)} and ${name}.md`);
