/**
 * Profile types. `ProfileInput` is what a YAML/JSON file or the CLI flags give (every key
 * optional, units as strings such as `4KiB` or `30s`); `Profile` is the readonly result of
 * `resolveProfile()` with every default filled in and every unit converted:
 * sizes in bytes, times in milliseconds, rates in messages per second.
 */
import type { MetricUnit } from '../metrics/catalog.js';
import type { ClientMechanism, ServerMechanism } from '../protocol/sasl.js';
import type { FaultVerb } from '../protocol/verbs.js';

/**
 * A per-message distribution (sizes in bytes, or recipient counts). `lognormal` draws
 * exp(ln(median) + sigma·N(0,1)) clamped to [min, max]; `empirical` draws the values of a CSV file
 * (`value[,weight]` per line) by weight.
 */
export type Dist =
  | { readonly dist: 'uniform'; readonly min: number; readonly max: number }
  | { readonly dist: 'lognormal'; readonly median: number; readonly sigma: number; readonly min: number; readonly max: number }
  | { readonly dist: 'empirical'; readonly file: string };

/** Where the load goes. `null` in `Profile.target` means the embedded reference server. */
export interface TargetSpec {
  /** `smtp`; `smtps`: implicit TLS (RFC 8314); `lmtp`: LMTP over TCP (RFC 2033). */
  readonly scheme: 'smtp' | 'smtps' | 'lmtp';
  readonly host: string;
  readonly port: number;
}

/**
 * Load model. `closed`: N sessions send back to back (peak throughput; service-time latency).
 * `ramping-sessions`: a closed model whose session count follows `stages` (k6's ramping-vus).
 * `open`: messages start at a constant arrival `rate`; `ramping-rate`: the arrival rate follows
 * `stages` (k6's ramping-arrival-rate). Open-model latency counts from the intended start.
 */
export type Executor = 'closed' | 'open' | 'ramping-rate' | 'ramping-sessions';

/** A ramping stage: over `durationMs` the arrival rate moves linearly to `target` messages/s. */
export interface Stage {
  readonly durationMs: number;
  readonly target: number;
}

/** Per-phase timeouts in milliseconds; a timed-out session is counted and closed, never a crash. */
export interface Timeouts {
  readonly connectMs: number;
  readonly greetingMs: number;
  readonly replyMs: number;
  /** From the last body byte written to the end-of-data reply (RFC 5321 §4.5.3.2.6 suggests 10 min; we use less). */
  readonly bodyMs: number;
}

/**
 * Where a fault applies: the reply to one command (a verb of `FAULT_VERBS`, src/protocol/verbs.ts,
 * in lower case), `connect` (the greeting), `data-end` (the final reply after DATA's
 * `<CRLF>.<CRLF>` or BDAT LAST) or `*` (every reply).
 */
export type FaultCommand = 'connect' | Lowercase<FaultVerb> | 'data-end' | '*';

/** A delay in milliseconds: fixed, uniform in [minMs, maxMs], or lognormal (median and shape σ). */
export type DelaySpec =
  | { readonly dist: 'fixed'; readonly ms: number }
  | { readonly dist: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly dist: 'lognormal'; readonly medianMs: number; readonly sigma: number };

/**
 * One injected fault of the reference server (docs/reference-server.md "Fault injection"). `probability` (0..1)
 * is drawn independently per reply.
 * - `reply`: the command is not run; `code text` is sent instead (4xx/5xx only; 421 then closes).
 * - `delay`: the reply is held back; later replies on the connection wait behind it (order kept).
 * - `disconnect`: the connection is dropped without a reply; with `afterBytes` (command `data`),
 *   once that many message octets of DATA/BDAT have arrived.
 * - `stall`: every reply produced in [atMs, atMs + forMs) after server start is held until the end.
 * - `tarpit`: once a connection has drawn `afterErrors` 4xx/5xx replies, each later reply waits `delayMs`.
 */
export type Fault =
  | { readonly kind: 'reply'; readonly command: FaultCommand; readonly probability: number; readonly code: number; readonly text: string }
  | { readonly kind: 'delay'; readonly command: FaultCommand; readonly probability: number; readonly delay: DelaySpec }
  | { readonly kind: 'disconnect'; readonly command: FaultCommand; readonly probability: number; readonly afterBytes: number | null }
  | { readonly kind: 'stall'; readonly atMs: number; readonly forMs: number }
  | { readonly kind: 'tarpit'; readonly delayMs: number; readonly afterErrors: number };

/** SASL mechanisms of the reference server's AUTH (RFC 4954; RFC 4616 PLAIN, LOGIN, RFC 2195 CRAM-MD5). */
export type AuthMechanism = ServerMechanism;

/** Reference-server settings used when the target is the embedded server. */
export interface ServerSettings {
  /** Recipients per transaction before 452 (RFC 5321 §4.5.3.1.8 requires at least 100). Default 1,000,000. */
  readonly maxRecipients: number;
  /** SIZE limit in bytes advertised in EHLO and enforced (RFC 1870). 0 means no limit. */
  readonly maxMessageSize: number;
  /** Host name in the greeting and EHLO reply. */
  readonly hostname: string;
  /** Injected faults, in profile order (docs/reference-server.md "Fault injection"). Empty by default. */
  readonly faults: readonly Fault[];
  /** Concurrent connections; one more gets 421 and is closed. 0: no limit. */
  readonly maxConnections: number;
  /** Longest command line in octets, CRLF included (RFC 5321 §4.5.3.1.4: at least 512). */
  readonly maxCommandLine: number;
  /** Longest DATA text line in octets, CRLF included (RFC 5321 §4.5.3.1.6: 1000); a message with a longer one gets 554. 0: not checked. */
  readonly maxTextLine: number;
  /** Protocol errors (500, 501, 503, 504) on one connection before 421 and close. 0: no limit. */
  readonly maxErrors: number;
  readonly timeouts: {
    /** No octet received for this long (any state) → 421 and close (RFC 5321 §4.5.3.2.7: 5 min). */
    readonly idleMs: number;
    /** One command line must arrive whole within this long of its first octet → 421 and close. */
    readonly commandMs: number;
  };
  /** Recipient local parts refused with 550 (ASCII case-insensitive); empty: every mailbox is accepted. */
  readonly refusedLocalParts: readonly string[];
  /** Offer CHUNKING and accept BDAT (RFC 3030). */
  readonly chunking: boolean;
  readonly auth: {
    /** Accounts, name → password. None: AUTH is neither offered nor accepted (502). */
    readonly users: Readonly<Record<string, string>>;
    /** MAIL before a successful AUTH gets 530 (RFC 4954 §6). */
    readonly required: boolean;
    readonly mechanisms: readonly AuthMechanism[];
  };
  readonly tls: {
    /** Offer STARTTLS (RFC 3207). */
    readonly starttls: boolean;
    /** PEM files; both null: an ephemeral self-signed certificate made with `openssl` at start-up. */
    readonly certFile: string | null;
    readonly keyFile: string | null;
    /** Port of a second, implicit-TLS listener (RFC 8314), same host; 0: any free port; null: none. */
    readonly port: number | null;
  };
  /** Mailboxes VRFY confirms (250); others get 550. Empty: VRFY answers 252 to everything (RFC 5321 §7.3). */
  readonly vrfy: readonly string[];
  /** Mailing lists EXPN expands (name → members); others get 550. Empty: EXPN is 502 and not advertised. */
  readonly expn: Readonly<Record<string, readonly string[]>>;
  /** SEND, SOML, SAML (RFC 821 §4.1.1): `refuse` (502, not advertised) or `mail` (each acts as MAIL and is advertised). */
  readonly legacySend: 'refuse' | 'mail';
  /** ATRN (RFC 2645): `refuse` (502, not advertised) or `odmr` (advertised; 530 before AUTH, then 453: nothing queued). */
  readonly atrn: 'refuse' | 'odmr';
  /** LMTP (RFC 2033): LHLO instead of HELO/EHLO, and one reply per accepted recipient after the data. */
  readonly lmtp: boolean;
  /** Accept Postfix's XCLIENT (advertised; 220 and a fresh session), so one client can play many. */
  readonly xclient: boolean;
  /** PROXY protocol header expected before the greeting (HAProxy spec): off, v1 (text), v2 (binary), or any. */
  readonly proxyProtocol: 'off' | 'v1' | 'v2' | 'any';
  /** Session records kept (newest first, a ring): peer, PROXY/XCLIENT identity, HELO, TLS, AUTH, messages. */
  readonly sessionLog: number;
  /** Accepted messages kept in memory, dot-unstuffed (a content-capturing sink for tests). 0: content is never kept. */
  readonly capture: number;
  /**
   * Per recipient domain outcome policies (docs/reference-server.md "Realistic sink"), most
   * specific first is found at run time: exact names, `*.suffix` wildcards, `*`. Empty by default.
   */
  readonly domains: readonly DomainPolicy[];
  /** Count RCPT outcomes per recipient domain (`domains` in the statistics). On whenever `domains` is not empty. */
  readonly countDomains: boolean;
  /** Forced outcomes by local part (`tempfail@`, `permfail@`, `slow@`, `disconnect@`); null: off. */
  readonly forced: { readonly slowMs: number } | null;
  /** Bytes per second per connection, for message content read and replies written; 0: no limit. */
  readonly bandwidth: number;
  /** Concurrent connections from one client address (the TCP peer); one more gets 421 4.7.0. 0: no limit. */
  readonly maxConnectionsPerClient: number;
  /** Seed of the server's draws (faults, domain policies): the profile's `seed` when given; null: random. */
  readonly seed: number | null;
}

/**
 * One recipient-domain policy of the reference server (`server.domains`): the shares of RCPTs (or
 * end-of-data replies) deferred and bounced, each reply drawn from a pool, an optional latency and
 * a rate limit. Shares are fractions (0..1, `defer + bounce <= 1`).
 */
export interface DomainPolicy {
  /** `example.test` (exact), `*.example.test` (any subdomain, not the name itself) or `*` (every domain); lower case. */
  readonly pattern: string;
  readonly defer: number;
  readonly bounce: number;
  /** Where the outcome is given: the RCPT reply, or the final reply after the message data. */
  readonly at: 'rcpt' | 'data-end';
  /** Reply pools, each reply `"4xx x.y.z text"` (defer) or `"5xx x.y.z text"` (bounce); never empty. */
  readonly replies: { readonly defer: readonly string[]; readonly bounce: readonly string[] };
  /** Extra time before the reply where the outcome is given, or null. */
  readonly latency: DelaySpec | null;
  /** The policy's rate limits (token buckets, one per count given), or null: no limit. */
  readonly rate: DomainRate | null;
}

/**
 * A domain policy's rate limits, each a token bucket that holds N and refills N per `perMs` (null:
 * not limited), counted over every recipient the policy covers, as a provider limits a sender:
 * - `messages`: transactions with a recipient here (the first such RCPT takes the token; the
 *   transaction's other recipients here share it); over it, its recipients here get 451 4.7.1;
 * - `recipients`: each recipient; over it, 451 4.7.1;
 * - `connections`: sessions with a recipient here (the first such RCPT takes the token); over it,
 *   that RCPT gets 421 4.7.0 and the connection closes (RFC 5321 §3.8).
 */
export interface DomainRate {
  readonly messages: number | null;
  readonly recipients: number | null;
  readonly connections: number | null;
  readonly perMs: number;
}

/** Client identity per connection (connections take the addresses in turn). */
export interface IdentitySettings {
  /** Local addresses to connect from: `127.0.0.2-127.0.0.9`, an address, or a comma list; null: the system's choice. */
  readonly sourceIp: string | null;
  /** Client addresses to announce with PROXY or XCLIENT (same syntax); null: the real one (PROXY) or none. */
  readonly clientAddress: string | null;
  /** PROXY protocol header before the greeting: `off`, `v1` (text), `v2` (binary). */
  readonly proxy: 'off' | 'v1' | 'v2';
  /** Postfix XCLIENT ADDR= (and HELO=) after EHLO; needs `clientAddress`. */
  readonly xclient: boolean;
}

/** TLS settings. Implicit TLS is the `smtps://` target scheme. */
export interface TlsSettings {
  /** `off` (default), `auto` (when offered), `on` (required: a server without STARTTLS is an error). */
  readonly starttls: 'off' | 'auto' | 'on';
  /** Verify the server's certificate and name; false only with an explicit `--insecure`. */
  readonly verify: boolean;
  /** PEM file of extra trusted CA certificates (a test CA), or null. */
  readonly ca: string | null;
  /** Offer the previous TLS session on reconnect (session resumption). */
  readonly resume: boolean;
}

/**
 * AUTH settings. Credentials never come from the profile or argv: from `credentialsFile`
 * (`user:password` lines, one account each; sessions take them in turn), else from the
 * environment variables SMTPBENCH_AUTH_USER and SMTPBENCH_AUTH_PASSWORD.
 */
export interface AuthSettings {
  readonly mechanism: ClientMechanism | 'auto';
  readonly credentialsFile: string | null;
}

/** A comparison operator of a threshold expression (k6's set, without `===`). */
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/**
 * A parsed threshold (k6's pass/fail criterion), e.g. `transaction.p99 < 250ms`: `metric op limit`,
 * the limit converted to the metric's unit. Parsed by `parseThreshold()` (src/profile/thresholds.ts).
 */
export interface Threshold {
  /** The expression as written (the map form: key and expression joined, `transaction.p(99) < 250`). */
  readonly expression: string;
  /** The canonical metric name (`transaction.p99`, `transaction.p999` for p99.9, `errors.rate`). */
  readonly metric: string;
  readonly op: ThresholdOp;
  /** In `unit`: ms for latencies, a 0..1 ratio (`0.1%` → 0.001), per second, a count, or a boolean. */
  readonly limit: number | boolean;
  readonly unit: MetricUnit;
  /** k6's abortOnFail: stop the run as soon as this fails on the running totals (checked once a second). */
  readonly abortOnFail: boolean;
  /** k6's delayAbortEval, ms: abortOnFail is not checked before this much measured time (after warm-up). */
  readonly delayAbortEvalMs: number;
}

/** The resolved, readonly profile. Built only by `resolveProfile()`. */
export interface Profile {
  readonly target: TargetSpec | null;
  /** Worker threads generating load. */
  readonly workers: number;
  readonly executor: Executor;
  /** Concurrent client sessions (connections) across all workers. */
  readonly sessions: number;
  /** Messages sent on one connection before QUIT and reconnect. */
  readonly messagesPerSession: number;
  /** Total messages across all workers, or null when the run is bounded by `durationMs` only. */
  readonly messages: number | null;
  /** Wall-clock bound in ms, or null when bounded by `messages` only. At least one of the two is set. */
  readonly durationMs: number | null;
  /** Excluded from the verdict: histograms and counters restart when it ends; 0 for none. */
  readonly warmupMs: number;
  /** Open model: messages per second, across all workers; null for the other models. */
  readonly rate: number | null;
  /** Ramping-rate: the arrival rate at the start, messages/s. */
  readonly startRate: number;
  /** Ramping-sessions: sessions at the start, across all workers (k6's startVUs); the first stage moves from it. */
  readonly startSessions: number;
  /** Ramping models: the stages, in order (targets in messages/s, or sessions); empty for the other models. */
  readonly stages: readonly Stage[];
  /** Open models: most concurrent sessions across all workers. */
  readonly maxSessions: number;
  /** After a stop (duration over, Ctrl-C), how long transactions in flight may take before they are aborted, ms. */
  readonly gracefulStopMs: number;
  readonly message: {
    /** Message size in bytes, headers included, before dot-stuffing; with `sizeDist`, the largest draw (0: read from the empirical file). */
    readonly sizeBytes: number;
    /** Sizes drawn per message (seeded), or null for the fixed `sizeBytes`. */
    readonly sizeDist: Dist | null;
    /** Recipients per message; with `recipientsDist`, the largest draw (0: read from the empirical file). */
    readonly recipients: number;
    /** Recipients drawn per message (seeded), or null for the fixed `recipients`. */
    readonly recipientsDist: Dist | null;
    /** Most RCPT commands in one transaction; a message with more recipients takes several transactions. null: no cap. */
    readonly maxRecipientsPerTransaction: number | null;
    /** `data`; `bdat`: CHUNKING (RFC 3030), required from the server; `auto`: BDAT when the server offers CHUNKING. */
    readonly body: 'data' | 'bdat' | 'auto';
    /** BDAT chunk size in bytes. */
    readonly chunkBytes: number;
    /** Generated text: `ascii`, or `utf8` (8-bit body, sent with BODY=8BITMIME; needs the server's 8BITMIME). */
    readonly text: 'ascii' | 'utf8';
    /** A directory of .eml files to replay instead of generated content (each read and stuffed once), or null. */
    readonly replay: string | null;
    /** Generated messages: a base64 attachment of this many bytes (multipart/mixed), or null. */
    readonly attachmentBytes: number | null;
  };
  readonly envelope: {
    /** Reverse-path mailbox, without angle brackets. */
    readonly from: string;
    /**
     * Forward-path template; `{n}` becomes the 1-based recipient number. With `domains`, the local
     * part joined to the first domain (`rcpt{n}@gmail.test`): what one address of the mix looks like.
     */
    readonly to: string;
    /**
     * Weighted recipient domains (`envelope.to: {local, domains}`, `--domain gmail.test:67.4`), lower-cased,
     * in the order given; each recipient's domain is drawn by weight (seeded). null: `to`'s own domain.
     */
    readonly domains: readonly { readonly domain: string; readonly weight: number }[] | null;
    /** Name given in EHLO/HELO. */
    readonly helo: string;
  };
  readonly pipelining: 'auto' | 'off';
  /**
   * Units of work by weight: `message` (a transaction) and scenario steps (VRFY, EXPN, HELP, NOOP,
   * RSET, SEND, SOML, SAML, TURN, ATRN), each in its own phase. null: messages only.
   */
  readonly scenario: Readonly<Record<string, number>> | null;
  readonly tls: TlsSettings;
  readonly identity: IdentitySettings;
  /** AUTH (RFC 4954); null: no AUTH. */
  readonly auth: AuthSettings | null;
  /** The safety guard is off: recipients outside reserved domains may be sent to a non-loopback target. */
  readonly allowRealRecipients: boolean;
  readonly timeouts: Timeouts;
  readonly server: ServerSettings;
  readonly seed: number;
  /** Pass/fail criteria, profile's first then `--threshold` flags'; evaluated on the merged result (exit 99 on a failure). */
  readonly thresholds: readonly Threshold[];
  /** The percentiles reports show (0 < p ≤ 100, ascending, no repeats), e.g. [50, 90, 99, 99.9]. */
  readonly percentiles: readonly number[];
}

/** What a profile file or the flags may contain. Validated by `resolveProfile()`. */
export interface ProfileInput {
  target?: string;
  workers?: number;
  executor?: string;
  sessions?: number;
  messagesPerSession?: number;
  messages?: number;
  duration?: string | number;
  warmup?: string | number;
  rate?: number;
  startRate?: number;
  startSessions?: number;
  stages?: { duration?: string | number; target?: number }[];
  maxSessions?: number;
  gracefulStop?: string | number;
  message?: {
    size?: string | number | Record<string, unknown>;
    recipients?: number | Record<string, unknown>;
    maxRecipientsPerTransaction?: number;
    body?: string;
    chunkSize?: string | number;
    text?: string;
    replay?: string;
    attachment?: string | number;
  };
  /** `to`: a template, or `{local, domains: {"gmail.test": 67.4, …}}` (weighted recipient domains). */
  envelope?: { from?: string; to?: string | { local?: string; domains?: Record<string, number | string> }; helo?: string };
  pipelining?: string;
  scenario?: Record<string, number>;
  tls?: { starttls?: string; verify?: boolean; ca?: string; resume?: boolean };
  auth?: { mechanism?: string; credentialsFile?: string };
  identity?: { sourceIp?: string; clientAddress?: string; proxy?: string; xclient?: boolean };
  allowRealRecipients?: boolean;
  timeouts?: { connect?: string | number; greeting?: string | number; reply?: string | number; body?: string | number };
  server?: {
    maxRecipients?: number;
    maxMessageSize?: string | number;
    hostname?: string;
    /** Each a SPEC string (`rcpt: reply 450 4.2.1 busy @ 5%`) or its mapping form; see `parseFaultSpec`. */
    faults?: unknown[];
    maxConnections?: number;
    maxCommandLine?: string | number;
    maxErrors?: number;
    maxTextLine?: string | number;
    timeouts?: { idle?: string | number; command?: string | number };
    refusedLocalParts?: string[];
    chunking?: boolean;
    auth?: { users?: Record<string, string>; required?: boolean; mechanisms?: string[] };
    tls?: { starttls?: boolean; cert?: string; key?: string; port?: number };
    vrfy?: string[];
    expn?: Record<string, string[]>;
    legacySend?: string;
    atrn?: string;
    lmtp?: boolean;
    xclient?: boolean;
    proxyProtocol?: string;
    sessionLog?: number;
    capture?: number;
    /** Domain → policy mapping (see `DomainPolicy`); shares as fractions or `"10%"`. */
    domains?: Record<string, unknown>;
    countDomains?: boolean;
    forced?: boolean | { slowMs?: string | number };
    bandwidth?: string | number;
    maxConnectionsPerClient?: number;
  };
  seed?: number;
  /**
   * A list of expressions (`"transaction.p99 < 250ms"`) or `{threshold, abortOnFail, delayAbortEval}`
   * mappings, or k6's map form `{transaction: ["p99 < 250ms"], "errors.rate": "< 0.1%"}`. In the flag
   * overrides: the `--threshold` expressions, added after the profile's (never replacing them).
   */
  thresholds?: unknown;
  percentiles?: number[];
}
