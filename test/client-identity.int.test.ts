/**
 * Client identity per connection: source addresses in turn, the PROXY protocol (v1, v2) and
 * Postfix XCLIENT announcing client addresses, and a HELO name per connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveProfile } from '../src/profile/index.js';
import { startReferenceServer } from '../src/server/server.js';
import { mini, newLog } from './helpers/mini-smtp.js';
import { runSession } from './helpers/run-session.js';
import { scriptedServer, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const identity = (o: Partial<{ sourceIps: string[]; clientAddresses: string[]; proxy: 'off' | 'v1' | 'v2'; xclient: boolean }>) => ({
  sourceIps: [],
  clientAddresses: [],
  proxy: 'off' as const,
  xclient: false,
  ...o,
});

describe('client identity', () => {
  it('connects from the source addresses in turn', async () => {
    const log = newLog();
    server = await scriptedServer(mini({}, log));
    const rec = await runSession({ port: server.port, messages: 3, cfg: { messagesPerConnection: 1, identity: identity({ sourceIps: ['127.0.0.2', '127.0.0.3'] }) } });
    expect(rec.counters.messagesAccepted).toBe(3);
    // Connection numbers are per worker, so which address comes first depends on earlier tests.
    expect(new Set(log.peers)).toEqual(new Set(['127.0.0.2', '127.0.0.3']));
  });

  it.each(['v1', 'v2'] as const)('PROXY %s announces the client address before the greeting', async (proxy) => {
    const log = newLog();
    server = await scriptedServer(mini({ proxy: true }, log));
    const rec = await runSession({ port: server.port, messages: 2, cfg: { messagesPerConnection: 1, identity: identity({ proxy, clientAddresses: ['192.0.2.7'] }) } });
    expect(log.proxied).toEqual([`${proxy} 192.0.2.7`, `${proxy} 192.0.2.7`]);
    expect(rec.counters.messagesAccepted).toBe(2);
  });

  it.each(['v1', 'v2'] as const)('PROXY %s to a server without the PROXY protocol: proxy-refused, counted, no reply pairing shifted', async (proxy) => {
    // The reference server with its defaults reads the header as command lines and answers 500.
    const ref = await startReferenceServer(resolveProfile({}).server, '127.0.0.1', 0);
    try {
      const rec = await runSession({ port: ref.port, messages: 2, cfg: { identity: identity({ proxy }) } });
      // Every connection (three before giving up) names the cause; nothing was sent after the check.
      expect(rec.errors).toEqual({ 'proxy-refused': 3 });
      expect(rec.replies['proxy-check']).toEqual({ 500: 3 });
      expect(rec.replies.ehlo).toBeUndefined();
      expect(rec.counters.messagesAccepted).toBe(0);
      expect(ref.metrics.counters.messages).toBe(0);
    } finally {
      await ref.close();
    }
  });

  it('PROXY to a server that takes it: one NOOP check per session, then EHLO refusals are what they are (HELO fallback)', async () => {
    const ref = await startReferenceServer(resolveProfile({ server: { proxyProtocol: 'v1', faults: ['ehlo: 502 5.5.1 no EHLO here'] } }).server, '127.0.0.1', 0);
    try {
      const rec = await runSession({ port: ref.port, messages: 3, cfg: { messagesPerConnection: 1, identity: identity({ proxy: 'v1' }) } });
      expect(rec.errors).toEqual({});
      expect(rec.counters.messagesAccepted).toBe(3);
      // Three connections, one check: the session remembers that the target takes the header.
      expect(rec.replies['proxy-check']).toEqual({ 250: 1 });
      expect(rec.replies.ehlo).toEqual({ 502: 3 });
      expect(rec.replies.helo).toEqual({ 250: 3 });
    } finally {
      await ref.close();
    }
  });

  it('PROXY to a server without it that refuses the greeting: counted once, no reply taken for a QUIT', async () => {
    const ref = await startReferenceServer(resolveProfile({ server: { faults: ['connect: 554 5.7.1 go away'] } }).server, '127.0.0.1', 0);
    try {
      const rec = await runSession({ port: ref.port, messages: 2, cfg: { identity: identity({ proxy: 'v1' }) } });
      expect(rec.errors).toEqual({ 'greeting-refused': 3 });
      expect(rec.replies.quit).toBeUndefined();
      expect(rec.replies.unsolicited).toBeUndefined();
    } finally {
      await ref.close();
    }
  });

  it('XCLIENT announces the client address and HELO name; EHLO follows the new greeting; HELO {n} per connection', async () => {
    const log = newLog();
    server = await scriptedServer(mini({ keywords: ['PIPELINING', 'XCLIENT ADDR HELO NAME'] }, log));
    const rec = await runSession({
      port: server.port,
      messages: 2,
      spec: { helo: 'client{n}.example.test' },
      cfg: { messagesPerConnection: 1, identity: identity({ xclient: true, clientAddresses: ['192.0.2.9'] }) },
    });
    const xclients = log.commands.filter((c) => c.startsWith('XCLIENT'));
    expect(xclients).toHaveLength(2);
    expect(xclients[0]).toMatch(/^XCLIENT ADDR=192\.0\.2\.9 HELO=client\d+\.example\.test$/);
    const ehlos = log.commands.filter((c) => c.startsWith('EHLO'));
    expect(ehlos).toHaveLength(4);
    expect(ehlos[0]).toBe(ehlos[1]);
    expect(ehlos[0]).not.toBe(ehlos[2]);
    expect(rec.replies.xclient).toEqual({ 220: 2 });
    expect(rec.counters.messagesAccepted).toBe(2);
  });

  it('XCLIENT not offered: xclient-unavailable, nothing sent', async () => {
    const log = newLog();
    server = await scriptedServer(mini({}, log));
    const rec = await runSession({ port: server.port, messages: 1, cfg: { identity: identity({ xclient: true, clientAddresses: ['192.0.2.9'] }) } });
    expect(rec.errors).toEqual({ 'xclient-unavailable': 3 });
    expect(log.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
  });
});
