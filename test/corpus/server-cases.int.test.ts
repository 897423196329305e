/**
 * Every server case of the public corpus against the in-process reference server.
 *
 * Cases that fail only because the reference server does not implement a feature yet are listed
 * in PENDING with the reason and registered with `it.skip`, so they show up as skipped (never as
 * passed). Every other case must pass. When a feature lands, delete its ids from PENDING.
 *
 * `messages` is checked through the server's own counter, and `stored` against the content the
 * server captured (profiles/serve-corpus.yaml sets `capture`) from the case's session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfileFile, resolveProfile } from '../../src/profile/index.js';
import { startReferenceServer, type ReferenceServer } from '../../src/server/server.js';
import { isServerCase, loadCorpus, messagesMatch, runServerCase } from './runner.js';

/** Server cases that cannot pass until a not-yet-implemented feature lands (a later issue). */
const PENDING: Record<string, string> = {};

/** `slow` cases need more than 20 s or a non-base profile: run them only on request. */
const RUN_SLOW = process.env.SMTPBENCH_SLOW_CASES === '1';

const cases = loadCorpus().filter(isServerCase);

describe('server cases against the reference server', () => {
  let server: ReferenceServer;
  beforeAll(async () => {
    // One server for all cases: each case is its own connection, and the file runs its tests in order.
    const path = new URL('../../profiles/serve-corpus.yaml', import.meta.url).pathname;
    server = await startReferenceServer(resolveProfile(loadProfileFile(path), undefined, path).server, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('PENDING names only existing server cases', () => {
    const ids = new Set(cases.map((c) => c.id));
    expect(Object.keys(PENDING).filter((id) => !ids.has(id))).toEqual([]);
  });

  for (const c of cases) {
    const name = `${c.id} ${c.title}`;
    if (PENDING[c.id] !== undefined) {
      it.skip(`${name} [PENDING: ${PENDING[c.id]}]`, () => {});
      continue;
    }
    if (c.slow && !RUN_SLOW) {
      it.skip(`${name} [slow: set SMTPBENCH_SLOW_CASES=1]`, () => {});
      continue;
    }
    it(name, { timeout: (c.timeout_s ?? 5) * 1000 + 10_000 }, async () => {
      const before = server.metrics.counters.messages;
      const r = await runServerCase(c, server.host, server.port);
      expect(r.unsupported ?? false, r.reason).toBe(false);
      expect(r.pass, `${c.id}: ${r.reason}`).toBe(true);
      if (c.stored !== undefined) {
        const newest = server.messages()[0];
        expect(newest, `${c.id}: no message captured`).toBeDefined();
        expect(server.metrics.counters.messages - before, `${c.id}: no message accepted`).toBeGreaterThan(0);
        expect(newest.content.toString('utf8')).toBe(c.stored);
      }
      if (c.messages !== undefined) {
        const accepted = server.metrics.counters.messages - before;
        expect(messagesMatch(c.messages, accepted), `${c.id}: server accepted ${accepted} messages, case wants ${c.messages}`).toBe(true);
      }
    });
  }
});
