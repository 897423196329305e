/**
 * The example CI workflow of docs/recipes.md ("CI gate") cannot rot: this test takes the `run:` steps of
 * that very YAML block and runs them in bash, as GitHub Actions would, with `smtpbench` on PATH
 * (the built CLI) and the reference server (`smtpbench serve`) standing in for the MTA under test.
 * Three workflow runs: the default branch stores a baseline; a pull request against the same
 * server passes; a pull request against a server made 5 ms slower per message fails at the
 * comparison with exit 3. Runs in the accuracy project (alone, after the rest): its thresholds
 * include generator health.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tmp } from './helpers/cli.js';
import { CLI, ROOT } from './helpers/paths.js';
import { serve, type ServeProcess } from './helpers/serve-cli.js';

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
}

/** The workflow's steps, from the "CI gate" section of docs/recipes.md. */
function workflowSteps(): Step[] {
  const recipes = readFileSync(join(ROOT, 'docs/recipes.md'), 'utf8');
  const section = recipes.slice(recipes.indexOf('\n## CI gate'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('docs/recipes.md has no yaml block under "## CI gate"');
  const wf = parse(block[1]) as { env: Record<string, string>; jobs: Record<string, { steps: Step[] }> };
  return Object.values(wf.jobs)[0].steps;
}

/** Runs one step's script in `cwd` with bash -e, as Actions does; resolves with its exit code and output. */
function runStep(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile('bash', ['-e', '-c', script], { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

const servers: ServeProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.child.kill();
});

describe('the CI workflow of docs/recipes.md', () => {
  it('stores a baseline, passes a pull request on the same server, and fails one on a server 5 ms slower (exit 3)', async () => {
    const steps = workflowSteps();
    const byName = (name: string): string => {
      const step = steps.find((s) => s.name === name);
      if (!step?.run) throw new Error(`the workflow has no run step named "${name}"`);
      return step.run;
    };
    // The steps that install smtpbench and start Postfix need root and apt; the test provides both.
    expect(byName('Install smtpbench')).toContain('npm');
    expect(byName('Start the MTA under test')).toContain('postfix');

    const work = tmp();
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'smtpbench'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'smtpbench'), 0o755);
    const workspace = join(work, 'workspace');
    mkdirSync(workspace);
    symlinkSync(ROOT, join(workspace, 'smtpbench')); // actions/checkout of smtpbench into ./smtpbench
    const summaryFile = join(work, 'step-summary.md');

    const job = async (mta: ServeProcess, names: string[]): Promise<Record<string, { code: number; out: string }>> => {
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, SMTP_TARGET: `smtp://127.0.0.1:${mta.port}`, GITHUB_STEP_SUMMARY: summaryFile, CI: 'true' };
      const results: Record<string, { code: number; out: string }> = {};
      for (const name of names) results[name] = await runStep(byName(name), workspace, env);
      return results;
    };

    // 1. Push to the default branch: benchmark, summary, keep as the baseline.
    const mta = await serve(['--quiet']);
    servers.push(mta);
    const main = await job(mta, ['Benchmark with thresholds', 'Step summary', 'Keep as the baseline']);
    for (const [name, r] of Object.entries(main)) expect(r.code, `${name}: ${r.out}`).toBe(0);
    expect(existsSync(join(workspace, 'baseline/summary.json'))).toBe(true);
    expect(readFileSync(join(workspace, 'results/junit.xml'), 'utf8')).toContain('<testsuite');
    expect(existsSync(join(workspace, 'results/report.html'))).toBe(true);
    expect(readFileSync(summaryFile, 'utf8')).toContain('# smtpbench run');

    // 2. A pull request, same server: thresholds pass, no regression.
    const pr = await job(mta, ['Benchmark with thresholds', 'Compare with the baseline', 'Step summary']);
    for (const [name, r] of Object.entries(pr)) expect(r.code, `${name}: ${r.out}`).toBe(0);
    expect(readFileSync(join(workspace, 'results/compare.md'), 'utf8')).toMatch(/no regression/i);

    // 3. A pull request whose MTA answers every end of data 5 ms later: the comparison fails the job.
    const slow = await serve(['--quiet', '--fault', 'data-end: delay 5ms']);
    servers.push(slow);
    const slower = await job(slow, ['Benchmark with thresholds', 'Compare with the baseline', 'Step summary']);
    expect(slower['Benchmark with thresholds'].code, slower['Benchmark with thresholds'].out).toBe(0);
    expect(slower['Compare with the baseline'].code, slower['Compare with the baseline'].out).toBe(3);
    expect(slower['Step summary'].code).toBe(0);
    expect(readFileSync(join(workspace, 'results/compare.md'), 'utf8')).toMatch(/regression/i);
  });
});
