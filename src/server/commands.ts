/**
 * The reference server's command machine: what each command line means for one SMTP session, and
 * the state gates between them (RFC 5321 §4.1.4: greeted, in a transaction, recipients; AUTH,
 * RFC 4954; STARTTLS, RFC 3207; XCLIENT; LMTP, RFC 2033). It never sees a socket: framed lines come
 * in, decisions go out through a `ReplySink` (reply, start DATA, start BDAT, start TLS, close),
 * message data goes to its `MessageStream`. Hot path: the verb is one 32-bit compare
 * (`verbCodeOf`), replies are Buffers encoded once, MAIL/RCPT arguments are checked as bytes.
 */
import * as address from '../protocol/address.js';
import * as octets from '../protocol/bytes.js';
import * as commandArgs from '../protocol/command-args.js';
import { SASL_LINE_MAX } from '../protocol/sasl.js';
import * as verbs from '../protocol/verbs.js';
import { DROPPED, injectFault, type ReplySink, type ServerContext } from './context.js';
import * as sink from './domains.js';
import { faultIndex } from './faults.js';
import { expnReply, vrfyReply } from './lookups.js';
import { MessageStream } from './message-stream.js';
import { RecipientOutcomes, type RcptDecision } from './recipient-outcomes.js';
import { closesSession } from './replies.js';
import { SaslExchange } from './sasl-exchange.js';
import type { SessionRecord } from './sessions.js';
import * as verbTable from './verb-table.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { SP, startsWithCI } = octets;
const { hasNonAscii, onlyTrailingSpace, parseEsmtpParams, PATH_OK, PATH_SYNTAX, PathScan, scanPath } = address;
const { bdatSizeLenient, checkMailParameters, parseAuthArgs, parseBdatArgs, parseXclientArgs } = commandArgs;
const { verbCodeOf } = verbs;
const { FORCED_FIRST, FORCED_LENGTHS } = sink;
const { ATRN, AUTH, AUTH_INFO, BDAT, DATA, EHLO, EXPN, HELO, HELP, LHLO, MAIL, NOOP, OTHER, QUIT, RCPT, RSET, SAML, SEND, SOML, STARTTLS, TURN, VERBS, VRFY, XCLIENT } = verbTable;

const FROM_COLON = Buffer.from('FROM:');
const TO_COLON = Buffer.from('TO:');
/** The octet offset of the path in `MAIL FROM:<…>` (and SEND, SOML, SAML) and in `RCPT TO:<…>`: RFC 5321 §3.3 allows no space around the colon. */
const MAIL_PATH_AT = 10;
const RCPT_PATH_AT = 8;
/** One scan result for every path this thread reads (commands run one at a time). */
const PATH = new PathScan();

const F_CONNECT = faultIndex('connect');
const F_AUTH = faultIndex('auth');
const F_BDAT = faultIndex('bdat');

/**
 * A HELO/EHLO argument holds no control octet (HTAB aside) and nothing beyond ASCII (VRFY and EXPN
 * may hold UTF-8, `utf8`): RFC 5321
 * §4.1.2 has commands with invalid character codes refused with 501. Its Domain or address-literal
 * grammar is not enforced: clients commonly send names with `_` or bare IP addresses, and §4.1.4
 * lets the server take them (documented in docs/reference-server.md).
 */
function printableArgument(line: Buffer, utf8 = false): boolean {
  for (let i = 5; i < line.length; i++) {
    const c = line[i];
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || (c > 0x7f && !utf8)) return false;
  }
  return true;
}

/** One SMTP session's command state, from the greeting to the end of the connection. */
export class CommandMachine {
  /** The message data of this session's transactions (the shell feeds it after `startData` / `startBdat`). */
  readonly stream: MessageStream;
  /** TLS is on: implicit TLS, or after STARTTLS. */
  private tls: boolean;
  /** After a 5xx greeting (RFC 5321 §3.1): only QUIT is served, everything else gets 503. */
  private refused = false;
  // Session and transaction state (RFC 5321 §4.1.4).
  private greeted = false;
  private authUser: string | null = null;
  private sasl: SaslExchange | null = null;
  private inTransaction = false;
  /** The session greeted with EHLO (or LHLO), not HELO: only then are service extensions offered (RFC 5321 §2.2.1). */
  private esmtp = false;
  /** The transaction's MAIL declared SMTPUTF8 (RFC 6531 §3.4): its forward-paths may be UTF-8. */
  private smtputf8 = false;
  /** The transaction's MAIL declared BODY=BINARYMIME: DATA is refused (RFC 3030 §3). */
  private binarymime = false;
  private recipients = 0;
  /** A BDAT chunk of this transaction was accepted: DATA may not follow (RFC 3030 §3). */
  private bdatActive = false;
  /** Who decides each recipient's reply beyond the grammar: forced local parts, refused mailboxes, domain policies. */
  private readonly outcomes: RecipientOutcomes;

  /**
   * @param session the session's record (docs/reference-server.md "Client identity"), updated here
   * @param tls true on the implicit-TLS port (RFC 8314): STARTTLS is then refused
   */
  constructor(
    private readonly ctx: ServerContext,
    private readonly session: SessionRecord,
    private readonly sink: ReplySink,
    tls: boolean,
  ) {
    this.tls = tls;
    this.stream = new MessageStream(ctx, session, sink);
    this.outcomes = new RecipientOutcomes(ctx);
  }

  /**
   * The TLS handshake after STARTTLS is done. RFC 3207 §4.2: the session starts over, so the
   * client must EHLO again and any AUTH or transaction is forgotten.
   */
  upgraded(): void {
    this.tls = true;
    this.session.tls = true;
    this.greeted = false;
    this.authUser = null;
    this.resetTransaction();
  }

  /** Closes the connection without answering the current command (fault injection). */
  private drop(): void {
    this.ctx.metrics.counters.faults++;
    this.sink.close();
  }

  /** Sends the greeting, or the connect fault drawn for this connection. */
  greet(): void {
    this.sink.answering(F_CONNECT);
    const f = this.ctx.faults;
    if (f.active) {
      if (f.disconnectNow(F_CONNECT)) return this.drop();
      const o = f.override(F_CONNECT);
      if (o !== undefined) {
        this.ctx.metrics.counters.faults++;
        this.sink.reply(o.reply);
        // 4yz on connect: hang up (421). 5yz: RFC 5321 §3.1, wait for QUIT and refuse the rest with 503.
        if (o.reply[0] === 0x34) this.sink.close();
        else this.refused = true;
        return;
      }
    }
    this.sink.reply(this.ctx.replies.greeting);
  }

  /**
   * The longest line, CRLF included, the framer should take next: `maxCommandLine`, or inside a
   * SASL exchange at least `SASL_LINE_MAX` octets and CRLF (RFC 4954 §4: responses may be far
   * longer than commands).
   */
  lineLimit(): number {
    const max = this.ctx.settings.maxCommandLine;
    return this.sasl === null ? max : Math.max(max, SASL_LINE_MAX + 2);
  }

  /**
   * The framer refused a line (over `lineLimit`, or with a bare LF): its reply. Inside a SASL
   * exchange the AUTH command fails with it (RFC 4954 §4: a line longer than the authentication
   * buffer gets 500 5.5.6), and the exchange ends.
   */
  refuseLine(tooLong: boolean): Buffer {
    const R = this.ctx.replies;
    if (this.sasl === null) return tooLong ? R.lineTooLong : R.bareLf;
    this.sasl = null;
    return tooLong ? R.authLineTooLong : R.bareLf;
  }

  /** Gives one command line (CRLF removed) its meaning; returns its verb for the histogram. */
  command(line: Buffer): verbTable.VerbInfo {
    const m = this.ctx.metrics;
    m.counters.commands++;
    const R = this.ctx.replies;
    if (this.sasl !== null) {
      // RFC 4954 §4: inside an exchange every line is a SASL response, whatever it looks like.
      this.sink.answering(F_AUTH);
      this.saslResponse(line.toString('latin1'));
      return AUTH_INFO;
    }
    let v = verbCodeOf(line);
    const info = VERBS.get(v) ?? OTHER;
    this.sink.answering(info.fault);
    if (line.indexOf(0) !== -1) {
      this.sink.reply(R.nul);
      v = -1;
    } else if (this.refused && v !== QUIT) {
      this.sink.reply(R.badSequence);
      v = -1;
    } else if (this.ctx.faults.active && v !== BDAT) {
      // BDAT draws its faults itself: a refused chunk must still be read (RFC 3030).
      const injected = injectFault(this.ctx, info.fault, this.sink);
      if (injected !== null) {
        // A faulted RCPT still counts for its domain, so the server's table matches the client's.
        if (v === RCPT && injected !== DROPPED && this.ctx.domains.count && startsWithCI(line, 5, TO_COLON)) this.outcomes.countFaulted(line, RCPT_PATH_AT, PATH, injected);
        v = -1;
      }
    }
    switch (v) {
      case -1:
        break;
      case EHLO:
      case HELO:
      case LHLO:
        // LHLO is LMTP's EHLO (RFC 2033 §4.1); each protocol refuses the other's greeting verb.
        if ((v === LHLO) !== this.ctx.settings.lmtp) {
          this.sink.reply(v === LHLO ? R.unknown : R.useLhlo);
          break;
        }
        if (line.length < 6 || onlyTrailingSpace(line, 5)) {
          this.sink.reply(R.heloSyntax);
          break;
        }
        if (!printableArgument(line)) {
          this.sink.reply(R.heloOctets);
          break;
        }
        // RFC 5321 §4.1.4: EHLO/HELO also resets any transaction.
        this.greeted = true;
        this.esmtp = v !== HELO;
        this.session.helo = line.toString('utf8', 5).trim();
        this.resetTransaction();
        this.sink.reply(v === HELO ? R.helo : this.tls ? R.ehloTls : R.ehlo);
        break;
      case MAIL:
        this.mail(line);
        break;
      case RCPT:
        this.rcpt(line);
        break;
      case DATA:
        this.data(line);
        break;
      case BDAT:
        this.bdat(line);
        break;
      case RSET:
        // RFC 5321 §4.1.1.5: `rset = "RSET" CRLF`; it resets only when it is well formed.
        if (!onlyTrailingSpace(line, 4)) this.sink.reply(R.noParameters);
        else {
          this.resetTransaction();
          this.sink.reply(R.ok);
        }
        break;
      case NOOP:
        this.sink.reply(R.ok);
        break;
      case QUIT:
        // RFC 5321 §4.1.1.10: `quit = "QUIT" CRLF`.
        if (!onlyTrailingSpace(line, 4)) this.sink.reply(R.noParameters);
        else {
          this.sink.reply(R.quit);
          this.sink.close();
        }
        break;
      case VRFY:
        // RFC 5321 §4.1.2: invalid character codes get 501 (UTF-8 may come with RFC 6531 §3.1's SMTPUTF8 parameter).
        this.sink.reply(printableArgument(line, true) ? vrfyReply(this.ctx, line) : R.syntax);
        break;
      case EXPN:
        this.sink.reply(printableArgument(line, true) ? expnReply(this.ctx, line) : R.syntax);
        break;
      case SEND:
      case SOML:
      case SAML:
        // RFC 821 §4.1.1: the same syntax as MAIL; with the `mail` policy they open a transaction like it.
        if (this.ctx.settings.legacySend === 'mail') this.mail(line);
        else this.sink.reply(R.notImplemented);
        break;
      case ATRN:
        // RFC 2645 §4: ODMR needs an authenticated client; we queue nothing, so the answer is 453.
        if (this.ctx.settings.atrn === 'refuse') this.sink.reply(R.notImplemented);
        else if (this.inTransaction) this.sink.reply(R.badSequence);
        else this.sink.reply(this.authUser === null ? R.authRequired : R.atrnNothingQueued);
        break;
      case HELP:
        this.sink.reply(R.help);
        break;
      case AUTH:
        this.auth(line);
        break;
      case STARTTLS:
        this.starttls(line);
        break;
      case XCLIENT:
        this.xclient(line);
        break;
      case TURN:
        // RFC 5321 Appendix F.1: TURN would hand queued mail to an unauthenticated peer. Never run.
        this.sink.reply(R.notImplemented);
        break;
      default:
        this.sink.reply(R.unknown);
    }
    return info;
  }

  /**
   * `MAIL FROM:<reverse-path> [SP mail-parameters]` (RFC 5321 §4.1.1.2, §4.1.2; the grammar is in
   * protocol/address.ts): the path first, then the parameters (RFC 1870 SIZE, RFC 6152 BODY,
   * RFC 6531 SMTPUTF8, RFC 4954 §5 AUTH). UTF-8 in the path needs this line's SMTPUTF8.
   */
  private mail(line: Buffer): void {
    const R = this.ctx.replies;
    const s = this.ctx.settings;
    if (!startsWithCI(line, 5, FROM_COLON)) return this.sink.reply(R.syntax);
    if (!this.greeted) return this.sink.reply(R.needHelo);
    if (this.inTransaction) return this.sink.reply(R.badSequence);
    if (s.auth.required && this.authUser === null) return this.sink.reply(R.authRequired);
    const verdict = scanPath(line, MAIL_PATH_AT, 'reverse', PATH);
    if (verdict === PATH_SYNTAX) return this.sink.reply(line[MAIL_PATH_AT] === SP ? R.senderSpace : R.senderRefusals[verdict]);
    const params = parseEsmtpParams(line, PATH.end);
    if (params === null) return this.sink.reply(R.parameterSyntax);
    const smtputf8 = params.some((p) => p.keyword === 'SMTPUTF8');
    // RFC 6531 §3.3: UTF-8 in an esmtp-value is that extension's grammar only.
    if (!smtputf8 && params.length > 0 && hasNonAscii(line, PATH.end)) return this.sink.reply(R.parameterSyntax);
    // A grammar error anywhere outranks a length error (RFC 5321 §4.5.3.1.9: "501 Path too long").
    if (verdict !== PATH_OK) return this.sink.reply(R.senderRefusals[verdict]);
    // After HELO no extension was offered, so no parameter is recognised (RFC 5321 §2.2.1, §4.1.1.11).
    if (!this.esmtp && params.length > 0) return this.sink.reply(R.badParameter);
    const check = checkMailParameters(params, s.maxMessageSize, s.chunking, this.ctx.authOffered);
    if (check !== 'ok') return this.sink.reply(check === 'syntax' ? R.parameterSyntax : check === 'size-too-big' ? R.sizeDeclaredTooBig : R.badParameter);
    // RFC 6531 §3.5: a UTF-8 reverse-path without SMTPUTF8 gets 550 5.6.7.
    if (!smtputf8 && PATH.nonAscii) return this.sink.reply(R.senderNeedsUtf8);
    this.inTransaction = true;
    this.smtputf8 = smtputf8;
    this.binarymime = params.some((p) => p.keyword === 'BODY' && p.value?.toUpperCase() === 'BINARYMIME');
    this.recipients = 0;
    this.sink.reply(R.mailOk);
  }

  /**
   * `RCPT TO:<forward-path> [SP rcpt-parameters]` (RFC 5321 §4.1.1.3, §4.1.2), `<Postmaster>`
   * included. This server offers no RCPT parameter (DSN's NOTIFY and ORCPT are not advertised), so
   * any well-formed one is 555 (§4.1.1.11). The common line, a path and nothing after it, allocates
   * nothing.
   */
  private rcpt(line: Buffer): void {
    const R = this.ctx.replies;
    if (!startsWithCI(line, 5, TO_COLON)) return this.sink.reply(R.syntax);
    if (!this.inTransaction) return this.sink.reply(R.badSequence);
    const verdict = scanPath(line, RCPT_PATH_AT, 'forward', PATH);
    if (verdict === PATH_SYNTAX) return this.sink.reply(line[RCPT_PATH_AT] === SP ? R.recipientSpace : R.recipientRefusals[verdict]);
    let hasParams = false;
    if (PATH.end !== line.length) {
      const params = parseEsmtpParams(line, PATH.end);
      if (params === null || (!this.smtputf8 && hasNonAscii(line, PATH.end))) return this.sink.reply(R.parameterSyntax);
      hasParams = params.length > 0;
    }
    // A grammar error anywhere outranks a length error; a parameter (none is offered) comes after both.
    if (verdict !== PATH_OK) return this.sink.reply(R.recipientRefusals[verdict]);
    if (hasParams) return this.sink.reply(R.badParameter);
    if (PATH.nonAscii && !this.smtputf8) return this.sink.reply(R.recipientNeedsUtf8);
    // Forced outcomes: one length test before any octet is compared (4, 8 or 10 octets).
    const n = PATH.localEnd - PATH.localStart;
    if (n <= 10 && ((FORCED_LENGTHS >>> n) & 1) === 1 && FORCED_FIRST[line[PATH.localStart]] === 1 && this.ctx.settings.forced !== null) {
      const d = this.outcomes.forced(line, PATH, this.recipients);
      if (d !== null) return this.answerRcpt(d);
    }
    if (this.ctx.domains.active) return this.answerRcpt(this.outcomes.policy(line, PATH, this.recipients));
    if (this.ctx.refusedLocalParts.length > 0 && this.outcomes.refusedMailbox(line, PATH)) return this.sink.reply(R.mailboxUnavailable);
    if (this.recipients >= this.ctx.settings.maxRecipients) return this.sink.reply(R.tooManyRecipients);
    this.recipients++;
    this.sink.reply(R.rcptOk);
  }

  /** Sends a decided RCPT reply (`RecipientOutcomes`): an accepted recipient counts; a 421 from a pool closes (RFC 5321 §3.8). */
  private answerRcpt(d: RcptDecision): void {
    const r = d.reply;
    if (r === null) return this.sink.close();
    if (r === this.ctx.replies.rcptOk) this.recipients++;
    this.sink.reply(r);
    if (d.delayMs > 0) this.sink.delay(d.delayMs);
    if (closesSession(r)) this.sink.close();
  }

  /** `DATA` (RFC 5321 §4.1.1.4): 354, then the stream until `<CRLF>.<CRLF>`. */
  private data(line: Buffer): void {
    const R = this.ctx.replies;
    // RFC 5321 §4.1.1.4: `data = "DATA" CRLF`.
    if (!onlyTrailingSpace(line, 4)) return this.sink.reply(R.noParameters);
    // RFC 3030 §3: DATA may not follow BDAT in one transaction, nor a MAIL with BODY=BINARYMIME.
    if (!this.inTransaction || this.bdatActive || this.binarymime) return this.sink.reply(R.badSequence);
    if (this.recipients === 0) return this.sink.reply(R.noValidRecipients);
    this.sink.reply(R.dataGo);
    this.sink.startData();
    this.stream.beginData();
  }

  /** DATA's terminator was read. */
  endOfData(): void {
    this.finishMessage(this.stream.bytes - 3); // the final ".<CRLF>" is not message content
  }

  /** The message's final reply (`MessageStream.finish`), with any end-of-data policy outcome; the transaction ends. */
  private finishMessage(bytes: number): void {
    if (!this.outcomes.pending) this.stream.finish(bytes, this.recipients, null);
    else if (this.ctx.settings.lmtp) {
      const { refusals, latencyMs } = this.outcomes.endOutcomeEach(this.recipients);
      this.stream.finish(bytes, this.recipients, null, refusals);
      if (latencyMs > 0) this.sink.delay(latencyMs);
    } else {
      const { refusal, latencyMs } = this.outcomes.endOutcome();
      this.stream.finish(bytes, this.recipients, refusal);
      if (latencyMs > 0) this.sink.delay(latencyMs);
    }
    this.resetTransaction();
  }

  /**
   * `BDAT chunk-size [SP LAST]` (RFC 3030 §2). The reply waits until the chunk has been read, and
   * a refused chunk is read and thrown away all the same: its octets are never commands.
   */
  private bdat(line: Buffer): void {
    const R = this.ctx.replies;
    if (!this.ctx.settings.chunking) return this.sink.reply(R.notImplemented);
    const args = parseBdatArgs(line);
    if (args === null) {
      // Malformed, but with a size the client meant (`BDAT 5 LAST extra`): 501, the transaction
      // fails, and the chunk's octets are skipped, never read as commands. Without any size nobody
      // knows where the chunk ends: 501, and what follows is read as commands.
      const meant = bdatSizeLenient(line);
      if (meant === null) return this.sink.reply(R.syntax);
      this.stream.beginChunk(meant, false, R.syntax, false);
      if (meant === 0) this.endOfChunk();
      else this.sink.startBdat();
      return;
    }
    const { size, last } = args;
    let refusal: Buffer | null = null;
    if (this.ctx.faults.active) {
      if (this.ctx.faults.disconnectNow(F_BDAT)) return this.drop();
      const o = this.ctx.faults.override(F_BDAT);
      if (o !== undefined) {
        this.ctx.metrics.counters.faults++;
        if (o.close) {
          this.sink.reply(o.reply);
          this.sink.close();
          return;
        }
        refusal = o.reply;
      }
    }
    if (refusal === null) {
      // BDAT is CHUNKING's, offered after EHLO only (RFC 3030 §2); its octets are read all the same.
      if (!this.esmtp && this.greeted) refusal = R.needEhlo;
      else if (!this.inTransaction) refusal = R.badSequence;
      else if (this.recipients === 0) refusal = R.noValidRecipients;
    }
    const start = refusal === null && !this.bdatActive;
    if (start) this.bdatActive = true;
    this.stream.beginChunk(size, last, refusal, start);
    if (size === 0) this.endOfChunk();
    else this.sink.startBdat();
  }

  /** The current BDAT chunk has been read: its one reply. */
  endOfChunk(): void {
    this.sink.answering(F_BDAT);
    const refusal = this.stream.takeRefusal();
    if (refusal !== null) {
      // RFC 3030 §2: after a refused chunk the transaction has failed; later chunks get 503. That
      // holds for a refused first chunk too (a fault's 451), which had not started the message:
      // only the refusals that say there is no transaction to fail leave it as it is.
      const R = this.ctx.replies;
      if (this.bdatActive || (this.inTransaction && refusal !== R.badSequence && refusal !== R.noValidRecipients)) this.resetTransaction();
      return this.sink.reply(refusal);
    }
    if (this.stream.overSize()) {
      this.ctx.metrics.counters.messagesRejected++;
      this.resetTransaction();
      return this.sink.reply(this.ctx.replies.sizeTooBig);
    }
    if (this.stream.chunkLast) this.finishMessage(this.stream.bytes);
    else this.sink.reply(this.ctx.replies.chunkOk);
  }

  /** `AUTH mechanism [initial-response]` (RFC 4954 §4). */
  private auth(line: Buffer): void {
    const R = this.ctx.replies;
    const s = this.ctx.settings;
    if (!this.ctx.authOffered) return this.sink.reply(R.notImplemented);
    if (!this.greeted) return this.sink.reply(R.needHelo);
    if (!this.esmtp) return this.sink.reply(R.needEhlo);
    // RFC 4954 §4: no AUTH after a successful one, nor inside a transaction.
    if (this.authUser !== null) return this.sink.reply(R.alreadyAuthenticated);
    if (this.inTransaction) return this.sink.reply(R.badSequence);
    const args = parseAuthArgs(line);
    if (args === null) return this.sink.reply(R.syntax);
    const mech = s.auth.mechanisms.find((mm) => mm === args.mechanism.toUpperCase());
    if (mech === undefined) return this.sink.reply(R.unknownMechanism);
    const sasl = new SaslExchange(mech, this.ctx.replies, s);
    if (args.initial === null) {
      this.sasl = sasl;
      return this.sink.reply(sasl.begin());
    }
    // CRAM-MD5 has no initial response: the server speaks first (RFC 2195).
    if (mech === 'CRAM-MD5') return this.sink.reply(R.syntax);
    this.sasl = sasl;
    this.saslResponse(args.initial, true);
  }

  /** One client line of the SASL exchange in progress (`initial`: AUTH's initial response). */
  private saslResponse(text: string, initial = false): void {
    const sasl = this.sasl!;
    const reply = sasl.respond(text, initial);
    if (sasl.state !== 'continue') {
      this.sasl = null;
      if (sasl.state === 'failed') this.ctx.metrics.counters.authFailures++;
      else if (sasl.state === 'ok') {
        this.authUser = sasl.user;
        this.session.authUser = sasl.user;
      }
    }
    this.sink.reply(reply);
  }

  /**
   * `XCLIENT attr=value …` (Postfix XCLIENT_README): overrides the client identity for the rest of
   * the session, which starts over with a fresh 220 greeting (the client must EHLO again). Values
   * are xtext (RFC 3461 §4: `+XX` hex escapes). Refused inside a transaction (503), with an
   * unknown attribute (501), and when switched off (502, not advertised).
   */
  private xclient(line: Buffer): void {
    const R = this.ctx.replies;
    if (!this.ctx.settings.xclient) return this.sink.reply(R.notImplemented);
    if (this.inTransaction) return this.sink.reply(R.badSequence);
    const given = parseXclientArgs(line);
    if (given === null) return this.sink.reply(R.syntax);
    const attrs: Record<string, string> = { ...this.session.xclient, ...given };
    this.session.xclient = attrs;
    if (attrs.HELO !== undefined) this.session.helo = attrs.HELO;
    this.greeted = false;
    this.authUser = attrs.LOGIN !== undefined && attrs.LOGIN !== '[UNAVAILABLE]' ? attrs.LOGIN : null;
    this.session.authUser = this.authUser;
    this.resetTransaction();
    this.sink.reply(R.greeting);
  }

  /** `STARTTLS` (RFC 3207 §4): 220, then the handshake once the 220 is written. */
  private starttls(line: Buffer): void {
    const R = this.ctx.replies;
    if (this.ctx.secureContext === null) return this.sink.reply(R.notImplemented);
    // RFC 3207 §4: `STARTTLS` takes no parameters.
    if (!onlyTrailingSpace(line, 8)) return this.sink.reply(R.noParameters);
    if (this.tls) return this.sink.reply(R.tlsActive);
    if (this.greeted && !this.esmtp) return this.sink.reply(R.needEhlo);
    this.sink.reply(R.tlsGo);
    this.sink.startTls();
  }

  private resetTransaction(): void {
    this.inTransaction = false;
    this.smtputf8 = false;
    this.binarymime = false;
    this.recipients = 0;
    this.bdatActive = false;
    this.outcomes.reset();
  }
}
