/**
 * What each phase and error kind means, in one sentence each, for report.html's glossary and its
 * errors table: the README's "What is measured" (client phases, error kinds) and "Self-measurement"
 * (the reference server's histograms), so a reader of a report needs no other document.
 */
import { PHASES } from '../metrics/phases.js';

/** Each client phase: from → to (README, "What is measured"). Composites last. */
const CLIENT: Readonly<Record<string, string>> = {
  connect: 'connect() called → TCP connected',
  tls: 'STARTTLS written (implicit TLS: TCP connected) → TLS handshake complete',
  greeting: 'connected (implicit TLS: handshake complete) → the 220 greeting parsed',
  ehlo: 'EHLO written (or the HELO fallback after 500/502, or LHLO) → its reply; again after STARTTLS',
  auth: 'AUTH written → 235, every 334 round trip included',
  mail: 'the write of the batch holding MAIL → the MAIL reply (with PIPELINING, [RSET] MAIL RCPT… DATA go out in one write)',
  rcpt: "the write of the batch holding RCPT → that RCPT's reply (one value per recipient)",
  data: 'the write of the batch holding DATA → the 354 go-ahead',
  body: 'last message octet handed to the kernel → the end-of-data reply (LMTP: one value per recipient reply)',
  bdat: "the write of the batch → each BDAT chunk's reply (RFC 3030)",
  rset: 'RSET written → its reply',
  quit: 'QUIT written → the 221 reply',
  service: 'first envelope octet written → the end-of-data reply: the uncorrected service time',
  session: 'connect() called → connection closed after the 221',
};

/** The transaction phase, which depends on the load model (DESIGN §3 rules 3 and 4). */
const TRANSACTION = {
  open: "the message's intended start (its place in the arrival schedule) → the end-of-data reply: includes any wait for a free session (coordinated omission corrected)",
  closed: 'first envelope octet written → the end-of-data reply (closed model: the same as service)',
};

/** The reference server's own histograms (README, "Self-measurement"). */
const SERVER: Readonly<Record<string, string>> = {
  'data-stream': '354 sent (or the first BDAT read) → the end of the message seen',
  delivery: "the X-Smtpbench-Sent header time (the sender's wall clock) → the message accepted: send-to-arrival time",
};

/** A reference server command's histogram: `cmd.<verb>` for `verb` (`MAIL`), or any command without one. */
export function serverCommandMeaning(verb?: string): string {
  return `server: ${verb ? `the ${verb}` : 'each'} command line parsed → its reply queued (processing time; injected fault delays excluded)`;
}

/**
 * What phase `name` measures, from → to: a client phase (`rcpt`, `transaction`, a scenario step
 * such as `vrfy`), or a reference server histogram (`cmd.mail`, `data-stream`, `delivery`).
 * `model` picks the meaning of `transaction`. Null for a name smtpbench does not record.
 */
export function phaseMeaning(name: string, model: 'open' | 'closed'): string | null {
  if (name === 'transaction') return TRANSACTION[model];
  if (CLIENT[name] !== undefined) return CLIENT[name];
  if (SERVER[name] !== undefined) return `server: ${SERVER[name]}`;
  if (name.startsWith('cmd.')) return serverCommandMeaning(name.slice(4).toUpperCase());
  if ((PHASES as readonly string[]).includes(name)) return `${name.toUpperCase()} written → its reply (a scenario step)`;
  return null;
}

/** The steps a `<step>-timeout` or `<step>-closed` names (README, "Other error kinds"). */
const STEP_WORDS: Readonly<Record<string, string>> = {
  greeting: 'the 220 greeting',
  ehlo: 'the EHLO reply',
  tls: 'the TLS handshake',
  mail: 'the MAIL reply',
  rcpt: 'a RCPT reply',
  data: 'the 354 reply to DATA',
  body: 'the end-of-data reply',
  bdat: 'a BDAT reply',
  rset: 'the RSET reply',
  quit: 'the 221 reply to QUIT',
  waiting: 'the next message (connected and idle)',
};

/** Error kinds with a fixed name (README, "What is measured" and "TLS"). */
const KINDS: Readonly<Record<string, string>> = {
  'socket-reset': 'the connection was reset (ECONNRESET or EPIPE)',
  'socket-error': 'another socket error',
  'connect-refused': 'TCP connection refused: nothing listens on the target port',
  'connect-failed': 'TCP connection failed (unreachable, timed out…)',
  'greeting-refused': 'the server refused the session in its greeting (4xx/5xx instead of 220)',
  'ehlo-refused': 'the server refused EHLO',
  'helo-refused': 'the server refused HELO (after EHLO was not understood)',
  'starttls-refused': 'the server refused STARTTLS',
  'starttls-unavailable': 'the profile asked for STARTTLS and the server does not offer it',
  'tls-verify': "the server's certificate is not trusted or names another host",
  'tls-handshake': 'the TLS handshake failed',
  'auth-unavailable': 'the profile asked for AUTH and the server does not offer the mechanism',
  'auth-failed': 'the server refused the credentials',
  'chunking-unavailable': 'the profile asked for BDAT and the server does not offer CHUNKING',
  'xclient-unavailable': 'the profile asked for XCLIENT and the server does not offer it',
  'xclient-refused': 'the server refused XCLIENT',
  'proxy-refused': 'the server closed the connection after the PROXY header',
  'size-exceeded': "the message is larger than the server's SIZE limit: not sent (RFC 1870)",
  '8bitmime-unavailable': 'the message needs 8BITMIME and the server does not offer it',
  'smtputf8-unavailable': 'the message needs SMTPUTF8 and the server does not offer it',
  'turn-accepted': 'the server accepted TURN (the roles would reverse): the session ends',
  'atrn-accepted': 'the server accepted ATRN (the roles would reverse): the session ends',
  'bad-reply': 'a malformed reply, or one of the wrong class for its command: the connection is closed',
  'unexpected-reply': 'a reply arrived while the session was idle',
  'ready-421': 'the server sent 421 (closing) while the session was idle',
  aborted: 'in flight when the run stopped (after its graceful-stop time): dropped',
};

/**
 * What error kind `kind` means, in one sentence: a fixed kind, `<step>-timeout`, `<step>-closed`
 * or `<phase>-421`. Kinds this version does not know are named as such.
 */
export function errorKindMeaning(kind: string): string {
  if (KINDS[kind] !== undefined) return KINDS[kind];
  const m = /^(.+)-(timeout|closed|421)$/.exec(kind);
  if (m) {
    const what = STEP_WORDS[m[1]] ?? `the ${m[1]} step's reply`;
    if (m[2] === 'timeout') return `no reply within the timeout while waiting for ${what}: the connection is closed`;
    if (m[2] === 'closed') return `the server closed the connection while the client waited for ${what}`;
    return `the server answered ${m[1].toUpperCase()} with 421 (closing the session, RFC 5321 §3.8)`;
  }
  return 'an error kind this smtpbench does not describe (README, "What is measured", "Other error kinds")';
}
