/**
 * `server.bandwidth` over a real socket: a 1 MiB message at 100 KiB/s takes about 10 s from its
 * first octet to the final reply (slow: about 10 s of wall clock, bounded at 20 s).
 */
import { afterEach, expect, it } from 'vitest';
import { resolveProfile } from '../src/profile/index.js';
import { startReferenceServer, type ReferenceServer } from '../src/server/server.js';
import { ehloClient } from './helpers/raw-client.js';

const servers: ReferenceServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

it('throttles a 1 MiB message to 100 KiB/s: 9 to 12 s from DATA to the final reply', { timeout: 20_000 }, async () => {
  const s = await startReferenceServer(resolveProfile({ server: { tls: { starttls: false }, bandwidth: '100KiB' } }).server, '127.0.0.1', 0);
  servers.push(s);
  const c = await ehloClient(s.port);
  c.write('MAIL FROM:<s@example.test>\r\nRCPT TO:<r@example.test>\r\nDATA\r\n');
  await c.replyCount(3);
  // 1 MiB of 512-octet lines (510 octets and CRLF), then the terminator.
  const line = `${'x'.repeat(510)}\r\n`;
  const body = Buffer.from(line.repeat(2048));
  const t0 = performance.now();
  c.write(body);
  c.write('.\r\n');
  const r = await c.replyCount(4, 19_000);
  const s1 = (performance.now() - t0) / 1000;
  expect(r[3].code).toBe(250);
  expect(s1).toBeGreaterThanOrEqual(9);
  expect(s1).toBeLessThanOrEqual(12);
  expect(s.metrics.counters.bytes).toBe(body.length);
  c.end();
});
