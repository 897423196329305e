/**
 * What `npm run bench` writes: the JSON document (results/bench-<sha>.json, schema below) and its
 * Markdown table (results/bench-<sha>.md), with the issue 14 targets judged as met, missed or not
 * measured. `smtpbench compare A.json B.json` reads the JSON (src/report/bench-compare.ts).
 */
import type { EndToEndResult, PairCase, RssResult, StartupResult } from './suite-cases.js';
import type { Spread } from './suite-pairs.js';
import type { Peer, PeerName } from './suite-peers.js';

/** One micro-benchmark row (vitest bench). */
export interface MicroRow {
  readonly file: string;
  readonly group: string;
  readonly name: string;
  readonly hz: number;
  readonly meanMs: number;
  readonly rme: number;
  readonly samples: number;
}

/** A target of issue 14 and how this run measured it. */
export interface Target {
  readonly id: string;
  readonly text: string;
  readonly goal: string;
  /** The measured figure as text, or null. */
  readonly measured: string | null;
  readonly verdict: 'met' | 'missed' | 'not measured';
  readonly note: string | null;
}

/** results/bench-<sha>.json. */
export interface BenchDocument {
  readonly kind: 'smtpbench-bench';
  readonly schema: 1;
  readonly date: string;
  readonly mode: 'full' | 'short';
  readonly pairs: number;
  readonly argv: string[];
  readonly environment: {
    readonly node: string;
    readonly cpu: string;
    readonly cores: number;
    readonly os: string;
    readonly gitSha: string | null;
    readonly dirty: boolean;
    /** 1-minute load average at the start and at the end (a noisy machine shows here). */
    readonly loadavg: { readonly start: number; readonly end: number };
  };
  readonly peers: Record<PeerName, Peer>;
  readonly micro: { readonly ran: boolean; readonly files: string[]; readonly rows: MicroRow[]; readonly error: string | null };
  readonly cases: PairCase[];
  readonly startup: StartupResult | null;
  readonly endToEnd: EndToEndResult | null;
  readonly rss: RssResult | null;
  readonly targets: Target[];
  readonly durationS: number;
}

const fmt = (x: number | null | undefined, digits = 2): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toFixed(digits);
};
const ratioText = (s: Spread | null): string => (s === null ? '–' : `${fmt(s.median)}× [${fmt(s.min)}–${fmt(s.max)}]`);

function pairCase(cases: readonly PairCase[], id: string, column: string) {
  return cases.find((c) => c.id === id)?.columns.find((c) => c.name === column) ?? null;
}

/** Judges every target of issue 14 against this run's figures. */
export function judgeTargets(cases: readonly PairCase[], startup: StartupResult | null, e2e: EndToEndResult | null, rss: RssResult | null): Target[] {
  const out: Target[] = [];
  const ratioTarget = (id: string, text: string, caseId: string, column: string, goal: number, field: 'rate' | 'cpu' = 'rate'): void => {
    const col = pairCase(cases, caseId, column);
    const s = field === 'rate' ? (col?.ratio ?? null) : (col?.cpuRatio?.generator ?? null);
    const goalText = field === 'rate' ? `≥ ${goal}×` : `≤ ${goal}×`;
    if (s === null) {
      const why = col === null ? 'case not run' : (col.missing ?? col.errors[0] ?? 'no successful pair');
      out.push({ id, text, goal: goalText, measured: null, verdict: 'not measured', note: why });
      return;
    }
    const met = field === 'rate' ? s.median >= goal : s.median <= goal;
    out.push({ id, text, goal: goalText, measured: ratioText(s), verdict: met ? 'met' : 'missed', note: null });
  };
  ratioTarget('server-churn', 'server churn, serve ÷ smtp-sink msg/s', 'server-churn', 'smtpbench serve', 1);
  ratioTarget('server-small', 'server small persistent, serve ÷ smtp-sink msg/s', 'server-small', 'smtpbench serve', 1);
  ratioTarget('server-fanout', 'server fan-out, serve ÷ smtp-sink rcpt/s', 'server-fanout', 'smtpbench serve', 1);
  ratioTarget('server-1mib', 'server 1 MiB, serve ÷ smtp-sink MB/s (issue table: ≥ 3×; item 3: ≥ 1.0×)', 'server-1mib', 'smtpbench serve', 3);
  ratioTarget('client-cpu', 'client CPU per small message, run ÷ smtp-source (generator process only)', 'client-small', 'smtpbench run', 0.5, 'cpu');
  ratioTarget('client-small', 'client small msg/s, run ÷ smtp-source into smtp-sink', 'client-small', 'smtpbench run', 1.5);
  ratioTarget('client-fanout', 'client fan-out rcpt/s, run ÷ smtp-source into smtp-sink', 'client-fanout', 'smtpbench run', 2);
  ratioTarget('client-1mib', 'client 1 MiB MB/s, run ÷ smtp-source into smtp-sink', 'client-1mib', 'smtpbench run', 1);
  if (startup?.startupMs) {
    const v = startup.startupMs.median;
    out.push({
      id: 'startup',
      text: 'run start-up, process start to first message sent, embedded server',
      goal: '≤ 150 ms',
      measured: `${fmt(v, 0)} ms [${fmt(startup.startupMs.min, 0)}–${fmt(startup.startupMs.max, 0)}]`,
      verdict: v <= 150 ? 'met' : 'missed',
      note: null,
    });
  } else out.push({ id: 'startup', text: 'run start-up to first message sent', goal: '≤ 150 ms', measured: null, verdict: 'not measured', note: startup?.errors[0] ?? 'case not run' });
  if (e2e?.share) {
    const v = e2e.share.median;
    out.push({
      id: 'e2e-1mib',
      text: '1 MiB end to end (run into serve) ÷ iperf3 loopback, same invocation',
      goal: '≥ 30 %',
      measured: `${fmt(v * 100, 1)} % [${fmt(e2e.share.min * 100, 1)}–${fmt(e2e.share.max * 100, 1)}]`,
      verdict: v >= 0.3 ? 'met' : 'missed',
      note: null,
    });
  } else {
    const why = e2e === null ? 'case not run' : e2e.iperf3 === null ? 'iperf3 missing' : (e2e.errors[0] ?? 'no successful pair');
    out.push({
      id: 'e2e-1mib',
      text: '1 MiB end to end ÷ iperf3 loopback',
      goal: '≥ 30 %',
      measured: e2e?.runMBps ? `${fmt(e2e.runMBps.median, 0)} MB/s (no iperf3 figure)` : null,
      verdict: 'not measured',
      note: why,
    });
  }
  for (const side of ['client', 'server'] as const) {
    const r = rss?.[side] ?? null;
    if (r === null) {
      out.push({ id: `rss-${side}`, text: `RSS per idle session, ${side}`, goal: '≤ 20 KiB', measured: null, verdict: 'not measured', note: rss?.error ?? 'case not run' });
      continue;
    }
    out.push({
      id: `rss-${side}`,
      text: `RSS per idle session at ${rss!.sessions.toLocaleString('en-US')} sessions, ${side}`,
      goal: '≤ 20 KiB',
      measured: `${fmt(r.perSessionKiB, 1)} KiB`,
      verdict: r.perSessionKiB <= 20 ? 'met' : 'missed',
      note: rss!.note,
    });
  }
  return out;
}

/** The one-line environment record. */
export function environmentText(d: BenchDocument): string {
  const e = d.environment;
  return `node ${e.node} · ${e.cpu} × ${e.cores} · ${e.os} · git ${e.gitSha?.slice(0, 12) ?? 'unknown'}${e.dirty ? '+dirty' : ''} · ${d.date} · load ${e.loadavg.start.toFixed(2)} → ${e.loadavg.end.toFixed(2)}`;
}

/** The Markdown report. */
export function renderMarkdown(d: BenchDocument): string {
  const L: string[] = [];
  L.push(`# smtpbench benchmark (${d.mode}, ${d.pairs} counted pairs per case after one warm-up)`, '', `\`${environmentText(d)}\``, '');
  if (d.mode === 'short') L.push("Short mode: small runs, so `smtpbench run`'s start-up (about 0.35 s) dominates every client ratio; judge the targets on a full run.", '');
  L.push('## Targets (issue 14)', '', '| target | goal | measured (median [min–max] of pair ratios) | verdict |', '|---|---|---|---|');
  for (const t of d.targets) L.push(`| ${t.text} | ${t.goal} | ${t.measured ?? '–'} | ${t.verdict}${t.note ? ` (${t.note})` : ''} |`);
  L.push('', '## Side by side', '');
  L.push(
    "Ratio: median over the rounds of this column's rate ÷ the first column's rate in the same round (above 1: faster). CPU per message: user + system, µs, of the load generator, of the sink, and of both; CPU ×: median of the per-round ratios to the first column (generator / both). Rates and CPU are whole-process, start-up included; \"load phase\" is `smtpbench run`'s own rate from its summary.json, start-up excluded, for reading only.",
    '',
  );
  L.push('| case | column | rate (median) | ratio [min–max] | CPU µs/msg gen · sink · both | CPU × gen / both | ok |', '|---|---|---|---|---|---|---|');
  for (const c of d.cases) {
    for (const col of c.columns) {
      if (col.missing !== null) {
        L.push(`| ${c.id} | ${col.name} | missing: ${col.missing} | | | | |`);
        continue;
      }
      const cpu = col.cpuPerMsgUs;
      const cpuText = cpu ? `${fmt(cpu.generator, 1)} · ${fmt(cpu.sink, 1)} · ${fmt(cpu.both, 1)}` : '–';
      const cpuRatio = col.cpuRatio ? `${fmt(col.cpuRatio.generator.median)} / ${fmt(col.cpuRatio.both.median)}` : col.ratio === null ? 'baseline' : '–';
      const ratio = col.ratio === null ? (col.rate ? 'baseline' : '–') : ratioText(col.ratio);
      L.push(
        `| ${c.id} | ${col.name} | ${col.rate ? `${fmt(col.rate.median)} ${c.unit}${col.loadRate ? ` (load phase ${fmt(col.loadRate.median)})` : ''}` : '–'} | ${ratio} | ${cpuText} | ${cpuRatio} | ${col.ok}${col.errors.length ? ` (${col.errors[0].replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 80)})` : ''} |`,
      );
    }
  }
  L.push('', 'Cases:', '');
  for (const c of d.cases) L.push(`- \`${c.id}\`: ${c.title}; ${c.note}.`);
  if (d.startup) {
    const s = d.startup;
    L.push(
      '',
      '## Start-up',
      '',
      `\`${s.command}\`, ${s.ok} runs: spawn → first MAIL **${fmt(s.startupMs?.median, 0)} ms** [${fmt(s.startupMs?.min, 0)}–${fmt(s.startupMs?.max, 0)}] (spawn → start barrier ${fmt(s.toBarrierMs?.median, 0)} ms, + handshake ${fmt(s.handshakeMs?.median, 1)} ms); whole process ${fmt(s.wallS?.median)} s wall, ${fmt(s.cpuS?.median)} s CPU. Method: ${s.method}.`,
    );
  }
  if (d.endToEnd) {
    const e = d.endToEnd;
    L.push(
      '',
      '## 1 MiB end to end',
      '',
      `\`${e.command}\`: ${fmt(e.runMBps?.median, 0)} MB/s during the load (${fmt(e.processMBps?.median, 0)} MB/s over the whole process); ${e.iperf3 ? `\`${e.iperf3}\`: ${fmt(e.iperf3MBps?.median, 0)} MB/s; share ${e.share ? `${fmt(e.share.median * 100, 1)} %` : '–'} (median of per-round shares)` : 'iperf3: missing'}. ${e.ok} runs.`,
    );
  }
  if (d.rss) {
    const r = d.rss;
    const side = (x: RssResult['client']): string =>
      x ? `${fmt(x.fewKiB / 1024, 1)} → ${fmt(x.manyKiB / 1024, 1)} MiB, **${fmt(x.perSessionKiB, 1)} KiB per session** (${fmt((x.perSessionKiB * 1000) / 1024, 1)} MiB per 1,000)` : '–';
    L.push(
      '',
      '## RSS per idle session',
      '',
      `${r.sessions.toLocaleString('en-US')} sessions (ulimit -n ${r.ulimitN}${r.note ? `; ${r.note}` : ''}). Client: ${side(r.client)}. Server: ${side(r.server)}.${r.error ? ` Error: ${r.error}.` : ''} Method: ${r.method}.`,
    );
  }
  L.push('', '## Peers', '', '| tool | status |', '|---|---|');
  for (const [name, p] of Object.entries(d.peers)) L.push(`| ${name} | ${p.available ? `${p.path}${p.version ? ` (${p.version})` : ''}` : `missing: ${p.missing}`} |`);
  if (d.micro.ran || d.micro.error) {
    L.push('', '## Micro-benchmarks (vitest bench, in memory)', '');
    if (d.micro.error) L.push(`Error: ${d.micro.error}`, '');
    L.push('| file › group | bench | ops/s | ± % |', '|---|---|---|---|');
    for (const r of d.micro.rows) L.push(`| ${r.file} › ${r.group} | ${r.name} | ${fmt(r.hz, 1)} | ${fmt(r.rme, 1)} |`);
  }
  L.push('', `Took ${fmt(d.durationS, 0)} s. A noisy shared machine: quote ratios from one invocation, never absolute figures across invocations (bench/README.md).`, '');
  return L.join('\n');
}
