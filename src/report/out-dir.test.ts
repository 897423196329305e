import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SmtpBenchError } from '../errors.js';
import { claimOutDir, makeDirs, MANIFEST, settleOutDir } from './out-dir.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'out-dir-'));
const put = (dir: string, name: string, text = 'x'): string => (writeFileSync(join(dir, name), text), join(dir, name));
const manifestOf = (dir: string): { runId: string; files: string[] } => JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
const noWarn = (m: string): never => {
  throw new Error(`unexpected warning: ${m}`);
};

/** Runs `claimOutDir` and returns the SB_USAGE message it throws. */
function refusal(dir: string, force = false): string {
  try {
    claimOutDir(dir, 'r2', { force, streaming: [] });
  } catch (err) {
    expect(err).toBeInstanceOf(SmtpBenchError);
    expect((err as SmtpBenchError).code).toBe('SB_USAGE');
    return (err as Error).message;
  }
  throw new Error(`${dir} was claimed`);
}

describe('results directory (hostile review F1, F11, F21)', () => {
  it('makes a missing directory with its parents and lists the streaming files in the manifest at once', () => {
    const dir = join(fresh(), 'a', 'b');
    const out = claimOutDir(dir, 'r1', { force: false, streaming: ['run.hlog', 'timeline.ndjson'] });
    expect(out.previous).toEqual([]);
    expect(manifestOf(dir)).toMatchObject({ runId: 'r1', files: ['run.hlog', 'timeline.ndjson'] });
    const written = [put(dir, 'summary.json'), put(dir, 'mail.hgrm'), put(dir, 'run.hlog')];
    settleOutDir(out, [...written, '/elsewhere/junit.xml'], noWarn);
    expect(manifestOf(dir).files).toEqual(['mail.hgrm', 'run.hlog', 'summary.json']);
  });

  it('refuses a directory of files smtpbench did not write, names them, and deletes nothing', () => {
    const dir = fresh();
    put(dir, 'nginx-wrk2.hgrm', 'precious');
    put(dir, 'report.md', 'my notes');
    expect(refusal(dir)).toMatch(/holds files smtpbench did not write \((nginx-wrk2\.hgrm, report\.md|report\.md, nginx-wrk2\.hgrm)\).*--force/);
    expect(readdirSync(dir).sort()).toEqual(['nginx-wrk2.hgrm', 'report.md']);
  });

  it('--force writes beside foreign files: same names are replaced, the rest is never removed, even by the next run', () => {
    const dir = fresh();
    put(dir, 'nginx-wrk2.hgrm', 'precious');
    put(dir, 'report.md', 'my notes');
    const first = claimOutDir(dir, 'r1', { force: true, streaming: [] });
    settleOutDir(first, [put(dir, 'report.md', 'ours'), put(dir, 'mail.hgrm')], noWarn);
    // The next run (no --force needed now: the directory has a manifest) writes no mail.hgrm.
    const second = claimOutDir(dir, 'r2', { force: false, streaming: [] });
    expect(second.previous).toEqual(['mail.hgrm', 'report.md']);
    expect(existsSync(join(dir, 'mail.hgrm'))).toBe(true); // nothing is removed before the results are written
    settleOutDir(second, [put(dir, 'report.md', 'ours again'), put(dir, 'rcpt.hgrm')], noWarn);
    expect(readdirSync(dir).sort()).toEqual([MANIFEST, 'nginx-wrk2.hgrm', 'rcpt.hgrm', 'report.md']);
    expect(readFileSync(join(dir, 'nginx-wrk2.hgrm'), 'utf8')).toBe('precious');
  });

  it('beside a manifest, an unrelated file is left alone but one the run would overwrite is refused', () => {
    const dir = fresh();
    settleOutDir(claimOutDir(dir, 'r1', { force: false, streaming: [] }), [put(dir, 'summary.json')], noWarn);
    put(dir, 'notes.txt');
    settleOutDir(claimOutDir(dir, 'r2', { force: false, streaming: [] }), [put(dir, 'summary.json')], noWarn);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    put(dir, 'wrk2.hgrm');
    settleOutDir(claimOutDir(dir, 'r3', { force: false, streaming: [] }), [put(dir, 'summary.json')], noWarn);
    put(dir, 'rcpt.hgrm');
    expect(refusal(dir)).toMatch(/\(rcpt\.hgrm\)/);
    expect(readdirSync(dir).sort()).toEqual([MANIFEST, 'notes.txt', 'rcpt.hgrm', 'summary.json', 'wrk2.hgrm']);
  });

  it('a capacity search killed while writing steps/ owns that subtree: the next search removes the steps it did not rewrite', () => {
    const dir = fresh();
    claimOutDir(dir, 'r1', { force: false, streaming: ['steps/'] });
    for (const step of ['1-100', '2-200']) {
      mkdirSync(join(dir, 'steps', step), { recursive: true });
      put(join(dir, 'steps', step), 'run.hlog');
    }
    const next = claimOutDir(dir, 'r2', { force: false, streaming: ['steps/'] });
    settleOutDir(next, [put(join(dir, 'steps', '1-100'), 'summary.json'), join(dir, 'steps', '1-100', 'run.hlog'), put(dir, 'capacity.json')], noWarn);
    expect(readdirSync(join(dir, 'steps'))).toEqual(['1-100']);
    expect(manifestOf(dir).files).toEqual(['capacity.json', 'steps/1-100/run.hlog', 'steps/1-100/summary.json']);
  });

  it('an edited manifest cannot reach outside the directory: it then owns nothing', () => {
    const dir = fresh();
    put(dir, 'summary.json');
    writeFileSync(join(dir, MANIFEST), JSON.stringify({ tool: 'smtpbench', runId: 'x', files: ['summary.json', '../victim'] }));
    expect(refusal(dir)).toMatch(/summary\.json/);
  });

  it('a file in place of the directory, and a directory nobody can write (not even root), are usage errors before anything starts', () => {
    const parent = fresh();
    put(parent, 'file');
    expect(refusal(join(parent, 'file'))).toMatch(/not a directory|ENOTDIR|EEXIST/);
    expect(refusal(join(parent, 'file', 'sub'))).toMatch(/is not a directory/);
    expect(refusal('/proc/self', true)).toMatch(/cannot write there \(E[A-Z]+\)/);
  });

  it('makeDirs under /proc fails at once instead of looping (Node 20 mkdirSync recursive never returns there)', () => {
    expect(() => makeDirs('/proc/self/nope/deeper')).toThrow();
  });
});
