/**
 * `smtpbench compare A.json B.json` on two benchmark documents of `npm run bench`
 * (results/bench-<sha>.json, written by bench/suite.ts): per case and column, how the median of the
 * per-round ratios to the peer moved, and the CPU per message beside it; then start-up, 1 MiB end to
 * end, RSS per session and the targets. Only ratios measured within one invocation are compared
 * (never absolute rates across the two), and nothing here fails: a shared machine moves ratios by
 * ±10 % between invocations, so the output is for reading, exit 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SmtpBenchError } from '../errors.js';
import { printable } from '../redact.js';

/** The `kind` of a benchmark document. */
export const BENCH_KIND = 'smtpbench-bench';

/** A median with its range (bench/suite-pairs.ts `Spread`). */
interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The parts of a benchmark document that compare reads. */
export interface BenchDocumentView {
  readonly kind: typeof BENCH_KIND;
  readonly schema: 1;
  readonly date: string;
  readonly mode: string;
  readonly environment: { readonly node: string; readonly cpu: string; readonly cores: number; readonly gitSha: string | null; readonly dirty: boolean };
  readonly cases: readonly {
    readonly id: string;
    readonly unit: string;
    readonly columns: readonly {
      readonly name: string;
      readonly ratio: Spread | null;
      readonly cpuPerMsgUs: { readonly generator: number; readonly sink: number; readonly both: number } | null;
      readonly cpuRatio: { readonly generator: Spread; readonly both: Spread } | null;
    }[];
  }[];
  readonly startup: { readonly startupMs: Spread | null } | null;
  readonly endToEnd: { readonly share: Spread | null; readonly runMBps: Spread | null } | null;
  readonly rss: { readonly client: { readonly perSessionKiB: number } | null; readonly server: { readonly perSessionKiB: number } | null } | null;
  readonly targets: readonly { readonly id: string; readonly text: string; readonly measured: string | null; readonly verdict: string }[];
}

/**
 * The benchmark document at `path`, or null when `path` is not one (a run directory, a
 * summary.json, a URL): a local `.json` file whose `kind` is `smtpbench-bench`.
 * @throws SmtpBenchError SB_USAGE when it is a benchmark document of another schema or without the
 *   fields compare reads
 */
export function readBenchDocument(path: string): BenchDocumentView | null {
  if (!path.endsWith('.json') || /^https?:\/\//i.test(path) || !existsSync(path)) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null; // not JSON: the run loader says what is wrong with it
  }
  if (typeof doc !== 'object' || doc === null || (doc as { kind?: unknown }).kind !== BENCH_KIND) return null;
  const d = doc as Record<string, unknown>;
  if (d.schema !== 1) throw new SmtpBenchError('SB_USAGE', `${printable(path)}: benchmark document of schema ${printable(String(d.schema))}, this smtpbench reads schema 1`);
  if (!Array.isArray(d.cases) || !Array.isArray(d.targets) || typeof d.environment !== 'object' || d.environment === null) {
    throw new SmtpBenchError('SB_USAGE', `${printable(path)}: a benchmark document without cases, targets or environment`);
  }
  return doc as BenchDocumentView;
}

/** One compared figure. */
export interface BenchChange {
  /** Case id and column (`server-churn · smtpbench serve`), or the figure's name. */
  readonly what: string;
  readonly unit: string;
  readonly baseline: number | null;
  readonly current: number | null;
  /** current ÷ baseline, null when either is missing. */
  readonly change: number | null;
}

/** Both documents side by side. */
export interface BenchComparison {
  readonly baseline: string;
  readonly current: string;
  /** Rate ratios to the peer (median of per-round ratios). */
  readonly ratios: BenchChange[];
  /** Load generator CPU per message, µs, and its ratio to the peer. */
  readonly cpu: BenchChange[];
  /** Start-up, end-to-end share, RSS per session. */
  readonly other: BenchChange[];
  /** Target verdicts that differ. */
  readonly verdicts: { readonly text: string; readonly baseline: string; readonly current: string }[];
}

function change(what: string, unit: string, a: number | null | undefined, b: number | null | undefined): BenchChange {
  const baseline = a ?? null;
  const current = b ?? null;
  return { what, unit, baseline, current, change: baseline !== null && current !== null && baseline !== 0 ? current / baseline : null };
}

function label(d: BenchDocumentView): string {
  const e = d.environment;
  return `git ${e.gitSha?.slice(0, 12) ?? 'unknown'}${e.dirty ? '+dirty' : ''} · ${d.mode} · ${d.date} · node ${e.node} · ${e.cpu} × ${e.cores}`;
}

/** Compares two benchmark documents: every case and column present in either. */
export function compareBenchDocuments(a: BenchDocumentView, b: BenchDocumentView): BenchComparison {
  const ratios: BenchChange[] = [];
  const cpu: BenchChange[] = [];
  const keys: string[] = [];
  const find = (d: BenchDocumentView, id: string, col: string) => d.cases.find((c) => c.id === id)?.columns.find((c) => c.name === col);
  for (const d of [a, b]) for (const c of d.cases) for (const col of c.columns) if (!keys.includes(`${c.id}\t${col.name}`)) keys.push(`${c.id}\t${col.name}`);
  for (const key of keys) {
    const [id, name] = key.split('\t');
    const x = find(a, id, name);
    const y = find(b, id, name);
    const what = `${id} · ${name}`;
    if (x?.ratio || y?.ratio) ratios.push(change(what, '×', x?.ratio?.median, y?.ratio?.median));
    if (x?.cpuPerMsgUs || y?.cpuPerMsgUs) cpu.push(change(`${what}: generator CPU`, 'µs/msg', x?.cpuPerMsgUs?.generator, y?.cpuPerMsgUs?.generator));
    if (x?.cpuRatio || y?.cpuRatio) cpu.push(change(`${what}: generator CPU ÷ peer`, '×', x?.cpuRatio?.generator.median, y?.cpuRatio?.generator.median));
  }
  const other = [
    change('start-up to first message', 'ms', a.startup?.startupMs?.median, b.startup?.startupMs?.median),
    change('1 MiB end to end ÷ iperf3', 'share', a.endToEnd?.share?.median, b.endToEnd?.share?.median),
    change('RSS per idle session, client', 'KiB', a.rss?.client?.perSessionKiB, b.rss?.client?.perSessionKiB),
    change('RSS per idle session, server', 'KiB', a.rss?.server?.perSessionKiB, b.rss?.server?.perSessionKiB),
  ].filter((c) => c.baseline !== null || c.current !== null);
  const verdicts = b.targets.map((t) => ({ text: t.text, baseline: a.targets.find((x) => x.id === t.id)?.verdict ?? '–', current: t.verdict })).filter((v) => v.baseline !== v.current);
  return { baseline: label(a), current: label(b), ratios, cpu, other, verdicts };
}

const num = (x: number | null, unit: string): string => {
  if (x === null || !Number.isFinite(x)) return '–';
  if (unit === 'share') return `${(x * 100).toFixed(1)} %`;
  if (unit === '×') return `${x.toFixed(2)}×`;
  return `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ${unit}`;
};
const pct = (c: number | null): string => (c === null || !Number.isFinite(c) ? '–' : `${c >= 1 ? '+' : ''}${((c - 1) * 100).toFixed(1)} %`);

/** The comparison as Markdown tables (also what the terminal gets). */
export function renderBenchComparison(c: BenchComparison): string {
  const L: string[] = [`baseline: ${c.baseline}`, `current:  ${c.current}`, ''];
  const table = (title: string, rows: BenchChange[]): void => {
    if (rows.length === 0) return;
    L.push(`| ${title} | baseline | current | change |`, '|---|---|---|---|');
    for (const r of rows) L.push(`| ${r.what} | ${num(r.baseline, r.unit)} | ${num(r.current, r.unit)} | ${pct(r.change)} |`);
    L.push('');
  };
  table('rate ÷ peer (median of pair ratios)', c.ratios);
  table('CPU per message', c.cpu);
  table('other', c.other);
  if (c.verdicts.length > 0) {
    L.push('| target | baseline | current |', '|---|---|---|');
    for (const v of c.verdicts) L.push(`| ${v.text} | ${v.baseline} | ${v.current} |`);
    L.push('');
  }
  L.push('Ratios move by about ±10 % between invocations on a shared machine: read a change smaller than that as noise (bench/README.md).');
  return `${L.join('\n')}\n`;
}
