/** `--clock-ref`: the NTP-style offset against an HTTP server, and what is refused as no reading. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { measureClockOffset } from '../src/load/clock-offset.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A loopback HTTP server answering every request with `answer`; resolves with its URL. */
function server(answer: (res: ServerResponse) => void): Promise<URL> {
  const s = createServer((_req, res) => answer(res));
  servers.push(s);
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(new URL(`http://127.0.0.1:${(s.address() as { port: number }).port}/stats`))));
}

describe('measureClockOffset', () => {
  it('reads a wallClockMs field to within the round trip, and a clock 5 s ahead as +5 s', async () => {
    const same = await measureClockOffset(await server((res) => res.end(JSON.stringify({ wallClockMs: performance.timeOrigin + performance.now() }))));
    expect(Math.abs(same.offsetMs)).toBeLessThanOrEqual(same.errorMs + 0.5);
    expect(same.source).toMatch(/\/stats \(wallClockMs\)$/);
    const ahead = await measureClockOffset(await server((res) => res.end(JSON.stringify({ wallClockMs: performance.timeOrigin + performance.now() + 5000 }))));
    expect(Math.abs(ahead.offsetMs - 5000)).toBeLessThanOrEqual(ahead.errorMs + 0.5);
  });

  it('falls back to the Date header, within ± 500 ms more', async () => {
    const r = await measureClockOffset(await server((res) => res.end('not json')));
    expect(r.source).toMatch(/\(Date header\)$/);
    expect(r.errorMs).toBeGreaterThanOrEqual(500);
    expect(Math.abs(r.offsetMs)).toBeLessThanOrEqual(r.errorMs);
  });

  it('refuses a non-2xx answer, an implausible clock and an offset over an hour, in one line', async () => {
    const notFound = await server((res) => res.writeHead(404).end('no'));
    await expect(measureClockOffset(notFound)).rejects.toThrow(/^--clock-ref http:\/\/127\.0\.0\.1:\d+\/stats: HTTP 404$/);
    const zero = await server((res) => res.writeHead(200, { date: 'Thu, 01 Jan 1970 00:00:00 GMT' }).end(JSON.stringify({ wallClockMs: 0 })));
    await expect(measureClockOffset(zero)).rejects.toThrow(/without a usable wallClockMs field or Date header$/);
    // A broken wallClockMs is no reading: the server's own Date header is used instead.
    const huge = await server((res) => res.end(JSON.stringify({ wallClockMs: 1e308 })));
    expect((await measureClockOffset(huge)).source).toMatch(/\(Date header\)$/);
    const far = await server((res) => res.end(JSON.stringify({ wallClockMs: Date.now() + 2 * 3_600_000 })));
    await expect(measureClockOffset(far)).rejects.toThrow(/the reference clock is 7200\.\d s from this one \(more than 1 h\)/);
  });

  it('gives up within its time bound on a server that never answers', async () => {
    const t0 = performance.now();
    await expect(measureClockOffset(await server(() => {}), 500)).rejects.toThrow(/^--clock-ref /);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
