/**
 * `smtpbench capacity` against a server whose capacity is known by construction (one message at a
 * time across all connections, 5 ms each: at most 200 msg/s; test/helpers/serial-smtp.ts). The
 * search must find a rate within 25 % below 200 and never above it. Runs in the `accuracy`
 * project: it measures, so nothing else should share the CPU.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tmp } from './helpers/cli.js';
import { serialSmtp, type SerialServer } from './helpers/serial-smtp.js';

const TRUE_CAPACITY = 200;

describe('capacity against a server of known capacity (200 msg/s)', () => {
  let server: SerialServer;
  beforeAll(async () => {
    server = await serialSmtp(5);
  });
  afterAll(async () => {
    await server.close();
  });

  it('finds a sustained rate within 25 % below 200 msg/s and never above it', async () => {
    const out = tmp();
    const r = await cli(
      [
        'capacity',
        '--target',
        `smtp://127.0.0.1:${server.port}`,
        '--slo',
        'transaction.p99 < 100ms',
        '--step-duration',
        '3s',
        '--warmup',
        '1s',
        '--max-time',
        '75s',
        '--workers',
        '1',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(readFileSync(join(out, 'capacity.json'), 'utf8')).toBe(r.stdout);
    const sustained = report.answer.sustainedRate as number;
    expect(sustained).toBeLessThanOrEqual(TRUE_CAPACITY);
    expect(sustained).toBeGreaterThanOrEqual(TRUE_CAPACITY * 0.75);
    // Whatever passed was at or below the true capacity; the first failure above it.
    for (const s of report.steps) if (s.verdict === 'pass') expect(s.rate).toBeLessThanOrEqual(TRUE_CAPACITY);
    expect(report.answer.breaksAtRate).toBeGreaterThan(sustained);
    expect(report.answer.breaksOn).toBe('transaction.p99');
    expect(report.answer.text).toMatch(new RegExp(`^sustains ${sustained} msg/s \\(transaction\\.p99 [\\d.]+ ms at that rate\\); breaks at [\\d.]+ msg/s on transaction\\.p99`));
    // Geometric from 50 by ×2, then bisection to 5 %.
    expect(report.steps.slice(0, 3).map((s: { rate: number }) => s.rate)).toEqual([50, 100, 200]);
    expect((report.answer.breaksAtRate - sustained) / sustained).toBeLessThanOrEqual(0.05);
    // No achieved rate above what the server can do (1 % for the measured window's edges).
    for (const s of report.steps) expect(s.achievedRate).toBeLessThanOrEqual(TRUE_CAPACITY * 1.01);
    // Each step is an ordinary run directory; the curve's reports exist.
    for (const s of report.steps) {
      expect(existsSync(join(out, s.dir, 'summary.json'))).toBe(true);
      expect(existsSync(join(out, s.dir, 'run.hlog'))).toBe(true);
      expect(JSON.parse(readFileSync(join(out, s.dir, 'summary.json'), 'utf8')).profile.rate).toBe(s.rate);
    }
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(report.answer.text);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('id="chart-latency"');
    // The table and the answer line on stderr (stdout carries the JSON).
    expect(r.stderr).toContain(report.answer.text);
    expect(server.accepted()).toBeGreaterThan(0);
  }, 100_000);
});
