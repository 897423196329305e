/**
 * Every error kind `summary.json`'s `errors` can count, with its meaning: the one registry that
 * the recorder's type, report.html's glossary and docs/error-kinds.md come from (a test checks the
 * doc lists exactly these). Kinds are a public contract, like `ErrorCode`s: add, never rename.
 *
 * A kind is a fixed name (`connect-refused`) or a family over a step: `<step>-timeout`,
 * `<step>-closed`, `<step>-421`. Steps are the names reports use for what a session was doing,
 * not the session's internal states, so renaming a state cannot rename a reported kind (undici's
 * lesson: the code is the contract, `UND_ERR_HEADERS_TIMEOUT` is a constant, not a template).
 */

/** Steps of a session outside a transaction's commands, as error kinds name them. */
export const SESSION_STEPS = ['connecting', 'tls', 'greeting', 'proxy-check', 'ehlo', 'helo', 'xclient', 'starttls', 'auth', 'envelope', 'waiting', 'quit', 'closing'] as const;

/**
 * The commands of a transaction and the scenario steps, named as their phases (src/metrics/phases.ts;
 * the session records a command's latency under its step, so the compiler keeps the two lists in step).
 */
export const COMMAND_STEPS = ['rset', 'mail', 'rcpt', 'data', 'body', 'bdat', 'vrfy', 'expn', 'help', 'noop', 'send', 'soml', 'saml', 'turn', 'atrn'] as const;

export type SessionStep = (typeof SESSION_STEPS)[number];
export type CommandStep = (typeof COMMAND_STEPS)[number];
/** What a session was doing or waiting for when an error ended its connection. */
export type Step = SessionStep | CommandStep;

/** Steps a deadline can be armed in: none is while connected and idle (`waiting`). */
export type TimeoutStep = Exclude<Step, 'waiting'>;
const canTimeOut = (s: Step): s is TimeoutStep => s !== 'waiting';
/**
 * Steps an unplanned close is counted in: not `closing` (the close the session asked for), not
 * `proxy-check` (a close there is the server refusing the PROXY header: `proxy-refused`).
 */
export type ClosedStep = Exclude<Step, 'closing' | 'proxy-check'>;
const canClose = (s: Step): s is ClosedStep => s !== 'closing' && s !== 'proxy-check';
/**
 * Where a 421 (the server closing the channel, RFC 5321 §3.8) is counted as `<step>-421`: a
 * command in flight, or none (`ready`: between transactions; `waiting`: idle for the next message;
 * `closing`: after QUIT's reply; `tls`: in the same read as the 220 to STARTTLS). A 421 to the
 * greeting, EHLO, HELO, XCLIENT, STARTTLS or AUTH is that step's refusal (`greeting-refused`…).
 */
export type Reply421Step = CommandStep | 'ready' | 'tls' | 'waiting' | 'closing';

/** The kinds with a fixed name, and what each means. */
const FIXED = {
  'connect-refused': 'TCP connection refused: nothing listens on the target port',
  'connect-failed': 'TCP connection failed (unreachable, timed out…)',
  'socket-reset': 'the connection was reset (ECONNRESET or EPIPE)',
  'socket-error': 'another socket error',
  'tls-verify': "the server's certificate is not trusted or names another host",
  'tls-handshake': 'the TLS handshake failed',
  'proxy-refused': 'the server closed the connection after the PROXY header, or answered the check after it with other than 2xx',
  'greeting-refused': 'the server refused the session in its greeting (4xx/5xx instead of 220)',
  'ehlo-refused': 'the server refused EHLO (LHLO)',
  'helo-refused': 'the server refused HELO (after EHLO was not understood)',
  'xclient-unavailable': 'the profile asked for XCLIENT and the server does not offer it',
  'xclient-refused': 'the server refused XCLIENT',
  'starttls-unavailable': 'the profile asked for STARTTLS and the server does not offer it',
  'starttls-refused': 'the server refused STARTTLS',
  'auth-unavailable': 'the profile asked for AUTH and the server does not offer the mechanism',
  'auth-failed': 'the server refused the credentials',
  'chunking-unavailable': 'the profile asked for BDAT and the server does not offer CHUNKING',
  'size-exceeded': "the message is larger than the server's SIZE limit: not sent (RFC 1870)",
  '8bitmime-unavailable': 'the message needs 8BITMIME and the server does not offer it: not sent (RFC 6152)',
  'smtputf8-unavailable': 'the message needs SMTPUTF8 and the server does not offer it: not sent (RFC 6531)',
  'turn-accepted': 'the server accepted TURN (the roles would reverse, RFC 821): the session ends',
  'atrn-accepted': 'the server accepted ATRN (the roles would reverse, RFC 2645): the session ends',
  'bad-reply': 'a malformed reply, or one of the wrong class for its command: the connection is closed',
  'unexpected-reply': 'a reply nobody asked for: while the session was idle, or after the reply to QUIT',
  aborted: 'in flight when the run stopped (after its graceful-stop time): dropped',
} as const;

export type FixedErrorKind = keyof typeof FIXED;

/** Every error kind the client counts. `Recorder.error()` takes nothing else. */
export type ErrorKind = FixedErrorKind | `${TimeoutStep}-timeout` | `${ClosedStep}-closed` | `${Reply421Step}-421`;

/** No reply (or handshake, or close) within the step's timeout: the client closes the connection. */
export const timeoutKind = (step: TimeoutStep): ErrorKind => `${step}-timeout`;
/** The server closed the connection while the client was at `step`. */
export const closedKind = (step: ClosedStep): ErrorKind => `${step}-closed`;
/** The server sent 421 (closing the channel, RFC 5321 §3.8) at `step`. */
export const reply421Kind = (step: Reply421Step): ErrorKind => `${step}-421`;

/** What the client waited for at each step, for the meanings of `<step>-timeout` and `<step>-closed`. */
const AWAITED: Readonly<Record<Step, string>> = {
  connecting: 'the TCP connection to open',
  tls: 'the TLS handshake',
  greeting: 'the 220 greeting',
  'proxy-check': 'the reply to the NOOP that checks the server took the PROXY header',
  ehlo: 'the EHLO (LHLO) reply',
  helo: 'the HELO reply',
  xclient: 'the XCLIENT reply',
  starttls: 'the reply to STARTTLS',
  auth: 'an AUTH reply',
  envelope: 'the next command of a transaction, with nothing in flight',
  waiting: 'the next message (connected and idle)',
  quit: 'the 221 reply to QUIT',
  closing: "the server's close after its 221 (or its 421)",
  rset: 'the RSET reply',
  mail: 'the MAIL reply',
  rcpt: 'a RCPT reply',
  data: 'the 354 reply to DATA',
  body: 'the end-of-data reply',
  bdat: 'a BDAT reply',
  vrfy: 'the VRFY reply',
  expn: 'the EXPN reply',
  help: 'the HELP reply',
  noop: 'the NOOP reply',
  send: 'the SEND reply',
  soml: 'the SOML reply',
  saml: 'the SAML reply',
  turn: 'the TURN reply',
  atrn: 'the ATRN reply',
};

/** Timeouts that read better in words of their own than in the family's sentence. */
const TIMEOUT_WORDS: Partial<Record<TimeoutStep, string>> = {
  connecting: 'the TCP connection did not open within the connect timeout',
  tls: 'the TLS handshake did not finish within the connect timeout: the connection is closed',
  envelope: 'the deadline passed inside a transaction with nothing in flight: the connection is closed',
  closing:
    'the server did not close the connection after the session ended it: within 1 s (or the reply timeout, if shorter) after the 221 to QUIT, within the reply timeout after a 421; the client dropped it',
};

/** Closes that read better in words of their own than in the family's sentence. */
const CLOSED_WORDS: Partial<Record<ClosedStep, string>> = {
  connecting: 'the connection closed while it was being opened, without a socket error',
  waiting: 'the server closed an idle connection while the client waited for its next message (an event rather than a failure)',
};

/** What a 421 at each step answered. */
const REPLY_421_WORDS: Readonly<Record<Reply421Step, string>> = {
  ...(Object.fromEntries(COMMAND_STEPS.map((s) => [s, `the server answered ${s.toUpperCase()} with 421 (closing the session, RFC 5321 §3.8)`])) as Record<CommandStep, string>),
  body: 'the server answered the end of data with 421 (closing the session, RFC 5321 §3.8)',
  ready: 'the server sent 421 (closing) while the session was idle between transactions',
  waiting: 'the server sent 421 (closing) to an idle connection waiting for its next message (RFC 5321 §3.8)',
  closing: 'the server sent 421 after its reply to QUIT',
  tls: 'the server sent 421 in the same read as its 220 to STARTTLS, before the TLS handshake',
};

const STEPS: readonly Step[] = [...SESSION_STEPS, ...COMMAND_STEPS];
const REPLY_421_STEPS = Object.keys(REPLY_421_WORDS) as Reply421Step[];

/**
 * Every error kind with its meaning, one sentence each: the fixed kinds, then `<step>-timeout`,
 * `<step>-closed` and `<step>-421` in step order. Built from the same lists as `ErrorKind`, so
 * every kind a builder returns is here.
 */
export const ERROR_KINDS: ReadonlyMap<ErrorKind, string> = new Map<ErrorKind, string>([
  ...(Object.entries(FIXED) as [FixedErrorKind, string][]),
  ...STEPS.filter(canTimeOut).map((s): [ErrorKind, string] => [timeoutKind(s), TIMEOUT_WORDS[s] ?? `no reply within the timeout while waiting for ${AWAITED[s]}: the connection is closed`]),
  ...STEPS.filter(canClose).map((s): [ErrorKind, string] => [closedKind(s), CLOSED_WORDS[s] ?? `the server closed the connection while the client waited for ${AWAITED[s]}`]),
  ...REPLY_421_STEPS.map((s): [ErrorKind, string] => [reply421Kind(s), REPLY_421_WORDS[s]]),
]);

/** True when `kind` is one this version counts (summaries from other versions may hold others). */
export function isErrorKind(kind: string): kind is ErrorKind {
  return ERROR_KINDS.has(kind as ErrorKind);
}
