import { lowerVerb, STEP_VERBS, type StepVerb } from '../protocol/verbs.js';

/** The phases of scenario steps besides RSET (a transaction phase too): each step's verb in lower case, in `STEP_VERBS` order. */
const STEP_PHASES = STEP_VERBS.filter((v): v is Exclude<StepVerb, 'RSET'> => v !== 'RSET').map(lowerVerb);

/**
 * Phase names (DESIGN §3 rule 2). Each phase has its own histogram; latencies are integer µs.
 * With pipelining a command's latency runs from the write of its batch to the parse of its own reply.
 */
export const PHASES = [
  'connect', // net.connect() → 'connect' event (TCP handshake)
  'tls', // STARTTLS written (implicit TLS: TCP connected) → TLS handshake complete
  'greeting', // TCP connected (implicit TLS: handshake complete) → 220 parsed
  'ehlo', // EHLO (or HELO fallback, LHLO) written → its reply
  'auth', // AUTH written → 235, every 334 round trip included
  'mail', // batch written → MAIL reply
  'rcpt', // batch written → each RCPT reply (one value per recipient)
  'data', // batch written → DATA reply (the 354)
  'body', // last body octet handed to the kernel → end-of-data reply (LMTP: each recipient's)
  'bdat', // batch written → each BDAT chunk's reply
  'rset',
  'quit',
  // Scenario steps (src/client/steps.ts): command written → its reply. vrfy, expn, help, noop, send, soml, saml, turn, atrn.
  ...STEP_PHASES,
  'transaction', // intended start → end-of-data reply (open model: corrects coordinated omission; closed: = service)
  // Messages in flight when the run was cut (the graceful stop ran out): intended start → the cut,
  // a lower bound of their transaction time, so a stalled server cannot hide in a short p99.
  'censored',
  'service', // first envelope octet written → end-of-data reply (uncorrected service time)
  'session', // connect() → socket closed after 221
  // Not measured by the client: `run --sink` fills it from the sink's own histogram (its arrival
  // minus the message's X-Smtpbench-Sent time), so `delivery.p99` is a threshold like any phase.
  'delivery',
] as const;

export type Phase = (typeof PHASES)[number];
