/**
 * Fault injection of the reference server over real sockets: overrides, delays that keep replies
 * in order, greeting delay, 421/554 on connect, disconnects, stalls and the tarpit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveProfile } from '../src/profile/index.js';
import { startReferenceServer, type ReferenceServer } from '../src/server/server.js';
import { greetedClient, rawClient } from './helpers/raw-client.js';

const servers: ReferenceServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A server with `faults` (SPEC strings or mappings), resolved through the one resolver. */
async function serverWith(...faults: unknown[]): Promise<ReferenceServer> {
  const settings = resolveProfile({ server: { faults } }).server;
  const s = await startReferenceServer(settings, '127.0.0.1', 0);
  servers.push(s);
  return s;
}

const TXN = 'MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n';

describe('reply delays keep replies in order', () => {
  it('delays the end-of-data reply and holds every later reply behind it', async () => {
    const s = await serverWith('data-end: delay 80ms');
    const c = await greetedClient(s.port);
    c.write(`EHLO x\r\n${TXN}${TXN}QUIT\r\n`);
    const t0 = performance.now();
    const r = await c.replyCount(11);
    await c.closedByServer();
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221]);
    // The two end-of-data replies (indices 5 and 9) each waited ~80 ms; the second transaction's
    // MAIL reply (6) came after the first delayed reply, never before it.
    expect(r[4].atMs).toBeLessThan(r[5].atMs); // the 354 was not held with it
    expect(r[5].atMs - t0).toBeGreaterThanOrEqual(75);
    expect(r[6].atMs).toBeGreaterThanOrEqual(r[5].atMs);
    expect(r[9].atMs - t0).toBeGreaterThanOrEqual(155);
    for (let i = 1; i < r.length; i++) expect(r[i].atMs).toBeGreaterThanOrEqual(r[i - 1].atMs);
    expect(s.metrics.counters).toMatchObject({ messages: 2, delayedReplies: 2 });
  });

  it('delays the greeting; commands sent before it are answered after it, in order', async () => {
    const s = await serverWith({ command: 'connect', delay: '120ms' });
    const c = await rawClient(s.port);
    c.write('EHLO x\r\nNOOP\r\n');
    const r = await c.replyCount(3);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250]);
    expect(r[0].atMs - c.openedMs).toBeGreaterThanOrEqual(115);
  });

  it('draws uniform delays per reply (5 pipelined NOOPs at 20..40 ms each take 100..200+ ms)', async () => {
    const s = await serverWith('noop: delay uniform 20ms 40ms');
    const c = await greetedClient(s.port);
    const t0 = performance.now();
    c.write('NOOP\r\n'.repeat(5));
    const r = await c.replyCount(6);
    const total = r[5].atMs - t0;
    expect(total).toBeGreaterThanOrEqual(95);
    expect(total).toBeLessThan(1500);
  });

  it('closes only after a delayed 221 has been written', async () => {
    const s = await serverWith('quit: delay 60ms');
    const c = await greetedClient(s.port);
    const t0 = performance.now();
    c.write('QUIT\r\n');
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 221]);
    expect(c.replies[1].atMs - t0).toBeGreaterThanOrEqual(55);
  });

  it('frees every connection that closes behind a held reply (sequential sessions under maxConnections)', async () => {
    const settings = resolveProfile({ server: { faults: ['quit: delay 5ms'], maxConnections: 2 } }).server;
    const s = await startReferenceServer(settings, '127.0.0.1', 0);
    servers.push(s);
    for (let i = 0; i < 6; i++) {
      const c = await greetedClient(s.port);
      c.write('EHLO x\r\nQUIT\r\n');
      await c.closedByServer();
      expect(
        c.replies.map((x) => x.code),
        `session ${i}`,
      ).toEqual([220, 250, 221]);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(s.metrics.activeConnections).toBe(0);
  });

  it('answers a half-closing client behind a held reply, then closes', async () => {
    const s = await serverWith('mail: delay 100ms');
    const c = await greetedClient(s.port);
    c.write(`EHLO x\r\n${TXN}NOOP\r\n`);
    c.socket.end();
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 250, 250]);
    expect(s.metrics.counters.messages).toBe(1);
  });

  it('holds every reply produced inside a stall window until the window ends', async () => {
    const tStart = performance.now(); // stall times count from server start, which is later
    const s = await serverWith('stall 400ms at 600ms');
    const c = await greetedClient(s.port);
    c.write('NOOP\r\n');
    await c.replyCount(2);
    expect(c.replies[1].atMs - tStart).toBeLessThan(600); // precondition: answered before the window
    await new Promise((r) => setTimeout(r, 700 - (performance.now() - tStart)));
    c.write('NOOP\r\nNOOP\r\n');
    await c.replyCount(4);
    expect(c.replies[2].atMs - tStart).toBeGreaterThanOrEqual(1000);
    expect(c.replies[3].atMs).toBeGreaterThanOrEqual(c.replies[2].atMs);
  });

  it('tarpits a connection from its Nth error reply on', async () => {
    const s = await serverWith('tarpit 300ms after 2 errors');
    const c = await greetedClient(s.port);
    const t0 = performance.now();
    c.write('BOGUS\r\n');
    await c.replyCount(2);
    expect(c.replies[1].atMs - t0).toBeLessThan(250);
    const t1 = performance.now();
    c.write('BOGUS\r\nNOOP\r\n');
    await c.replyCount(4);
    expect(c.replies.map((x) => x.code)).toEqual([220, 500, 500, 250]);
    expect(c.replies[2].atMs - t1).toBeGreaterThanOrEqual(295);
    expect(c.replies[3].atMs - c.replies[2].atMs).toBeGreaterThanOrEqual(290);
  });
});

describe('reply overrides', () => {
  it('refuses every RCPT with the configured reply; DATA then finds no recipient', async () => {
    const s = await serverWith('rcpt: reply 450 4.2.1 Mailbox busy');
    const c = await greetedClient(s.port);
    c.write(`EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nQUIT\r\n`);
    const r = await c.replyCount(6);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 450, 554, 221]);
    expect(r[3].text).toBe('450 4.2.1 Mailbox busy\r\n');
    expect(s.metrics.counters).toMatchObject({ messages: 0, recipients: 0, faults: 1 });
  });

  it('fires at roughly the configured probability', async () => {
    const s = await serverWith('rcpt: 450 4.2.1 busy @ 25%');
    const c = await greetedClient(s.port);
    const n = 800;
    c.write(`EHLO x\r\nMAIL FROM:<a@example.test>\r\n${'RCPT TO:<b@example.test>\r\n'.repeat(n)}`);
    const r = await c.replyCount(n + 3);
    const refused = r.slice(3).filter((x) => x.code === 450).length;
    expect(r.slice(3).every((x) => x.code === 450 || x.code === 250)).toBe(true);
    // Binomial(800, 0.25): mean 200, sd 12.2; 120..280 is over 6 sd either side.
    expect(refused).toBeGreaterThan(120);
    expect(refused).toBeLessThan(280);
  });

  it('rejects the message at end of data and does not count it', async () => {
    const s = await serverWith({ command: 'data-end', reply: '451 4.3.0 Try again' });
    const c = await greetedClient(s.port);
    c.write(`EHLO x\r\n${TXN}MAIL FROM:<a@example.test>\r\nQUIT\r\n`);
    const r = await c.replyCount(8);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 451, 250, 221]);
    expect(s.metrics.counters).toMatchObject({ messages: 0, messagesRejected: 1 });
  });

  it('answers 421 on connect and closes', async () => {
    const s = await serverWith('connect: 421 4.3.2 Too busy');
    const c = await rawClient(s.port);
    await c.closedByServer();
    expect(c.replies.map((x) => x.text)).toEqual(['421 4.3.2 Too busy\r\n']);
  });

  it('never fires at 0 %', async () => {
    const s = await serverWith('connect: 421 4.3.2 Too busy @ 0%');
    const c = await rawClient(s.port);
    expect((await c.replyCount(1))[0].code).toBe(220);
    c.end();
  });

  it('after a 554 greeting serves only QUIT (RFC 5321 §3.1)', async () => {
    const s = await serverWith('connect: reply 554 5.3.2 No service');
    const c = await rawClient(s.port);
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nQUIT\r\n');
    const r = await c.replyCount(4);
    await c.closedByServer();
    expect(r.map((x) => x.code)).toEqual([554, 503, 503, 221]);
  });
});

describe('disconnects', () => {
  it('drops the connection after N octets of DATA, without a reply', async () => {
    const s = await serverWith('data: disconnect after 1KiB');
    const c = await greetedClient(s.port);
    c.write(`EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n`);
    await c.replyCount(5);
    c.write(`${'x'.repeat(78)}\r\n`.repeat(30));
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 250, 250, 250, 354]);
    expect(s.metrics.counters).toMatchObject({ messages: 0, faults: 1 });
  });

  it('drops the connection on a command', async () => {
    const s = await serverWith('mail: disconnect');
    const c = await greetedClient(s.port);
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nNOOP\r\n');
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 250]);
  });
});

describe('delays with STARTTLS and BDAT', () => {
  it('upgrades only after a delayed 220 to STARTTLS has been written', async () => {
    const s = await serverWith('starttls: delay 80ms');
    const c = await greetedClient(s.port);
    c.write('EHLO x\r\n');
    await c.replyCount(2);
    const t0 = performance.now();
    c.write('STARTTLS\r\n');
    const r = await c.replyCount(3);
    expect(r[2].code).toBe(220);
    expect(r[2].atMs - t0).toBeGreaterThanOrEqual(75);
    await c.startTls();
    c.write('EHLO x\r\nQUIT\r\n');
    expect((await c.replyCount(5)).slice(3).map((x) => x.code)).toEqual([250, 221]);
  });

  it('holds a BDAT reply and still reads its chunk before the next command', async () => {
    const s = await serverWith('bdat: delay 50ms');
    const c = await greetedClient(s.port);
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 6\r\nNOOP\r\nBDAT 0 LAST\r\nNOOP\r\n');
    const r = await c.replyCount(7);
    expect(r.map((x) => x.code)).toEqual([220, 250, 250, 250, 250, 250, 250]);
    expect(s.metrics.counters).toMatchObject({ messages: 1, bytes: 6 });
  });
});
