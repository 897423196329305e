/**
 * Canned replies, encoded once (house style §7). Enhanced status codes per RFC 3463, since the
 * server advertises ENHANCEDSTATUSCODES (RFC 2034 §3: every reply after EHLO carries one, except
 * the greeting and EHLO's own reply).
 */
import type { ServerSettings } from '../profile/types.js';
import { MAX_DOMAIN, MAX_LABEL, MAX_LOCAL_PART, MAX_PATH } from '../protocol/address.js';
import { XCLIENT_ATTRIBUTES } from '../protocol/command-args.js';
import { VERBS, type Verb } from '../protocol/verbs.js';

const r = (s: string): Buffer => Buffer.from(`${s}\r\n`, 'latin1');

/** Every fixed reply the reference server sends, as ready-to-write Buffers. */
export interface Replies {
  readonly greeting: Buffer;
  /** EHLO reply in plaintext (offers STARTTLS when enabled). */
  readonly ehlo: Buffer;
  /** EHLO reply inside TLS: no STARTTLS (RFC 3207 §4.2). */
  readonly ehloTls: Buffer;
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
  /** A service extension (AUTH, STARTTLS, BDAT) after HELO, which offers none (RFC 5321 §2.2.1). */
  readonly needEhlo: Buffer;
  readonly syntax: Buffer;
  readonly heloSyntax: Buffer;
  /** HELO/EHLO with control octets or non-ASCII in its argument (RFC 5321 §4.1.2). */
  readonly heloOctets: Buffer;
  /** `MAIL FROM: <…>` / `RCPT TO: <…>`: RFC 5321 §3.3 allows no space after the colon; said outright, many MTAs take it. */
  readonly senderSpace: Buffer;
  readonly recipientSpace: Buffer;
  readonly noValidRecipients: Buffer;
  readonly tooManyRecipients: Buffer;
  readonly sizeDeclaredTooBig: Buffer;
  readonly sizeTooBig: Buffer;
  readonly badParameter: Buffer;
  /** MAIL/RCPT parameters that are not the esmtp-param grammar, or a repeated or malformed one. */
  readonly parameterSyntax: Buffer;
  /** MAIL's reverse-path refused, by `PathVerdict` (protocol/address.ts; index 0 unused). */
  readonly senderRefusals: readonly Buffer[];
  /** RCPT's forward-path refused, by `PathVerdict`. */
  readonly recipientRefusals: readonly Buffer[];
  /** RFC 6531 §3.5: a non-ASCII reverse-path without SMTPUTF8. */
  readonly senderNeedsUtf8: Buffer;
  /** RFC 6531 §3.5: a non-ASCII forward-path in a transaction without SMTPUTF8. */
  readonly recipientNeedsUtf8: Buffer;
  /** A command whose grammar has no arguments (DATA, RSET, QUIT, STARTTLS) given some. */
  readonly noParameters: Buffer;
  /** RFC 4954 §4: a SASL line longer than the authentication buffer. */
  readonly authLineTooLong: Buffer;
  readonly shuttingDown: Buffer;
  readonly mailboxUnavailable: Buffer;
  readonly chunkOk: Buffer;
  readonly authOk: Buffer;
  readonly emptyChallenge: Buffer;
  readonly loginUser: Buffer;
  readonly loginPassword: Buffer;
  readonly authCancelled: Buffer;
  readonly badBase64: Buffer;
  readonly authFailed: Buffer;
  readonly unknownMechanism: Buffer;
  readonly authRequired: Buffer;
  readonly alreadyAuthenticated: Buffer;
  readonly tlsGo: Buffer;
  readonly tlsActive: Buffer;
  readonly tooManyErrors: Buffer;
  readonly tooManyConnections: Buffer;
  readonly idleTimeout: Buffer;
  readonly commandTimeout: Buffer;
  readonly useLhlo: Buffer;
  readonly vrfyUnknown: Buffer;
  readonly expnUnknown: Buffer;
  /** EXPN replies per list name (lower-cased), multi-line, one member per line. */
  readonly expnLists: ReadonlyMap<string, Buffer>;
  readonly atrnNothingQueued: Buffer;
  readonly textLineTooLong: Buffer;
}

/** The refusal of a path for each `PathVerdict` (protocol/address.ts), in that order. */
function pathRefusals(status: string, who: string): Buffer[] {
  return [
    Buffer.alloc(0),
    r(`501 ${status} Bad ${who} address syntax`),
    r(`501 ${status} Path too long (over ${MAX_PATH} octets)`),
    r(`501 ${status} Local part too long (over ${MAX_LOCAL_PART} octets)`),
    r(`501 ${status} Domain too long (over ${MAX_DOMAIN} octets, or a label over ${MAX_LABEL})`),
  ];
}

/** The EHLO keywords (RFC 5321 §4.1.1.1) for one configuration, in or out of TLS. */
function ehloReply(s: ServerSettings, starttls: boolean, inTls: boolean): Buffer {
  const lines = [s.hostname, 'PIPELINING', s.maxMessageSize > 0 ? `SIZE ${s.maxMessageSize}` : 'SIZE', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES'];
  if (s.chunking) lines.push('CHUNKING');
  if (Object.keys(s.expn).length > 0) lines.push('EXPN');
  // RFC 5321 Appendix F.6: SEND, SOML and SAML, when implemented, are advertised.
  if (s.legacySend === 'mail') lines.push('SEND', 'SOML', 'SAML');
  if (s.atrn === 'odmr') lines.push('ATRN');
  if (s.xclient) lines.push(`XCLIENT ${XCLIENT_ATTRIBUTES.join(' ')}`);
  if (starttls && !inTls) lines.push('STARTTLS');
  if (Object.keys(s.auth.users).length > 0) lines.push(`AUTH ${s.auth.mechanisms.join(' ')}`);
  lines.push('HELP');
  return r(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`).join('\r\n'));
}

/** True for a 421 reply: the server closes the connection after it (RFC 5321 §3.8). */
export function closesSession(reply: Buffer): boolean {
  return reply[0] === 0x34 && reply[1] === 0x32 && reply[2] === 0x31;
}

/**
 * Whether this configuration serves `verb` (and says so in HELP), as EHLO advertises it. Every
 * verb must be decided here: a verb added to src/protocol/verbs.ts does not compile until it is.
 */
export function serves(verb: Verb, s: ServerSettings, starttls: boolean): boolean {
  switch (verb) {
    case 'HELO':
    case 'EHLO':
      return !s.lmtp;
    case 'LHLO':
      return s.lmtp;
    case 'STARTTLS':
      return starttls;
    case 'AUTH':
      return Object.keys(s.auth.users).length > 0;
    case 'XCLIENT':
      return s.xclient;
    case 'BDAT':
      return s.chunking;
    case 'EXPN':
      return Object.keys(s.expn).length > 0;
    case 'SEND':
    case 'SOML':
    case 'SAML':
      return s.legacySend === 'mail';
    case 'ATRN':
      return s.atrn === 'odmr';
    // RFC 5321 Appendix F.1: never run.
    case 'TURN':
      return false;
    case 'MAIL':
    case 'RCPT':
    case 'DATA':
    case 'QUIT':
    case 'VRFY':
    case 'HELP':
    case 'NOOP':
    case 'RSET':
      return true;
  }
}

/** HELP (RFC 5321 §4.1.1.8): the commands this configuration serves, in `VERBS` order. */
function helpReply(s: ServerSettings, starttls: boolean): Buffer {
  return r(`214 2.0.0 Commands: ${VERBS.filter((v) => serves(v, s, starttls)).join(' ')}`);
}

/**
 * Builds the reply set for one server configuration.
 * @param starttls whether STARTTLS is offered (TLS credentials are loaded)
 */
export function buildReplies(s: ServerSettings, starttls: boolean): Replies {
  return {
    greeting: r(`220 ${s.hostname} ${s.lmtp ? 'LMTP' : 'ESMTP'} smtpbench reference server`),
    ehlo: ehloReply(s, starttls, false),
    ehloTls: ehloReply(s, starttls, true),
    helo: r(`250 ${s.hostname}`),
    mailOk: r('250 2.1.0 Sender OK'),
    rcptOk: r('250 2.1.5 Recipient OK'),
    dataGo: r('354 Start mail input; end with <CRLF>.<CRLF>'),
    messageOk: r('250 2.0.0 Message accepted'),
    ok: r('250 2.0.0 OK'),
    quit: r(`221 2.0.0 ${s.hostname} closing connection`),
    // RFC 5321 §3.5.3 and §7.3: 252 says "cannot verify, will accept"; never 250 without checking.
    vrfy: r('252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery'),
    help: helpReply(s, starttls),
    // RFC 5321 §4.2.4: 502 = recognised but not implemented; 500 = not recognised.
    notImplemented: r('502 5.5.1 Command not implemented'),
    unknown: r('500 5.5.1 Command unrecognized'),
    // RFC 5321 §4.5.3.1.9: "500 Line too long"; X.5.6 is RFC 4954's, for SASL lines only.
    lineTooLong: r('500 5.5.2 Line too long'),
    bareLf: r('500 5.5.2 Bare <LF> in command line; lines end with <CRLF>'),
    // RFC 5321 §4.1.2: a command with invalid character codes MUST get 501.
    nul: r('501 5.5.2 NUL octet in command line'),
    badSequence: r('503 5.5.1 Bad sequence of commands'),
    needHelo: r('503 5.5.1 Send HELO or EHLO first'),
    needEhlo: r('503 5.5.1 Send EHLO first: HELO offers no extensions'),
    syntax: r('501 5.5.4 Syntax error in parameters or arguments'),
    heloSyntax: r('501 5.5.4 HELO/EHLO needs a domain or address literal'),
    heloOctets: r('501 5.5.4 HELO/EHLO argument must be printable ASCII'),
    senderSpace: r('501 5.1.7 Bad sender address syntax: no space after MAIL FROM: (RFC 5321 §3.3)'),
    recipientSpace: r('501 5.1.3 Bad recipient address syntax: no space after RCPT TO: (RFC 5321 §3.3)'),
    // RFC 5321 §3.3: DATA with no accepted recipient gets 503 or 554; 554 reads better under pipelining.
    noValidRecipients: r('554 5.5.1 No valid recipients'),
    // RFC 5321 §4.5.3.1.10: 452 (not 552) for too many recipients, so the client continues in a new transaction.
    tooManyRecipients: r('452 4.5.3 Too many recipients'),
    sizeDeclaredTooBig: r('552 5.3.4 Declared message size exceeds fixed maximum message size'),
    sizeTooBig: r('552 5.3.4 Message size exceeds fixed maximum message size'),
    badParameter: r('555 5.5.4 MAIL FROM/RCPT TO parameter not recognized or not implemented'),
    parameterSyntax: r('501 5.5.4 Syntax error in MAIL FROM/RCPT TO parameters'),
    // RFC 5321 §4.1.2: a path with invalid characters gets 501; §4.5.3.1.9: "501 Path too long".
    // RFC 3463: X.1.7 is the sender's address syntax, X.1.3 the recipient's.
    senderRefusals: pathRefusals('5.1.7', 'sender'),
    recipientRefusals: pathRefusals('5.1.3', 'recipient'),
    // RFC 6531 §3.5: 550 for MAIL, 553 for RCPT, both X.6.7.
    senderNeedsUtf8: r('550 5.6.7 Non-ASCII sender address needs SMTPUTF8'),
    recipientNeedsUtf8: r('553 5.6.7 Non-ASCII recipient address needs SMTPUTF8'),
    noParameters: r('501 5.5.4 Syntax error (no parameters allowed)'),
    // RFC 4954 §4 and §6: 500 with 5.5.6.
    authLineTooLong: r('500 5.5.6 Authentication exchange line is too long'),
    shuttingDown: r('421 4.3.2 Service shutting down'),
    mailboxUnavailable: r('550 5.1.1 Mailbox unavailable'),
    chunkOk: r('250 2.0.0 Chunk accepted'),
    // RFC 4954 §4, §6 and RFC 3463: 235 2.7.0 success, 535 5.7.8 bad credentials, 530 5.7.0 required.
    authOk: r('235 2.7.0 Authentication successful'),
    // RFC 4954 §4: an empty challenge is "334" SP and nothing else.
    emptyChallenge: r('334 '),
    loginUser: r(`334 ${Buffer.from('Username:').toString('base64')}`),
    loginPassword: r(`334 ${Buffer.from('Password:').toString('base64')}`),
    authCancelled: r('501 5.0.0 Authentication cancelled'),
    badBase64: r('501 5.5.2 Cannot decode the response (base64)'),
    authFailed: r('535 5.7.8 Authentication credentials invalid'),
    unknownMechanism: r('504 5.5.4 Unrecognized authentication type'),
    authRequired: r('530 5.7.0 Authentication required'),
    alreadyAuthenticated: r('503 5.5.1 Already authenticated'),
    tlsGo: r('220 2.0.0 Ready to start TLS'),
    tlsActive: r('503 5.5.1 TLS already active'),
    tooManyErrors: r('421 4.7.0 Too many errors, closing connection'),
    tooManyConnections: r('421 4.3.2 Too many connections, try again later'),
    idleTimeout: r('421 4.4.2 Idle timeout, closing connection'),
    commandTimeout: r('421 4.4.2 Command line timeout, closing connection'),
    // RFC 2033 §4.1: an LMTP server is greeted with LHLO; HELO and EHLO are not LMTP.
    useLhlo: r('500 5.5.1 This is an LMTP server: use LHLO'),
    vrfyUnknown: r('550 5.1.1 Mailbox unknown'),
    expnUnknown: r('550 5.1.1 No such mailing list'),
    expnLists: new Map(
      Object.entries(s.expn).map(([name, members]) => [
        name.toLowerCase(),
        r(members.length === 0 ? '250 2.1.5 (empty list)' : members.map((m, i) => `250${i === members.length - 1 ? ' ' : '-'}2.1.5 <${m}>`).join('\r\n')),
      ]),
    ),
    // RFC 2645 §5: 453 when no mail is waiting for the authenticated client.
    atrnNothingQueued: r('453 4.3.0 You have no mail'),
    // RFC 5321 §4.5.3.1.6 limits text lines; RFC 3463 5.6.0: other or undefined media error.
    textLineTooLong: r(`554 5.6.0 Message has a text line longer than ${s.maxTextLine} octets`),
  };
}
