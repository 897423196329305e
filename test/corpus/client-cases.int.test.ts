/**
 * The client cases of the public corpus (CLI-01, CLI-03, CLI-06), played against the project's
 * client: a mock server plays the case's `server` script and a real `ClientSession` talks to it.
 *
 * The cases' `expect` is prose; each test asserts the parts the client makes observable: the
 * bytes it sent (against the case's `client` pattern), how it grouped them into writes, and
 * what its Recorder counted.
 */
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../src/client/session.js';
import { buildWirePlan, type WirePlan } from '../../src/client/message.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { startSweeper } from '../../src/clock.js';
import { QuotaSource } from '../../src/load/closed.js';
import { toDataPayload } from '../../src/protocol/dot-stuff.js';
import { loadCorpus, matchesClientPattern, startScriptServer, type CorpusCase, type ScriptEvent } from './runner.js';

const corpus = loadCorpus();
const byId = (id: string): CorpusCase => {
  const c = corpus.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id} in the corpus`);
  return c;
};

const FROM = 'sender@example.test';

/** A wire plan for the named recipients; with `message`, the DATA payload (and SIZE=) come from it. */
function planFor(rcpts: string[], message?: Buffer): WirePlan {
  return buildWirePlan({ from: FROM, to: rcpts[0], recipients: rcpts.length, recipientList: rcpts, sizeBytes: 200, helo: 'client.example', ...(message && { content: message }) });
}

/** Runs one ClientSession (one message) against the case's mock server; returns what both sides saw. */
async function playClientCase(c: CorpusCase, plan: WirePlan) {
  const srv = await startScriptServer(c.server!);
  const recorder = new Recorder();
  let session!: ClientSession;
  const finished = new Promise<void>((resolve) => {
    const cfg = {
      host: srv.host,
      port: srv.port,
      plan,
      pipelining: 'auto' as const,
      messagesPerConnection: 1,
      timeouts: { connectMs: 2000, greetingMs: 2000, replyMs: 2000, bodyMs: 2000 },
      recorder,
    };
    session = new ClientSession(cfg, new QuotaSource(1, cfg, resolve));
  });
  // Sessions time out only through a worker's sweeper; without one a stuck step would hang.
  const sweeper = startSweeper([session]);
  try {
    session.start();
    await finished;
    const script = await srv.done;
    return { recorder, script, log: srv.log, sent: srv.received() };
  } finally {
    sweeper.stop();
    await srv.close();
  }
}

/** The client's writes as the server received them, each with the server text sent before it. */
function clientChunks(log: ScriptEvent[]): { text: string; serverBefore: string }[] {
  const out: { text: string; serverBefore: string }[] = [];
  let server = '';
  for (const e of log) {
    if (e.from === 'server') server += e.data.toString('utf8');
    else out.push({ text: e.data.toString('utf8'), serverBefore: server });
  }
  return out;
}

/** True when `text` ends with a final reply line `code SP ...CRLF` (not a `code-` continuation). */
const endsWithFinalLine = (text: string, code: string): boolean => new RegExp(`(^|\\n)${code} [^\\n]*\\r\\n$`).test(text);

/**
 * Checks shared by CLI-01 and CLI-03: the whole byte stream, and its grouping into writes:
 * EHLO alone; MAIL+RCPT…+DATA in ONE write, sent only after the final `250 ` line of the
 * (segmented) EHLO reply; the message only after 354; then QUIT.
 */
function expectPipelinedSession(c: CorpusCase, sent: Buffer, log: ScriptEvent[], rcpts: string[], sizeBytes: number): void {
  expect(matchesClientPattern(c.client, sent), `client bytes ${JSON.stringify(sent.toString())} do not match ${JSON.stringify(c.client)}`).toBe(true);
  const chunks = clientChunks(log);
  expect(chunks.map((ch) => ch.text.split('\r\n')[0])).toEqual(['EHLO client.example', expect.stringMatching(/^MAIL FROM:/), expect.any(String), 'QUIT']);
  const [ehlo, envelope, body, quit] = chunks;
  expect(ehlo.text).toBe('EHLO client.example\r\n');
  // PIPELINING and SIZE were recognised across segment boundaries: one write, with SIZE=.
  expect(envelope.text).toBe(`MAIL FROM:<${FROM}> SIZE=${sizeBytes}\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join('')}DATA\r\n`);
  // ...and it went out only after the EHLO reply's final line.
  expect(endsWithFinalLine(envelope.serverBefore, '250'), `envelope sent after ${JSON.stringify(envelope.serverBefore)}`).toBe(true);
  expect(envelope.serverBefore).toContain('PIPE');
  // The message waits for the 354; QUIT for the end-of-data reply.
  expect(endsWithFinalLine(body.serverBefore, '354')).toBe(true);
  expect(body.text.endsWith('\r\n.\r\n')).toBe(true);
  expect(quit.text).toBe('QUIT\r\n');
  expect(endsWithFinalLine(quit.serverBefore, '250')).toBe(true);
}

describe('client cases', () => {
  it('CLI-06 toDataPayload: dot-stuffing, bare-LF normalisation, final CRLF and terminator', () => {
    const c = byId('CLI-06');
    // The expected DATA bytes: everything between `DATA\r\n` and the `QUIT` in the case's client bytes.
    const start = c.client.indexOf('DATA\r\n') + 'DATA\r\n'.length;
    const expected = Buffer.from(c.client.slice(start, c.client.lastIndexOf('QUIT')), 'utf8');
    expect(toDataPayload(Buffer.from(c.message!, 'utf8')).toString('utf8')).toBe(expected.toString('utf8'));
    expect(toDataPayload(Buffer.from(c.message!, 'utf8')).equals(expected)).toBe(true);
  });

  it('CLI-06 end to end: the session sends the stuffed message exactly as the case expects', async () => {
    const c = byId('CLI-06');
    const message = Buffer.from(c.message!, 'utf8');
    const { recorder, script, sent } = await playClientCase(c, planFor(['rcpt@example.test'], message));
    expect(script).toEqual({ complete: true });
    expect(matchesClientPattern(c.client, sent), JSON.stringify(sent.toString())).toBe(true);
    expect(recorder.counters.messagesAccepted).toBe(1);
  });

  it('CLI-01 multi-line EHLO reply cut across segments: waits for the final line, sees PIPELINING and SIZE', async () => {
    const c = byId('CLI-01');
    const plan = planFor(['rcpt@example.test']);
    const { recorder, script, log, sent } = await playClientCase(c, plan);
    expect(script).toEqual({ complete: true });
    expectPipelinedSession(c, sent, log, ['rcpt@example.test'], plan.sizeBytes);
    expect(recorder.errors).toEqual({});
    expect(recorder.replies).toMatchObject({ greeting: { 220: 1 }, ehlo: { 250: 1 }, mail: { 250: 1 }, rcpt: { 250: 1 }, data: { 354: 1 }, body: { 250: 1 }, quit: { 221: 1 } });
    expect(recorder.counters).toMatchObject({ connections: 1, messagesAttempted: 1, messagesAccepted: 1, recipientsAccepted: 1, recipientsRejected: 0 });
  });

  it('CLI-03 mixed statuses in one pipelined group: 550 counted for one recipient, 250 for the other, no retry', async () => {
    const c = byId('CLI-03');
    const rcpts = ['a@example.test', 'b@example.test'];
    const plan = planFor(rcpts);
    const { recorder, script, log, sent } = await playClientCase(c, plan);
    expect(script).toEqual({ complete: true });
    // The byte pattern admits exactly one RCPT per recipient: `a` is not retried.
    expectPipelinedSession(c, sent, log, rcpts, plan.sizeBytes);
    expect(recorder.errors).toEqual({});
    expect(recorder.replies.rcpt).toEqual({ 250: 1, 550: 1 });
    expect(recorder.replies.body).toEqual({ 250: 1 });
    expect(recorder.counters).toMatchObject({
      connections: 1,
      messagesAttempted: 1,
      messagesAccepted: 1,
      messagesRejected: 0,
      messagesFailed: 0,
      recipientsAttempted: 2,
      recipientsAccepted: 1,
      recipientsRejected: 1,
    });
  });
});
