/**
 * The pipeline without a socket (go-smtp's client_test.go `faker` style): each case runs a few
 * messages against a whole server transcript, fed to a reply parser split at every offset, and
 * checks the octets the client wrote (commands and message content, in order) and the outcomes it
 * recorded, which must be the same however the replies arrive. A small driver stands in for the
 * session: it starts the next transaction whenever the pipeline is idle, and hands the pipeline its
 * look-ahead (the next message) behind a body.
 */
import { describe, expect, it } from 'vitest';
import type { ErrorKind } from '../error-kinds.js';
import { Recorder } from '../metrics/recorder.js';
import { NO_CAPABILITIES, type Capabilities } from '../protocol/capabilities.js';
import { ReplyParser } from '../protocol/reply-parser.js';
import { splits } from '../protocol/splits.testkit.js';
import type { SessionConfig } from './config.js';
import { buildWirePlan, messageShape } from './message.js';
import { Pipeline } from './pipeline.js';
import { admitMessage, type Txn } from './transaction.js';
import type { Wire } from './transport.js';

const CONTENT = 'Subject: t\r\n\r\nhello\r\n';

/** A wire that keeps what is written; writes complete at once; `blockAfterBody` blocks it after each message's terminator until `drain()`. */
class MemoryWire implements Wire {
  blocked = false;
  blockAfterBody = false;
  readonly pending = 0;
  readonly unsent = 0;
  /** Corked batches (one per uncork): what a pipelining server receives at once. */
  batches = 0;
  private readonly chunks: Buffer[] = [];

  write(buf: Buffer): void {
    this.chunks.push(Buffer.from(buf));
  }

  writeThen(buf: Buffer, done: () => void): void {
    this.write(buf);
    if (this.blockAfterBody && buf.toString('latin1').endsWith('.\r\n')) this.blocked = true;
    done();
  }

  cork(): void {}

  uncork(): void {
    this.batches++;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

interface Case {
  /** Messages to send, each to `recipients` recipients. */
  readonly messages: number;
  readonly recipients: number;
  readonly pipelining?: boolean;
  readonly bdat?: boolean;
  readonly chunkBytes?: number;
  readonly maxRecipientsPerTransaction?: number;
  /** The wire blocks after every message body; the driver drains it after each reply. */
  readonly blockAfterBody?: boolean;
}

interface Outcome {
  readonly written: string;
  readonly failure: ErrorKind | null;
  readonly counters: Partial<Recorder['counters']>;
  readonly replies: Recorder['replies'];
}

/** One run of case `c` with the server's replies arriving as `chunks`. */
function drive(c: Case, chunks: readonly Buffer[]): Outcome {
  const recorder = new Recorder();
  const cfg: SessionConfig = {
    host: 'mx.example.test',
    port: 25,
    plan: buildWirePlan({ from: 's@example.test', to: 'r{n}@example.test', recipients: c.recipients, sizeBytes: 0, helo: 'client.example', content: Buffer.from(CONTENT) }),
    pipelining: 'auto',
    messagesPerConnection: c.messages,
    timeouts: { connectMs: 1000, greetingMs: 1000, replyMs: 1000, bodyMs: 1000 },
    recorder,
    chunkBytes: c.chunkBytes,
    maxRecipientsPerTransaction: c.maxRecipientsPerTransaction,
  };
  const caps: Capabilities = { ...NO_CAPABILITIES, pipelining: c.pipelining ?? true, chunking: c.bdat ?? false };
  let left = c.messages;
  /** The session's `takeNext`: the rest of the current message, else the next message. */
  const next = (): Txn | null => {
    const cont = pipeline.continuation();
    if (cont !== null || left === 0) return cont;
    left--;
    const msg = admitMessage(cfg, caps, c.recipients, messageShape(cfg.plan, 0), 0);
    return msg === null ? null : pipeline.startMessage(msg);
  };
  const wire = new MemoryWire();
  wire.blockAfterBody = c.blockAfterBody ?? false;
  /** Group starts written while the wire was blocked (there must be none). */
  let early = 0;
  const pipeline = new Pipeline(cfg, wire, { deadlineMs: 0, lookahead: next });
  pipeline.configure(caps, c.bdat ?? false, c.pipelining ?? true);
  let failure: ErrorKind | null = null;
  const begin = (): void => {
    // As the session does: a blocked wire defers the next transaction until 'drain'.
    if (wire.blocked) return pipeline.deferNext();
    const t = next();
    if (t !== null) pipeline.write(t);
  };
  const write = wire.write.bind(wire);
  wire.write = (buf: Buffer): void => {
    if (wire.blocked && buf.toString('latin1').startsWith('MAIL')) early++;
    write(buf);
  };
  const parser = new ReplyParser(
    (code) => {
      const kind = pipeline.onReply(code, parser.enhanced, 0);
      if (kind !== null) {
        // As the session does: the connection is dropped, and what was in flight has failed.
        failure = kind;
        parser.halt();
        pipeline.abandon();
      } else if (pipeline.idle) begin();
      // The socket drains a little after each reply: what waited for it is written then.
      if (wire.blocked && failure === null) {
        wire.blocked = false;
        if (pipeline.onDrain()) begin();
      }
    },
    () => (failure = 'bad-reply'),
  );
  begin();
  for (const chunk of chunks) parser.feed(chunk);
  const { messagesAccepted, messagesRejected, messagesFailed, recipientsAccepted, recipientsRejected, recipientsFailed, recipientsDeferred, transactions } = recorder.counters;
  expect(early).toBe(0);
  return {
    written: wire.text(),
    failure,
    counters: { messagesAccepted, messagesRejected, messagesFailed, recipientsAccepted, recipientsRejected, recipientsFailed, recipientsDeferred, transactions },
    replies: recorder.replies,
  };
}

/** The run over the whole transcript in one read, after checking that every split of it gives the same. */
function transcript(c: Case, replies: string): Outcome {
  const bytes = Buffer.from(replies, 'latin1');
  const whole = drive(c, [bytes]);
  for (const chunks of splits(bytes)) expect(drive(c, chunks)).toEqual(whole);
  return whole;
}

const MAIL = 'MAIL FROM:<s@example.test>\r\n';
const rcpt = (...ns: number[]): string => ns.map((n) => `RCPT TO:<r${n}@example.test>\r\n`).join('');
const DATA = 'DATA\r\n';
const BODY = `${CONTENT}.\r\n`;
const OK = '250 2.0.0 ok\r\n';
const GO = '354 go ahead\r\n';
const counts = (o: Partial<Recorder['counters']>): Partial<Recorder['counters']> => ({
  messagesAccepted: 0,
  messagesRejected: 0,
  messagesFailed: 0,
  recipientsAccepted: 0,
  recipientsRejected: 0,
  recipientsFailed: 0,
  recipientsDeferred: 0,
  transactions: 0,
  ...o,
});

describe('Pipeline, fed whole server transcripts split at every offset', () => {
  it('a pipelined transaction with a 550 RCPT among accepted ones: the others get the message', () => {
    const r = transcript({ messages: 1, recipients: 3 }, `${OK}${OK}550 5.1.1 no such user\r\n${OK}${GO}${OK}`);
    expect(r.written).toBe(`${MAIL}${rcpt(1, 2, 3)}${DATA}${BODY}`);
    expect(r.failure).toBeNull();
    expect(r.counters).toEqual(counts({ messagesAccepted: 1, recipientsAccepted: 2, recipientsRejected: 1, transactions: 1 }));
    expect(r.replies).toEqual({ mail: { 250: 1 }, rcpt: { 250: 2, 550: 1 }, data: { 354: 1 }, body: { 250: 1 } });
  });

  it('the next group is written right behind the previous body (RFC 2920 §3.1)', () => {
    const r = transcript({ messages: 2, recipients: 1 }, `${OK}${OK}${GO}${OK}${OK}${OK}${GO}${OK}`);
    expect(r.written).toBe(`${MAIL}${rcpt(1)}${DATA}${BODY}${MAIL}${rcpt(1)}${DATA}${BODY}`);
    expect(r.counters).toEqual(counts({ messagesAccepted: 2, recipientsAccepted: 2, transactions: 2 }));
  });

  it("a blocked wire (write() returned false) takes no look-ahead group behind a body until 'drain' (DESIGN §4)", () => {
    const r = transcript({ messages: 3, recipients: 1, blockAfterBody: true }, `${OK}${OK}${GO}${OK}${OK}${OK}${GO}${OK}${OK}${OK}${GO}${OK}`);
    // The same octets in the same order as unblocked: only their timing moved.
    expect(r.written).toBe(`${MAIL}${rcpt(1)}${DATA}${BODY}`.repeat(3));
    expect(r.counters).toEqual(counts({ messagesAccepted: 3, recipientsAccepted: 3, transactions: 3 }));
  });

  it('lock-step without PIPELINING: the same commands, one at a time; a refused MAIL ends the transaction', () => {
    const r = transcript({ messages: 2, recipients: 2, pipelining: false }, `550 5.7.1 sender refused\r\n${OK}${OK}${OK}${GO}${OK}`);
    // The refused MAIL leaves nothing open on the server (RFC 5321 §3.3): no RSET before the next.
    expect(r.written).toBe(`${MAIL}${MAIL}${rcpt(1, 2)}${DATA}${BODY}`);
    expect(r.counters).toEqual(counts({ messagesAccepted: 1, messagesRejected: 1, recipientsAccepted: 2, recipientsRejected: 2, transactions: 2 }));
  });

  it('452 (RFC 5321 §4.5.3.1.10): the deferred recipients go in a continuation, at most as many as the server took', () => {
    const TOO_MANY = '452 4.5.3 too many recipients\r\n';
    const first = `${OK}${OK}${OK}${TOO_MANY}${TOO_MANY}${TOO_MANY}${GO}${OK}`;
    const r = transcript({ messages: 1, recipients: 5 }, `${first}${OK}${OK}${OK}${GO}${OK}${OK}${OK}${GO}${OK}`);
    // The server took two before its first 452: the continuation behind the first body sends the
    // deferred r3 and r4 (the learnt cap), and the one behind its body r5.
    expect(r.written).toBe(`${MAIL}${rcpt(1, 2, 3, 4, 5)}${DATA}${BODY}${MAIL}${rcpt(3, 4)}${DATA}${BODY}${MAIL}${rcpt(5)}${DATA}${BODY}`);
    expect(r.counters).toEqual(counts({ messagesAccepted: 1, recipientsAccepted: 5, recipientsDeferred: 3, transactions: 3 }));
  });

  it('BDAT (RFC 3030): the message in chunks, not stuffed, the last one marked LAST', () => {
    const r = transcript({ messages: 1, recipients: 1, bdat: true, chunkBytes: 10 }, `${OK}${OK}${OK}${OK}${OK}`);
    expect(r.written).toBe(`${MAIL}${rcpt(1)}BDAT 10\r\n${CONTENT.slice(0, 10)}BDAT 10\r\n${CONTENT.slice(10, 20)}BDAT 1 LAST\r\n${CONTENT.slice(20)}`);
    expect(r.counters).toEqual(counts({ messagesAccepted: 1, recipientsAccepted: 1, transactions: 1 }));
    expect(r.replies).toEqual({ mail: { 250: 1 }, rcpt: { 250: 1 }, bdat: { 250: 3 } });
  });

  it('a 421 mid-session (RFC 5321 §3.8): the connection ends and every recipient without a final reply has failed', () => {
    const r = transcript({ messages: 1, recipients: 3 }, `${OK}${OK}421 4.3.2 shutting down\r\n${OK}`);
    expect(r.failure).toBe('rcpt-421');
    expect(r.counters).toEqual(counts({ messagesFailed: 1, recipientsFailed: 3 }));
    expect(r.replies).toEqual({ mail: { 250: 1 }, rcpt: { 250: 1, 421: 1 } });
  });

  it('a 250 to DATA is a protocol error, never taken as success', () => {
    const r = transcript({ messages: 1, recipients: 1 }, `${OK}${OK}${OK}`);
    expect(r.failure).toBe('bad-reply');
    expect(r.counters).toEqual(counts({ messagesFailed: 1, recipientsFailed: 1 }));
  });
});
