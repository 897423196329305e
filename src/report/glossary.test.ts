import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PHASES } from '../metrics/phases.js';
import { SERVER_HISTOGRAMS } from '../metrics/server-histograms.js';
import { ERROR_KINDS } from '../error-kinds.js';
import { errorKindMeaning, phaseMeaning } from './glossary.js';

/** The phase table lives in docs/results.md, "What is measured" (the error kinds: src/error-kinds.ts, docs/error-kinds.md). */
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
  it('are the registry’s, for every kind it holds', () => {
    for (const [kind, meaning] of ERROR_KINDS) expect(errorKindMeaning(kind)).toBe(meaning);
  });

  it('reads the step families: a timeout, a close, a 421 per phase', () => {
    expect(errorKindMeaning('rcpt-timeout')).toBe('no reply within the timeout while waiting for a RCPT reply: the connection is closed');
    expect(errorKindMeaning('body-closed')).toBe('the server closed the connection while the client waited for the end-of-data reply');
    expect(errorKindMeaning('mail-421')).toContain('answered MAIL with 421');
    expect(errorKindMeaning('ready-421')).toContain('while the session was idle');
  });

  it('names a kind this version does not count as such', () => {
    expect(FALLBACK).toContain('does not count');
    expect(FALLBACK).toContain('docs/error-kinds.md');
  });
});
