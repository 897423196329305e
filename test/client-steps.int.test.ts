/**
 * Scenario steps mixed into a session (VRFY, EXPN, HELP, NOOP, RSET, SEND, SOML, SAML, TURN,
 * ATRN): each is a unit of work with its own phase histogram and reply counts, against a
 * scripted server on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildStepLines, STEP_COMMANDS, type StepCommand } from '../src/client/steps.js';
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

/** A scenario that plays `seq` (message or step names) in order, then messages. */
function playing(seq: ('message' | StepCommand)[]) {
  let i = 0;
  return {
    pick: () => {
      const k = seq[i++] ?? 'message';
      return k === 'message' ? -1 : STEP_COMMANDS.indexOf(k);
    },
    lines: buildStepLines('sender@example.test', 'r{n}@example.test'),
  };
}

const legacy = (l: string, c: { write(t: string): void }): boolean => {
  const verb = l.split(' ')[0];
  const replies: Record<string, string> = {
    VRFY: '252 2.5.2 cannot verify',
    EXPN: '502 5.5.1 no',
    HELP: '214 2.0.0 help',
    TURN: '502 5.5.1 no',
    ATRN: '502 5.5.1 no',
    SEND: '502 5.5.1 no',
    SOML: '502 5.5.1 no',
    SAML: '502 5.5.1 no',
  };
  if (!(verb in replies)) return false;
  c.write(`${replies[verb]}\r\n`);
  return true;
};

describe('scenario steps', () => {
  it('sends every seed command as its own unit of work, each timed and counted in its own phase', async () => {
    const log = newLog();
    server = await scriptedServer(mini({ hook: legacy }, log));
    const seq: ('message' | StepCommand)[] = ['VRFY', 'message', 'EXPN', 'HELP', 'NOOP', 'RSET', 'SEND', 'SOML', 'SAML', 'TURN', 'ATRN', 'message'];
    const rec = await runSession({ port: server.port, messages: seq.length, spec: { recipients: 2 }, cfg: { scenario: playing(seq), messagesPerConnection: 100 } });
    expect(log.commands.filter((c) => !/^(EHLO|MAIL|RCPT|DATA|QUIT)/.test(c))).toEqual([
      'VRFY <r1@example.test>',
      'EXPN <r2@example.test>',
      'HELP',
      'NOOP',
      'RSET',
      'SEND FROM:<sender@example.test>',
      'SOML FROM:<sender@example.test>',
      'SAML FROM:<sender@example.test>',
      'TURN',
      'ATRN example.test',
    ]);
    expect(rec.counters).toMatchObject({ steps: 10, messagesAttempted: 2, messagesAccepted: 2 });
    expect(rec.replies).toMatchObject({
      vrfy: { 252: 1 },
      expn: { 502: 1 },
      help: { 214: 1 },
      noop: { 250: 1 },
      rset: { 250: 1 },
      send: { 502: 1 },
      soml: { 502: 1 },
      saml: { 502: 1 },
      turn: { 502: 1 },
      atrn: { 502: 1 },
    });
    for (const phase of ['vrfy', 'expn', 'help', 'noop', 'rset', 'send', 'soml', 'saml', 'turn', 'atrn'] as const) {
      expect(rec.count(phase), phase).toBe(1);
    }
    expect(rec.errors).toEqual({});
  });

  it('a directory-harvest probe: VRFY walks the recipient list', async () => {
    const log = newLog();
    server = await scriptedServer(mini({ hook: legacy }, log));
    const rec = await runSession({ port: server.port, messages: 4, spec: { recipients: 3 }, cfg: { scenario: playing(['VRFY', 'VRFY', 'VRFY', 'VRFY']) } });
    expect(log.commands.filter((c) => c.startsWith('VRFY'))).toEqual(['VRFY <r1@example.test>', 'VRFY <r2@example.test>', 'VRFY <r3@example.test>', 'VRFY <r1@example.test>']);
    expect(rec.counters).toMatchObject({ steps: 4, messagesAttempted: 0 });
  });

  it('an accepted SEND opened a transaction: the next message starts with RSET', async () => {
    const log = newLog();
    server = await scriptedServer(mini({}, log));
    const rec = await runSession({ port: server.port, messages: 2, cfg: { scenario: playing(['SEND', 'message']) } });
    expect(log.commands.slice(1, 4)).toEqual(['SEND FROM:<sender@example.test>', 'RSET', 'MAIL FROM:<sender@example.test>']);
    expect(rec.counters.messagesAccepted).toBe(1);
  });

  it('back-to-back accepted SEND/SOML/SAML steps each start with RSET (reference server, legacySend: mail)', async () => {
    const ref = await startReferenceServer(resolveProfile({ server: { legacySend: 'mail' } }).server, '127.0.0.1', 0);
    try {
      const rec = await runSession({ port: ref.port, messages: 5, cfg: { scenario: playing(['SEND', 'SOML', 'SAML', 'SEND', 'message']) } });
      expect(rec.replies.send).toEqual({ 250: 2 });
      expect(rec.replies.soml).toEqual({ 250: 1 });
      expect(rec.replies.saml).toEqual({ 250: 1 });
      expect(rec.replies.rset).toEqual({ 250: 4 });
      expect(rec.counters.messagesAccepted).toBe(1);
      expect(rec.errors).toEqual({});
    } finally {
      await ref.close();
    }
  });

  it('an accepted TURN (roles would swap) closes the connection, counted, and the run goes on', async () => {
    const log = newLog();
    server = await scriptedServer(mini({}, log));
    const rec = await runSession({ port: server.port, messages: 2, cfg: { scenario: playing(['TURN', 'message']) } });
    expect(rec.errors).toEqual({ 'turn-accepted': 1 });
    expect(log.connections).toBe(2);
    expect(rec.counters).toMatchObject({ steps: 1, messagesAccepted: 1 });
  });
});
