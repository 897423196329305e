import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareBenchDocuments, readBenchDocument, renderBenchComparison, type BenchDocumentView } from './bench-compare.js';

const tmp = mkdtempSync(join(tmpdir(), 'bench-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const spread = (median: number) => ({ median, min: median * 0.9, max: median * 1.1, n: 3 });

function doc(sha: string, churnRatio: number, cpuRatio: number, startupMs: number, verdict: string): BenchDocumentView {
  return {
    kind: 'smtpbench-bench',
    schema: 1,
    date: '2026-12-07T00:00:00.000Z',
    mode: 'full',
    environment: { node: 'v20.20.2', cpu: 'AMD EPYC', cores: 2, gitSha: sha, dirty: false },
    cases: [
      {
        id: 'server-churn',
        unit: 'msg/s',
        columns: [
          { name: 'smtp-sink', ratio: null, cpuPerMsgUs: { generator: 120, sink: 100, both: 220 }, cpuRatio: null },
          { name: 'smtpbench serve', ratio: spread(churnRatio), cpuPerMsgUs: { generator: 120, sink: 150, both: 270 }, cpuRatio: { generator: spread(1), both: spread(1.2) } },
        ],
      },
      {
        id: 'client-small',
        unit: 'msg/s',
        columns: [{ name: 'smtpbench run', ratio: spread(1.6), cpuPerMsgUs: { generator: 28, sink: 40, both: 68 }, cpuRatio: { generator: spread(cpuRatio), both: spread(0.9) } }],
      },
    ],
    startup: { startupMs: spread(startupMs) },
    endToEnd: { share: spread(0.25), runMBps: spread(700) },
    rss: { client: { perSessionKiB: 18 }, server: { perSessionKiB: 10 } },
    targets: [{ id: 'server-churn', text: 'server churn', measured: `${churnRatio}×`, verdict }],
  };
}

describe('bench-compare', () => {
  it('reads a benchmark document and nothing else', () => {
    const a = join(tmp, 'bench-a.json');
    writeFileSync(a, JSON.stringify(doc('aaaaaaa', 0.7, 0.74, 700, 'missed')));
    const summary = join(tmp, 'summary.json');
    writeFileSync(summary, JSON.stringify({ schema: 1, runId: 'x' }));
    expect(readBenchDocument(a)?.environment.gitSha).toBe('aaaaaaa');
    expect(readBenchDocument(summary)).toBeNull();
    expect(readBenchDocument(tmp)).toBeNull();
    expect(readBenchDocument('https://ci.example.test/bench.json')).toBeNull();
    const other = join(tmp, 'bench-other.json');
    writeFileSync(other, JSON.stringify({ kind: 'smtpbench-bench', schema: 2 }));
    expect(() => readBenchDocument(other)).toThrow(/schema 2/);
  });

  it('gives the change of every ratio, CPU figure and other figure, and the verdicts that moved', () => {
    const c = compareBenchDocuments(doc('aaaaaaa', 0.7, 0.74, 700, 'missed'), doc('bbbbbbb', 1.05, 0.5, 140, 'met'));
    const churn = c.ratios.find((r) => r.what === 'server-churn · smtpbench serve')!;
    expect(churn.baseline).toBe(0.7);
    expect(churn.current).toBe(1.05);
    expect(churn.change).toBeCloseTo(1.5);
    expect(c.ratios.some((r) => r.what.includes('smtp-sink'))).toBe(false); // the baseline column has no ratio
    expect(c.cpu.find((r) => r.what === 'client-small · smtpbench run: generator CPU ÷ peer')!.change).toBeCloseTo(0.5 / 0.74);
    expect(c.other.find((r) => r.what === 'start-up to first message')!.current).toBe(140);
    expect(c.verdicts).toEqual([{ text: 'server churn', baseline: 'missed', current: 'met' }]);
    const text = renderBenchComparison(c);
    expect(text).toContain('| server-churn · smtpbench serve | 0.70× | 1.05× | +50.0 % |');
    expect(text).toContain('git aaaaaaa');
  });

  it('shows a case present in one document only with a dash', () => {
    const b = doc('bbbbbbb', 1, 0.5, 140, 'met');
    const a = { ...doc('aaaaaaa', 0.7, 0.74, 700, 'missed'), cases: [] };
    const c = compareBenchDocuments(a, b);
    expect(c.ratios[0]).toMatchObject({ baseline: null, current: 1, change: null });
    expect(renderBenchComparison(c)).toContain('| – | 1.00× | – |');
  });
});
