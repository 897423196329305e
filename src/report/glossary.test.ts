import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PHASES } from '../metrics/phases.js';
import { SERVER_HISTOGRAMS } from '../metrics/server-histograms.js';
import { errorKindMeaning, phaseMeaning } from './glossary.js';

/** The phase table and the error-kind list live in docs/results.md, "What is measured". */
const README = readFileSync(join(import.meta.dirname, '../../docs/results.md'), 'utf8');
const FALLBACK = errorKindMeaning('no-such-kind-at-all');

describe('phase glossary', () => {
  it('defines every client phase and every reference server histogram', () => {
    for (const p of PHASES) expect(phaseMeaning(p, 'open'), p).toMatch(/→/);
    for (const name of SERVER_HISTOGRAMS) expect(phaseMeaning(name, 'open'), name).toMatch(/^server: .+→/);
    expect(phaseMeaning('cmd.rcpt', 'open')).toContain('the RCPT command line parsed → its reply queued');
    expect(phaseMeaning('nonsense', 'open')).toBeNull();
  });

  it("gives the README table's from → to for the phases it lists", () => {
    // The README's table: | `phase` | from → to |; each phase's text here shares its end point.
    const measured = README.slice(README.indexOf('\n## What is measured'), README.indexOf('\n## ', README.indexOf('\n## What is measured') + 1));
    const rows = [...measured.matchAll(/^\| `([a-z]+)`(?:, `[a-z]+`)* \| (.+?) \|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const [, phase] of rows) expect(phaseMeaning(phase, 'open'), phase).not.toMatch(/scenario step/);
  });

  it('says what transaction runs from in each load model', () => {
    expect(phaseMeaning('transaction', 'open')).toContain('intended start');
    expect(phaseMeaning('transaction', 'closed')).toContain('first envelope octet written');
  });
});

describe('error kind meanings', () => {
  it('describes every kind the README lists, and each <step>-timeout and <step>-closed', () => {
    const para = README.slice(README.indexOf('Other error kinds:'), README.indexOf('\n\n', README.indexOf('Other error kinds:')));
    const [steps, rest] = [para.slice(para.indexOf('('), para.indexOf(')')), para.slice(para.indexOf(')'))];
    const names = (text: string): string[] => [...text.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]);
    expect(names(steps)).toContain('waiting');
    expect(names(rest).length).toBeGreaterThan(20);
    for (const kind of names(rest)) expect(errorKindMeaning(kind), kind).not.toBe(FALLBACK);
    for (const step of names(steps)) {
      // A step named in words, not the generic "the <step> step's reply".
      expect(errorKindMeaning(`${step}-timeout`), step).not.toContain(`the ${step} step's`);
      expect(errorKindMeaning(`${step}-closed`), step).toMatch(/^the server closed the connection while the client waited for /);
    }
  });

  it('reads the open-ended forms: a timeout, a close, a 421 per phase', () => {
    expect(errorKindMeaning('rcpt-timeout')).toBe('no reply within the timeout while waiting for a RCPT reply: the connection is closed');
    expect(errorKindMeaning('body-closed')).toBe('the server closed the connection while the client waited for the end-of-data reply');
    expect(errorKindMeaning('mail-421')).toContain('answered MAIL with 421');
    expect(errorKindMeaning('ready-421')).toContain('while the session was idle');
    expect(FALLBACK).toContain('"What is measured", "Other error kinds"');
  });
});
