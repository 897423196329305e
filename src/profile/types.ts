/**
 * Profile types. `ProfileInput` is what a YAML/JSON file or the CLI flags give (every key
 * optional, units as strings such as `4KiB` or `30s`); `Profile` is the readonly result of
 * `resolveProfile()` with every default filled in and every unit converted:
 * sizes in bytes, times in milliseconds, rates in messages per second.
 */

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
 * `open`: messages start at a constant arrival `rate`; `ramping-rate`: the arrival rate follows
 * `stages` (k6's ramping-arrival-rate). Open-model latency counts from the intended start.
 */
export type Executor = 'closed' | 'open' | 'ramping-rate';

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

/** Reference-server settings used when the target is the embedded server. */
export interface ServerSettings {
  /** Recipients per transaction before 452 (RFC 5321 §4.5.3.1.8 requires at least 100). Default 1,000,000. */
  readonly maxRecipients: number;
  /** SIZE limit in bytes advertised in EHLO and enforced (RFC 1870). 0 means no limit. */
  readonly maxMessageSize: number;
  /** Host name in the greeting and EHLO reply. */
  readonly hostname: string;
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
  readonly mechanism: 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2' | 'auto';
  readonly credentialsFile: string | null;
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
  /** Ramping-rate: the stages, in order; empty for the other models. */
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
    /** Forward-path template; `{n}` becomes the 1-based recipient number. */
    readonly to: string;
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
  envelope?: { from?: string; to?: string; helo?: string };
  pipelining?: string;
  scenario?: Record<string, number>;
  tls?: { starttls?: string; verify?: boolean; ca?: string; resume?: boolean };
  auth?: { mechanism?: string; credentialsFile?: string };
  identity?: { sourceIp?: string; clientAddress?: string; proxy?: string; xclient?: boolean };
  allowRealRecipients?: boolean;
  timeouts?: { connect?: string | number; greeting?: string | number; reply?: string | number; body?: string | number };
  server?: { maxRecipients?: number; maxMessageSize?: string | number; hostname?: string };
  seed?: number;
}
