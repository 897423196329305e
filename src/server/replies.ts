/**
 * Canned replies, encoded once (house style §7). Enhanced status codes per RFC 3463, since the
 * server advertises ENHANCEDSTATUSCODES (RFC 2034 §3: every reply after EHLO carries one, except
 * the greeting and EHLO's own reply).
 */
import type { ServerSettings } from '../profile/types.js';

const r = (s: string): Buffer => Buffer.from(`${s}\r\n`, 'latin1');

/** Every fixed reply the reference server sends, as ready-to-write Buffers. */
export interface Replies {
  readonly greeting: Buffer;
  readonly ehlo: Buffer;
  readonly helo: Buffer;
  readonly mailOk: Buffer;
  readonly rcptOk: Buffer;
  readonly dataGo: Buffer;
  readonly messageOk: Buffer;
  readonly ok: Buffer;
  readonly quit: Buffer;
  readonly vrfy: Buffer;
  readonly help: Buffer;
  readonly notImplemented: Buffer;
  readonly unknown: Buffer;
  readonly lineTooLong: Buffer;
  readonly bareLf: Buffer;
  readonly nul: Buffer;
  readonly badSequence: Buffer;
  readonly needHelo: Buffer;
  readonly syntax: Buffer;
  readonly heloSyntax: Buffer;
  readonly noValidRecipients: Buffer;
  readonly tooManyRecipients: Buffer;
  readonly sizeDeclaredTooBig: Buffer;
  readonly sizeTooBig: Buffer;
  readonly badParameter: Buffer;
  readonly shuttingDown: Buffer;
}

/** Builds the reply set for one server configuration. */
export function buildReplies(s: ServerSettings): Replies {
  const ehloLines = [s.hostname, 'PIPELINING', s.maxMessageSize > 0 ? `SIZE ${s.maxMessageSize}` : 'SIZE', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'HELP'];
  const ehlo = ehloLines.map((l, i) => `250${i === ehloLines.length - 1 ? ' ' : '-'}${l}`).join('\r\n');
  return {
    greeting: r(`220 ${s.hostname} ESMTP smtpbench reference server`),
    ehlo: r(ehlo),
    helo: r(`250 ${s.hostname}`),
    mailOk: r('250 2.1.0 Sender OK'),
    rcptOk: r('250 2.1.5 Recipient OK'),
    dataGo: r('354 Start mail input; end with <CRLF>.<CRLF>'),
    messageOk: r('250 2.0.0 Message accepted'),
    ok: r('250 2.0.0 OK'),
    quit: r(`221 2.0.0 ${s.hostname} closing connection`),
    // RFC 5321 §3.5.3 and §7.3: 252 says "cannot verify, will accept"; never 250 without checking.
    vrfy: r('252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery'),
    help: r('214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP'),
    // RFC 5321 §4.2.4: 502 = recognised but not implemented; 500 = not recognised.
    notImplemented: r('502 5.5.1 Command not implemented'),
    unknown: r('500 5.5.1 Command unrecognized'),
    lineTooLong: r('500 5.5.6 Line too long'),
    bareLf: r('500 5.5.2 Bare <LF> in command line; lines end with <CRLF>'),
    nul: r('500 5.5.2 NUL octet in command line'),
    badSequence: r('503 5.5.1 Bad sequence of commands'),
    needHelo: r('503 5.5.1 Send HELO or EHLO first'),
    syntax: r('501 5.5.4 Syntax error in parameters or arguments'),
    heloSyntax: r('501 5.5.4 HELO/EHLO needs a domain or address literal'),
    // RFC 5321 §3.3: DATA with no accepted recipient gets 503 or 554; 554 reads better under pipelining.
    noValidRecipients: r('554 5.5.1 No valid recipients'),
    // RFC 5321 §4.5.3.1.10: 452 (not 552) for too many recipients, so the client continues in a new transaction.
    tooManyRecipients: r('452 4.5.3 Too many recipients'),
    sizeDeclaredTooBig: r('552 5.3.4 Declared message size exceeds fixed maximum message size'),
    sizeTooBig: r('552 5.3.4 Message size exceeds fixed maximum message size'),
    badParameter: r('555 5.5.4 MAIL FROM/RCPT TO parameter not recognized or not implemented'),
    shuttingDown: r('421 4.3.2 Service shutting down'),
  };
}
