/**
 * What each phase and error kind means, in one sentence each, for report.html's glossary and its
 * errors table: docs/results.md "What is measured" (client phases), docs/reference-server.md "Self-measurement" (the reference
 * server's histograms) and the error-kind registry (src/error-kinds.ts), so a reader of a report
 * needs no other document.
 */
import { ERROR_KINDS, isErrorKind } from '../error-kinds.js';
import { PHASES } from '../metrics/phases.js';

/** Each client phase: from → to (docs/results.md "What is measured"). Composites last. */
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
  censored: 'a message still in flight when the run was cut (the graceful stop ran out): its intended start → the cut, a lower bound of its transaction time',
  session: 'connect() called → connection closed after the 221',
};

/** The transaction phase, which depends on the load model (DESIGN §3 rules 3 and 4). */
const TRANSACTION = {
  open: "the message's intended start (its place in the arrival schedule) → the end-of-data reply: includes any wait for a free session (coordinated omission corrected)",
  closed: 'first envelope octet written → the end-of-data reply (closed model: the same as service)',
};

/** The reference server's own histograms (docs/reference-server.md "Self-measurement"). */
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

/**
 * What error kind `kind` means, in one sentence: the registry's (src/error-kinds.ts, listed in
 * docs/error-kinds.md). A kind this version does not count (a summary of another version) is
 * named as such.
 */
export function errorKindMeaning(kind: string): string {
  return isErrorKind(kind) ? ERROR_KINDS.get(kind)! : 'an error kind this version of smtpbench does not count (docs/error-kinds.md lists those it does)';
}
