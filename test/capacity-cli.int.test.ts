/** `smtpbench capacity`'s usage errors (exit 2) and a target that fails at the lowest rate (exit 1). */
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tmp } from './helpers/cli.js';

describe('smtpbench capacity: bad input', () => {
  it('an SLO that does not parse, an empty rate range and a bad precision: one error, exit 2', async () => {
    const r = await cli(['capacity', '--slo', 'transaction.p99 <', '--slo', 'nosuch.metric < 3', '--start-rate', '100', '--max-rate', '50', '--precision', '150%', '--out', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--slo[0]');
    expect(r.stderr).toContain('--slo[1]');
    expect(r.stderr).toContain('--max-rate: the rate range is empty');
    expect(r.stderr).toContain('--precision');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('no SLO at all: exit 2', async () => {
    const r = await cli(['capacity', '--out', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('at least one SLO is needed');
  });

  it("bad capacity flags are named once each, never as the step profile's fields", async () => {
    const cases: [string[], string][] = [
      [['--start-rate', '0.01'], '--start-rate'],
      [['--start-rate', '1e308'], '--start-rate'],
      [['--step-duration', '0s'], '--step-duration'],
      [['--max-rate', '0'], '--max-rate'],
    ];
    for (const [flags, named] of cases) {
      const r = await cli(['capacity', '--slo', 'transaction.p99 < 1s', ...flags, '--out', tmp()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(named);
      expect(r.stderr, flags.join(' ')).not.toMatch(/(^|\s)(rate|duration|warmup): /m);
      expect(
        r.stderr.split('\n').filter((l) => l.includes(named)),
        r.stderr,
      ).toHaveLength(1);
    }
    const bad = await cli(['capacity', '--slo', 'transaction.p99 <', '--out', tmp()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--slo[0]');
    expect(bad.stderr).not.toContain('at least one SLO is needed');
  });

  it('a --factor that cannot raise the start rate by 0.1 msg/s: exit 2', async () => {
    const r = await cli(['capacity', '--slo', 'transaction.p99 < 1s', '--factor', '1.0001', '--out', tmp()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--factor: 1.0001 cannot raise --start-rate 50 by 0.1 msg/s');
  });

  it('SLOs capacity can never measure: delivery.* always, server.* against an external target: exit 2', async () => {
    const d = await cli(['capacity', '--slo', 'delivery.p99 < 1s', '--out', tmp()]);
    expect(d.code, d.stderr).toBe(2);
    expect(d.stderr).toContain('capacity has no --sink');
    const s = await cli(['capacity', '--target', 'smtp://127.0.0.1:9', '--slo', 'server.cmd.data.p99 < 1s', '--out', tmp()]);
    expect(s.code, s.stderr).toBe(2);
    expect(s.stderr).toContain('server.* is measured only by the embedded reference server');
  });

  it('a --max-time of exactly one planned step runs that step', async () => {
    // Planned: warm-up 0 + step 1 s + 1 s to start + gracefulStop 2 s (the capacity default) = 4 s.
    const short = await cli(['capacity', '--slo', 'transaction.p99 < 1s', '--step-duration', '1s', '--warmup', '0s', '--max-time', '3999ms', '--out', tmp()]);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('--max-time: 3999 ms is shorter than one step');
    const out = tmp();
    const r = await cli(['capacity', '--slo', 'transaction.p99 < 1s', '--step-duration', '1s', '--warmup', '0s', '--max-time', '4s', '--workers', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8'));
    expect(report.steps).toHaveLength(1);
    expect(report.answer).toMatchObject({ end: 'max-time', sustainedRate: 50 });
  });

  it('a --max-time shorter than one step: exit 2', async () => {
    const r = await cli(['capacity', '--slo', 'transaction.p99 < 1s', '--max-time', '5s', '--out', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--max-time');
  });
});

describe('smtpbench capacity: a target that cannot be reached', () => {
  it('fails at the lowest rate: exit 1, the curve still written', async () => {
    // A port that was free a moment ago: connections are refused.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const out = tmp();
    const r = await cli(['capacity', '--target', `smtp://127.0.0.1:${port}`, '--slo', 'transaction.p99 < 100ms', '--step-duration', '1s', '--warmup', '0s', '--workers', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('the target could not be reached at 50 msg/s: no message was accepted (connect-refused ×');
    expect(r.stdout).not.toContain('--start-rate');
    expect(r.stderr).toContain('no transaction succeeded');
    expect(r.stderr).toContain('p50 no data, p99 no data');
    expect(r.stderr).not.toContain('no data ms');
    const report = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8'));
    expect(report.steps).toHaveLength(1);
    expect(report.answer).toMatchObject({ end: 'fails-at-start', sustainedRate: null, breaksAtRate: 50 });
    expect(existsSync(join(out, 'steps', '1-50', 'summary.json'))).toBe(true);
  });
});
