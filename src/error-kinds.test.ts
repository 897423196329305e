import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closedKind, COMMAND_STEPS, ERROR_KINDS, isErrorKind, reply421Kind, SESSION_STEPS, timeoutKind, type ErrorKind } from './error-kinds.js';

const DOC = readFileSync(new URL('../docs/error-kinds.md', import.meta.url), 'utf8');
const STEPS = [...SESSION_STEPS, ...COMMAND_STEPS];

describe('error kind registry', () => {
  it('is listed in docs/error-kinds.md exactly: every kind, no other, in the same words and order', () => {
    // The doc's table rows: | `kind` | meaning |
    const documented = [...DOC.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(documented).toEqual([...ERROR_KINDS]);
  });

  it('holds what every builder returns, over each family’s steps', () => {
    const built: ErrorKind[] = [];
    for (const s of STEPS) {
      if (s !== 'waiting') built.push(timeoutKind(s));
      if (s !== 'closing' && s !== 'proxy-check') built.push(closedKind(s));
    }
    for (const s of [...COMMAND_STEPS, 'ready', 'waiting', 'closing', 'tls'] as const) built.push(reply421Kind(s));
    for (const kind of built) expect(isErrorKind(kind), kind).toBe(true);
    // And nothing else of those families: the rest are the fixed kinds.
    const families = [...ERROR_KINDS.keys()].filter((k) => /-(timeout|closed|421)$/.test(k));
    expect(families.sort()).toEqual([...new Set(built)].sort());
  });

  it('names each step once', () => {
    expect(new Set(STEPS).size).toBe(STEPS.length);
  });

  it('gives each kind one sentence of its own', () => {
    for (const [kind, meaning] of ERROR_KINDS) {
      expect(kind).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(meaning, kind).toMatch(/^[A-Za-z].{10,}[^.]$/);
    }
    expect(new Set(ERROR_KINDS.values()).size).toBe(ERROR_KINDS.size);
    expect(isErrorKind('reply-timeout')).toBe(false);
    expect(isErrorKind('waiting-timeout')).toBe(false);
  });
});
