/**
 * The single source of profile defaults (house style §1; after tinypool's `Options` →
 * `FilledOptions`). `resolveProfile()` fills every key the profile and the flags leave out
 * from here, and nothing else in the code base restates a default.
 */

import { availableParallelism } from 'node:os';
import { MAX_WORKERS } from './limits.js';
import type { Profile } from './types.js';

/**
 * The default number of load workers: one per core the process may use, one fewer (at least one)
 * when the target runs on this machine (`DEFAULTS.workers`, the embedded server being the default): the embedded reference server's own
 * thread, or an MTA on loopback. Workers and the target then share the cores, and a worker more
 * than the cores left only takes turns with the server it loads: on two cores, 100,000 messages on
 * 20 sessions into the embedded server ran at 35,000–45,000 msg/s with one worker and
 * 31,000–34,000 with two, with less CPU (issue 14).
 * @param localTarget the target is the embedded server or a loopback address
 */
export function defaultWorkers(localTarget: boolean): number {
  return localTarget ? Math.max(1, CORES - 1) : CORES;
}

/** The cores the process may use, capped so a large host still passes validation. */
const CORES = Math.min(availableParallelism(), MAX_WORKERS);

/**
 * Every default, in resolved units (bytes, milliseconds). `messages` is the default only
 * when neither `messages` nor `duration` is given; with `duration` alone it becomes null.
 */
export const DEFAULTS: Profile = deepFreeze({
  target: null, // the embedded reference server
  // The default target is the embedded server, which shares the machine (`defaultWorkers`).
  workers: defaultWorkers(true),
  executor: 'closed',
  sessions: 20,
  messagesPerSession: 100,
  messages: 10_000,
  durationMs: null,
  warmupMs: 0,
  rate: null,
  startRate: 0,
  startSessions: 0,
  stages: [],
  maxSessions: 100,
  gracefulStopMs: 10_000,
  // 1 KiB; BDAT chunks of 64 KiB.
  message: {
    sizeBytes: 1024,
    sizeDist: null,
    recipients: 1,
    recipientsDist: null,
    maxRecipientsPerTransaction: null,
    body: 'data',
    chunkBytes: 65_536,
    text: 'ascii',
    replay: null,
    attachmentBytes: null,
  },
  envelope: { from: 'bench@example.test', to: 'rcpt{n}@example.test', domains: null, helo: 'smtpbench.example.test' },
  pipelining: 'auto',
  scenario: null,
  tls: { starttls: 'off', verify: true, ca: null, resume: false },
  auth: null,
  identity: { sourceIp: null, clientAddress: null, proxy: 'off', xclient: false },
  allowRealRecipients: false,
  timeouts: { connectMs: 5_000, greetingMs: 10_000, replyMs: 30_000, bodyMs: 60_000 },
  // 100 MiB SIZE limit; 1,000,000 recipients keeps 452 out of the way unless a profile asks for it.
  server: {
    maxRecipients: 1_000_000,
    maxMessageSize: 104_857_600,
    hostname: 'smtpbench.invalid',
    faults: [],
    maxConnections: 10_000,
    maxCommandLine: 4096, // RFC 5321 requires 512; 4096 leaves room for long parameter lists
    maxTextLine: 1000, // RFC 5321 §4.5.3.1.6, CRLF included; 0: not checked
    maxErrors: 100,
    timeouts: { idleMs: 300_000, commandMs: 300_000 }, // RFC 5321 §4.5.3.2.7: 5 minutes
    refusedLocalParts: [],
    chunking: true,
    auth: { users: {}, required: false, mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] },
    tls: { starttls: true, certFile: null, keyFile: null, port: null },
    vrfy: [],
    expn: {},
    legacySend: 'refuse',
    atrn: 'refuse',
    lmtp: false,
    xclient: false,
    proxyProtocol: 'off',
    sessionLog: 1000,
    capture: 0,
    domains: [],
    countDomains: false,
    forced: { slowMs: 2000 },
    bandwidth: 0,
    maxConnectionsPerClient: 0,
    seed: null,
  },
  seed: 1,
  thresholds: [],
  percentiles: [50, 90, 99, 99.9],
} satisfies Profile);

/** Freezes `value` and every object reachable from it; returns the same reference. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
