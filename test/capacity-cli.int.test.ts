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
    expect(r.stdout).toContain('the target failed the SLOs at the lowest rate tried, 50 msg/s');
    expect(r.stderr).toContain('no transaction succeeded');
    const report = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8'));
    expect(report.steps).toHaveLength(1);
    expect(report.answer).toMatchObject({ end: 'fails-at-start', sustainedRate: null, breaksAtRate: 50 });
    expect(existsSync(join(out, 'steps', '1-50', 'summary.json'))).toBe(true);
  });
});
