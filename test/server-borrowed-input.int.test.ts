/**
 * The reference server reads every plain connection into one shared buffer (src/server/read-into.ts),
 * so each input chunk is overwritten by the next read on any connection. These tests interleave a
 * second connection's input between the pieces of a first one's, and check that nothing the
 * server keeps across reads (a partial command line, input stashed behind a held reply, the
 * delivery probe's carry, captured content) still pointed into that buffer.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { addEncoded, newHistogram } from '../src/metrics/histogram.js';
import { resolveProfile, type ProfileInput } from '../src/profile/index.js';
import { startReferenceServer, type ReferenceServer } from '../src/server/server.js';
import { greetedClient, type RawClient } from './helpers/raw-client.js';

const servers: ReferenceServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serverWith(server: ProfileInput['server']): Promise<ReferenceServer> {
  const s = await startReferenceServer(resolveProfile({ server }).server, '127.0.0.1', 0);
  servers.push(s);
  return s;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fills the server's read buffer with other octets: a 60 KiB junk line on `other`, answered with one 500. */
async function overwrite(other: RawClient): Promise<void> {
  const before = other.replies.length;
  other.write(`${'Z'.repeat(60_000)}\r\n`);
  const r = await other.replyCount(before + 1);
  expect(r[before].code).toBe(500);
}

describe('borrowed input chunks', () => {
  it('keeps a partial command line and the delivery header across another connection’s reads', async () => {
    const s = await serverWith({ capture: 10 });
    const a = await greetedClient(s.port);
    const b = await greetedClient(s.port);
    a.write('EHLO a.example\r\nMAIL FROM:<sender@exam');
    await a.replyCount(2);
    await pause(30);
    await overwrite(b);
    a.write('ple.test>\r\nRCPT TO:<rcpt@example.test>\r\nDATA\r\n');
    await a.replyCount(5);
    // The send-time header, cut inside its value; a full carry (the name and 40 octets) precedes the cut.
    const sentUs = String(Math.round((performance.timeOrigin + performance.now()) * 1000) - 5_000_000);
    const head = `Subject: borrowed\r\nX-Smtpbench-Sent:${' '.repeat(30)}${sentUs.slice(0, 6)}`;
    const tail = `${sentUs.slice(6)}\r\n\r\nline one\r\n..dot line\r\n`;
    a.write(head);
    await pause(30);
    await overwrite(b);
    a.write(`${tail}.\r\n`);
    const r = await a.replyCount(6);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 250]);
    expect(s.messages()[0].content.toString('latin1')).toBe(`${head}${sentUs.slice(6)}\r\n\r\nline one\r\n.dot line\r\n`);
    const delivery = newHistogram();
    addEncoded(delivery, s.metrics.snapshot().histograms.delivery);
    expect(delivery.totalCount).toBe(1);
    // The value read back is the one sent: about 5 s ago, not digits from the other connection.
    expect(delivery.maxValue / 1e6).toBeGreaterThan(4.9);
    expect(delivery.maxValue / 1e6).toBeLessThan(60);
  });

  it('keeps input stashed behind a held reply while another connection is read', async () => {
    const s = await serverWith({ capture: 10, faults: ['mail: delay 150ms'] });
    const a = await greetedClient(s.port);
    const b = await greetedClient(s.port);
    a.write('EHLO a.example\r\n');
    await a.replyCount(2);
    // One segment: MAIL is held, and everything after it waits in the stash.
    a.write('MAIL FROM:<s@example.test>\r\nRCPT TO:<r@example.test>\r\nDATA\r\nSubject: stashed\r\n\r\nbody\r\n.\r\nNOOP\r\n');
    await pause(30);
    await overwrite(b);
    await overwrite(b);
    const r = await a.replyCount(7);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 250, 250]);
    expect(s.messages()[0].content.toString('latin1')).toBe('Subject: stashed\r\n\r\nbody\r\n');
  });

  it('captures a message whose octets came in many reads interleaved with another connection', async () => {
    const s = await serverWith({ capture: 10 });
    const a = await greetedClient(s.port);
    const b = await greetedClient(s.port);
    a.write('EHLO a.example\r\nMAIL FROM:<s@example.test>\r\nRCPT TO:<r@example.test>\r\nDATA\r\n');
    await a.replyCount(5);
    const lines = Array.from({ length: 4 }, (_, i) => `line ${i} ${String(i).repeat(70)}\r\n`);
    for (const line of lines) {
      a.write(line);
      await pause(20);
      await overwrite(b);
    }
    a.write('.\r\n');
    await a.replyCount(6);
    expect(s.messages()[0].content.toString('latin1')).toBe(lines.join(''));
  });
});
