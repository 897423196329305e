/**
 * The command machine without a socket: command lines in, decisions out through a recording
 * `ReplySink` (replies by their name in `Replies`, and the mode switches). The sink counts replies
 * through a real `ReplyQueue`, as the connection does, so the `maxErrors` close is covered too.
 */
import { describe, expect, it } from 'vitest';
import { resolveProfile, type ProfileInput } from '../profile/index.js';
import { CommandMachine } from './commands.js';
import { serverContext, type ReplySink, type ServerContext } from './context.js';
import { ReplyQueue } from './reply-queue.js';

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

/** Records what the machine decides: reply names (or the reply text when it is not a canned one) and mode switches. */
class RecordingSink implements ReplySink {
  readonly events: string[] = [];
  private readonly names = new Map<Buffer, string>();
  private readonly queue: ReplyQueue;
  constructor(private readonly ctx: ServerContext) {
    for (const [name, value] of Object.entries(ctx.replies)) {
      if (Buffer.isBuffer(value)) this.names.set(value, name);
      else if (Array.isArray(value)) value.forEach((v: Buffer, i) => this.names.set(v, `${name}[${i}]`));
    }
    this.queue = new ReplyQueue(ctx, () => {});
  }
  reply(buf: Buffer): void {
    this.events.push(this.names.get(buf) ?? buf.toString('latin1').trimEnd());
    if (this.queue.push(buf)) this.events.push('tooManyErrors', 'close');
  }
  answering(): void {}
  delay(ms: number): void {
    this.events.push(`delay ${ms}`);
  }
  startData(): void {
    this.events.push('start DATA');
  }
  startBdat(): void {
    this.events.push('start BDAT');
  }
  startTls(): void {
    this.events.push('start TLS');
  }
  close(): void {
    this.events.push('close');
  }
}

/** A greeted machine on a fresh server context; `send` runs lines and returns what they caused. */
function session(server: ProfileInput['server'] = {}) {
  const ctx = serverContext(resolveProfile({ server: { tls: { starttls: false }, ...server } }).server, null);
  const sink = new RecordingSink(ctx);
  const record = ctx.sessions.open('192.0.2.1', 1025, false);
  const m = new CommandMachine(ctx, record, sink, false);
  m.greet();
  const send = (...lines: string[]): string[] => {
    sink.events.length = 0;
    for (const l of lines) m.command(Buffer.from(l, 'utf8'));
    return [...sink.events];
  };
  return { ctx, m, sink, send, record };
}

describe('CommandMachine', () => {
  it('greets, and gates MAIL, RCPT and DATA on EHLO, a transaction and a recipient (RFC 5321 §4.1.4)', () => {
    const { sink, send } = session();
    expect(sink.events).toEqual(['greeting']);
    expect(send('MAIL FROM:<a@example.test>')).toEqual(['needHelo']);
    expect(send('EHLO c.example', 'RCPT TO:<b@example.test>', 'DATA')).toEqual(['ehlo', 'badSequence', 'badSequence']);
    expect(send('MAIL FROM:<a@example.test>', 'DATA', 'MAIL FROM:<a@example.test>')).toEqual(['mailOk', 'noValidRecipients', 'badSequence']);
    expect(send('RCPT TO:<>', 'RCPT TO:<b@example.test>', 'DATA')).toEqual(['recipientRefusals[1]', 'rcptOk', 'dataGo', 'start DATA']);
  });

  it('RSET and EHLO end the transaction; NOOP and HELP do not', () => {
    const { send } = session();
    send('EHLO c.example');
    expect(send('MAIL FROM:<a@example.test>', 'NOOP', 'HELP', 'RCPT TO:<b@example.test>')).toEqual(['mailOk', 'ok', 'help', 'rcptOk']);
    expect(send('RSET', 'RCPT TO:<b@example.test>', 'MAIL FROM:<a@example.test>')).toEqual(['ok', 'badSequence', 'mailOk']);
    expect(send('EHLO c.example', 'RCPT TO:<b@example.test>')).toEqual(['ehlo', 'badSequence']);
  });

  it('ends a DATA message at the stream’s end: one reply, counted, transaction over', () => {
    const { ctx, m, send } = session();
    send('EHLO c.example', 'MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA');
    const body = Buffer.from('Subject: x\r\n\r\nhi\r\n.\r\n');
    expect(m.stream.feedData(body, 0)).toBe(body.length);
    expect(send()).toEqual([]);
    m.endOfData();
    expect(send('RCPT TO:<b@example.test>')).toEqual(['badSequence']);
    expect(ctx.metrics.counters.messages).toBe(1);
    expect(ctx.metrics.counters.recipients).toBe(1);
  });

  it('BDAT: reads the chunk before its reply; a refused chunk fails the transaction (RFC 3030 §2)', () => {
    const { ctx, m, sink, send } = session();
    expect(send('EHLO c.example', 'BDAT 3')).toEqual(['ehlo', 'start BDAT']);
    m.stream.feedChunk(Buffer.from('abc'), 0);
    sink.events.length = 0;
    m.endOfChunk();
    expect(sink.events).toEqual(['badSequence']);
    send('MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'BDAT 2');
    m.stream.feedChunk(Buffer.from('hi'), 0);
    expect(send('BDAT 0 LAST')).toEqual(['messageOk']);
    expect(ctx.metrics.counters.messages).toBe(1);
    expect(send('DATA')).toEqual(['badSequence']);
  });

  it('BDAT: a fault refusing the first chunk fails the transaction too: no message is taken, the next MAIL gets 250 (hostile review of the split)', () => {
    const { ctx, m, sink, send } = session({ faults: ['bdat: reply 451 4.3.0 try later @ 100%'] });
    send('EHLO c.example', 'MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'BDAT 3');
    m.stream.feedChunk(Buffer.from('abc'), 0);
    sink.events.length = 0;
    m.endOfChunk();
    expect(sink.events).toEqual(['451 4.3.0 try later']);
    expect(send('BDAT 3 LAST')).toEqual(['start BDAT']);
    m.stream.feedChunk(Buffer.from('def'), 0);
    sink.events.length = 0;
    m.endOfChunk();
    // At 100 % the fault answers this chunk as well; what matters is that no message was taken
    // from a transaction whose first chunk was refused, and that the transaction is over.
    expect(sink.events).toEqual(['451 4.3.0 try later']);
    expect(ctx.metrics.counters.messages).toBe(0);
    expect(send('MAIL FROM:<a@example.test>')).toEqual(['mailOk']);
  });

  it('closes after the maxErrors-th protocol error; 502 is not the client’s error', () => {
    const { send } = session({ maxErrors: 3 });
    expect(send('XYZZY', 'TURN', 'MAIL', 'TURN')).toEqual(['unknown', 'notImplemented', 'syntax', 'notImplemented']);
    expect(send('FOO')).toEqual(['unknown', 'tooManyErrors', 'close']);
  });

  it('QUIT closes; STARTTLS without a certificate is not offered', () => {
    const { send } = session();
    expect(send('STARTTLS', 'QUIT')).toEqual(['notImplemented', 'quit', 'close']);
  });

  describe('AUTH (RFC 4954)', () => {
    const users = { alice: 'secret' };

    it('PLAIN with an initial response; no second AUTH', () => {
      const { record, send } = session({ auth: { users } });
      expect(send('AUTH PLAIN x')).toEqual(['needHelo']);
      send('EHLO c.example');
      expect(send(`AUTH PLAIN ${b64('\0alice\0secret')}`, 'AUTH PLAIN =')).toEqual(['authOk', 'alreadyAuthenticated']);
      expect(record.authUser).toBe('alice');
    });

    it('LOGIN over three lines; a wrong password is counted', () => {
      const { ctx, send } = session({ auth: { users } });
      send('EHLO c.example');
      expect(send('AUTH LOGIN', b64('alice'), b64('nope'))).toEqual(['loginUser', 'loginPassword', 'authFailed']);
      expect(ctx.metrics.counters.authFailures).toBe(1);
      expect(send('AUTH LOGIN', b64('alice'), b64('secret'))).toEqual(['loginUser', 'loginPassword', 'authOk']);
    });

    it('inside an exchange every line is a response: `*` cancels, bad base64 ends it', () => {
      const { ctx, send } = session({ auth: { users } });
      send('EHLO c.example');
      expect(send('AUTH PLAIN', 'QUIT now')).toEqual(['emptyChallenge', 'badBase64']);
      expect(send('AUTH LOGIN', '*', 'NOOP')).toEqual(['loginUser', 'authCancelled', 'ok']);
      expect(ctx.metrics.counters.authFailures).toBe(0);
    });

    it('CRAM-MD5 speaks first; unknown mechanisms, AUTH in a transaction and required AUTH', () => {
      const { send } = session({ auth: { users, required: true } });
      send('EHLO c.example');
      expect(send('AUTH CRAM-MD5 abc', 'AUTH FOO')).toEqual(['syntax', 'unknownMechanism']);
      const [challenge] = send('AUTH CRAM-MD5');
      expect(challenge).toMatch(/^334 /);
      expect(send('*', 'MAIL FROM:<a@example.test>')).toEqual(['authCancelled', 'authRequired']);
    });

    it('AUTH is not offered without accounts', () => {
      const { send } = session();
      expect(send('EHLO c.example', 'AUTH PLAIN')).toEqual(['ehlo', 'notImplemented']);
    });
  });

  describe('legacy and rare verbs', () => {
    it('TURN never runs; SEND/SOML/SAML by policy; ATRN needs AUTH (RFC 2645)', () => {
      const refuse = session();
      expect(refuse.send('EHLO c.example', 'TURN', 'SEND FROM:<a@example.test>', 'ATRN')).toEqual(['ehlo', 'notImplemented', 'notImplemented', 'notImplemented']);
      const open = session({ legacySend: 'mail', atrn: 'odmr', auth: { users: { alice: 'secret' } } });
      expect(open.send('EHLO c.example', 'SAML FROM:<a@example.test>', 'ATRN', 'RSET', 'ATRN')).toEqual(['ehlo', 'mailOk', 'badSequence', 'ok', 'authRequired']);
      expect(open.send(`AUTH PLAIN ${b64('\0alice\0secret')}`, 'ATRN')).toEqual(['authOk', 'atrnNothingQueued']);
    });

    it('VRFY and EXPN without lists; NUL octets; LHLO on an SMTP server', () => {
      const { send } = session();
      expect(send('VRFY bob', 'VRFY', 'EXPN staff', 'NOOP\0', 'LHLO c.example')).toEqual(['vrfy', 'syntax', 'notImplemented', 'nul', 'unknown']);
    });

    it('XCLIENT starts the session over with a new greeting', () => {
      const { record, send } = session({ xclient: true });
      send('EHLO c.example');
      expect(send('XCLIENT ADDR=198.51.100.7 HELO=spoofed.example', 'MAIL FROM:<a@example.test>')).toEqual(['greeting', 'needHelo']);
      expect(record.helo).toBe('spoofed.example');
    });
  });

  it('after a 5xx greeting only QUIT is served (RFC 5321 §3.1)', () => {
    const { send, sink } = session({ faults: ['connect: reply 554'] });
    expect(sink.events[0]).toMatch(/^554 /);
    expect(send('EHLO c.example', 'QUIT')).toEqual(['badSequence', 'quit', 'close']);
  });

  describe('the command grammar (RFC 5321 §4.1.1, §4.1.2, RFC 6531 §3.5; issue 13 item 3)', () => {
    const mail = (...lines: string[]) => {
      const { send } = session({ maxMessageSize: 1000 });
      send('EHLO c.example');
      return lines.map((l) => {
        const r = send(l);
        if (r[0] === 'mailOk') send('RSET');
        return r[0];
      });
    };
    it('MAIL: no space around the colon, one SP before parameters, trailing white space tolerated', () => {
      expect(mail('MAIL FROM: <a@b>', 'MAIL FROM :<a@b>', 'MAIL  FROM:<a@b>', 'MAIL FROM:<a@b>SIZE=1', 'MAIL FROM:<a@b>  SIZE=1', 'MAIL FROM:<a@b> \t', 'MAIL FROM:<a@b> SIZE=1 ')).toEqual([
        'senderSpace',
        'syntax',
        'syntax',
        'parameterSyntax',
        'parameterSyntax',
        'mailOk',
        'mailOk',
      ]);
    });
    it('MAIL: parameters with a malformed or repeated value get 501, unknown ones 555, a size over the limit 552', () => {
      expect(
        mail('MAIL FROM:<a@b> SIZE=1 SIZE=1', 'MAIL FROM:<a@b> SMTPUTF8=yes', 'MAIL FROM:<a@b> SIZE=', 'MAIL FROM:<a@b> RET=HDRS', 'MAIL FROM:<a@b> SIZE=1001', 'MAIL FROM:<a@b> AUTH=<>'),
      ).toEqual([
        'parameterSyntax',
        'parameterSyntax',
        'parameterSyntax',
        'badParameter',
        'sizeDeclaredTooBig',
        // AUTH= only when AUTH is offered (RFC 4954 §5).
        'badParameter',
      ]);
    });
    it('MAIL: a UTF-8 reverse-path needs SMTPUTF8 on the same line (550 5.6.7, RFC 6531 §3.5)', () => {
      expect(mail('MAIL FROM:<jörg@example.test>', 'MAIL FROM:<jörg@example.test> SMTPUTF8', 'MAIL FROM:<a@b> X=ü', 'MAIL FROM:<a@b> SMTPUTF8 X=ü')).toEqual([
        'senderNeedsUtf8',
        'mailOk',
        'parameterSyntax',
        'badParameter',
      ]);
    });
    it('RCPT: `<Postmaster>` alone, a UTF-8 forward-path only under SMTPUTF8 (553 5.6.7), parameters 501 or 555, paths by the limits of §4.5.3.1', () => {
      const { send } = session();
      send('EHLO c.example', 'MAIL FROM:<a@b>');
      const codes = (...lines: string[]) => lines.map((l) => send(l)[0]);
      expect(codes('RCPT TO:<Postmaster>', 'RCPT TO:<postmaster@x>', 'RCPT TO:<用户@例子.测试>', 'RCPT TO: <a@b>', 'RCPT TO:<a@b> NOTIFY=NEVER', 'RCPT TO:<a@b> NOTIFY=', 'RCPT TO:<a@b> ')).toEqual([
        'rcptOk',
        'rcptOk',
        'recipientNeedsUtf8',
        'recipientSpace',
        'badParameter',
        'parameterSyntax',
        'rcptOk',
      ]);
      expect(codes(`RCPT TO:<${'l'.repeat(64)}@x>`, `RCPT TO:<${'l'.repeat(65)}@x>`, `RCPT TO:<a@${'d'.repeat(64)}.x>`, `RCPT TO:<a@${'d.'.repeat(127)}x>`)).toEqual([
        'rcptOk',
        'recipientRefusals[3]',
        'recipientRefusals[4]',
        'recipientRefusals[2]',
      ]);
      send('RSET', 'MAIL FROM:<a@b> SMTPUTF8');
      expect(codes('RCPT TO:<用户@例子.测试>', 'RCPT TO:<a@b> X=ü')).toEqual(['rcptOk', 'badParameter']);
    });
    it('DATA, RSET, QUIT and STARTTLS take no arguments (501, nothing reset or closed); trailing white space is tolerated', () => {
      const { send } = session();
      send('EHLO c.example', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>');
      expect(send('RSET now', 'QUIT later', 'DATA x', 'DATA ')).toEqual(['noParameters', 'noParameters', 'noParameters', 'dataGo', 'start DATA']);
    });
    it('HELO/EHLO with control octets or non-ASCII in the argument get 501 and change nothing (§4.1.2, §4.1.4)', () => {
      const { send } = session();
      expect(send('EHLO c\x07.example', 'EHLO cé.example', 'MAIL FROM:<a@b>', 'EHLO my_host', 'EHLO [192.0.2.1]')).toEqual(['heloOctets', 'heloOctets', 'needHelo', 'ehlo', 'ehlo']);
    });
    it("HELO offers no extension: MAIL parameters get 555, AUTH and BDAT 503 (RFC 5321 §2.2.1; BDAT's octets still read)", () => {
      const { send } = session({ auth: { users: { alice: 'secret' } } });
      expect(send('HELO c.example', 'MAIL FROM:<a@b> SIZE=10', 'AUTH PLAIN =', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'BDAT 3 LAST')).toEqual([
        'helo',
        'badParameter',
        'needEhlo',
        'mailOk',
        'rcptOk',
        'start BDAT',
      ]);
      expect(send('EHLO c.example', 'MAIL FROM:<a@b> SIZE=10')).toEqual(['ehlo', 'mailOk']);
    });
    it('DATA after MAIL … BODY=BINARYMIME gets 503 (RFC 3030 §3); VRFY with a control octet 501', () => {
      const { send } = session();
      expect(send('EHLO c.example', 'MAIL FROM:<a@b> BODY=BINARYMIME', 'RCPT TO:<c@d>', 'DATA', 'VRFY a\x01b')).toEqual(['ehlo', 'mailOk', 'rcptOk', 'badSequence', 'syntax']);
    });
    it('refusedLocalParts hold for quoted forms too: "unknown" and "unk\\nown" are unknown (RFC 5321 §4.1.2)', () => {
      const { send } = session({ refusedLocalParts: ['unknown'] });
      send('EHLO c.example', 'MAIL FROM:<a@b>');
      expect(send('RCPT TO:<unknown@y.z>', 'RCPT TO:<"unknown"@y.z>', 'RCPT TO:<"unk\\nown"@y.z>', 'RCPT TO:<"un known"@y.z>')).toEqual([
        'mailboxUnavailable',
        'mailboxUnavailable',
        'mailboxUnavailable',
        'rcptOk',
      ]);
    });
  });
});
