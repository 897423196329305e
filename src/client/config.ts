/**
 * What a client session is told: where and how to connect (`SessionConfig` and its TLS, AUTH and
 * identity parts) and where its messages come from (`MessageSource`, `WAIT`, `DONE`). Types and
 * two constants only, so the load executors and the tests depend on this and not on the session.
 */
import type net from 'node:net';
import type { Recorder } from '../metrics/recorder.js';
import type { Account } from '../profile/accounts.js';
import type { ClientMechanism } from '../protocol/sasl.js';
import type { WirePlan } from './message.js';

/** TLS settings of a session (RFC 3207 STARTTLS, RFC 8314 implicit TLS). */
export interface TlsClientConfig {
  /** Implicit TLS from the first octet (`smtps://`). */
  readonly implicit: boolean;
  /** `auto`: STARTTLS when offered; `on`: required (a server without it is an error); `off`: never. */
  readonly starttls: 'off' | 'auto' | 'on';
  /** Verify the server certificate and name (default). A failure is a `tls-verify` error, never a plaintext fallback. */
  readonly verify: boolean;
  /** Extra trusted CA certificates (PEM), e.g. a test CA; null: the system store. */
  readonly ca: Buffer | null;
  /** Offer the last TLS session again on the next connection (session resumption). */
  readonly resume: boolean;
}

/** SASL settings (RFC 4954). Session `i` uses `accounts[i % accounts.length]`; for XOAUTH2 `pass` is the bearer token. */
export interface AuthConfig {
  /** `auto`: the first of CRAM-MD5, PLAIN, LOGIN that the server offers. */
  readonly mechanism: ClientMechanism | 'auto';
  readonly accounts: readonly Account[];
}

/** Where and how a session connects. Times in ms. */
export interface SessionConfig {
  readonly host: string;
  readonly port: number;
  readonly plan: WirePlan;
  readonly pipelining: 'auto' | 'off';
  readonly messagesPerConnection: number;
  readonly timeouts: { readonly connectMs: number; readonly greetingMs: number; readonly replyMs: number; readonly bodyMs: number };
  readonly recorder: Recorder;
  /** Most RCPT commands in one transaction; more recipients go in further transactions. Default: no cap. */
  readonly maxRecipientsPerTransaction?: number;
  /** `data`, `bdat` (CHUNKING required) or `auto` (BDAT when CHUNKING is offered); default `DEFAULTS.message.body`. */
  readonly body?: 'data' | 'bdat' | 'auto';
  /** BDAT chunk size in octets; default `DEFAULTS.message.chunkBytes`. */
  readonly chunkBytes?: number;
  readonly tls?: TlsClientConfig | null;
  readonly auth?: AuthConfig | null;
  /** LMTP (RFC 2033): LHLO instead of EHLO (the plan's `ehlo` holds it) and one end-of-data reply per accepted recipient. */
  readonly lmtp?: boolean;
  /** Tags for the per-message `Message-ID` (run and worker). */
  readonly stamp?: { readonly run: number; readonly worker: number };
  /**
   * A weighted mix of scenario steps and messages: `pick()` answers -1 for a message or the index
   * of a step in `STEP_COMMANDS`; `lines` are the steps' command lines (`buildStepLines`).
   */
  readonly scenario?: { readonly pick: () => number; readonly lines: readonly Buffer[] } | null;
  readonly identity?: IdentityConfig | null;
  /**
   * Opens the connection; default `net.connect`. A seam for in-memory transports (the benchmark
   * `bench/session.bench.ts`, transcript tests): it gets the options the session would dial with,
   * `onread` included (the session reads through that callback, not through 'data' events), and
   * returns a socket that emits 'connect', 'error' and 'close'. TLS, when configured, wraps it.
   */
  readonly connect?: (options: net.TcpNetConnectOpts) => net.Socket;
}

/**
 * Who the client says it is, per connection (connections take the list entries in turn): the local
 * address to connect from, and the client address announced with the PROXY protocol (before the
 * greeting, or the TLS handshake of implicit TLS) or Postfix's XCLIENT (after EHLO; the server
 * greets again and EHLO is repeated).
 */
export interface IdentityConfig {
  readonly sourceIps: readonly string[];
  readonly clientAddresses: readonly string[];
  readonly proxy: 'off' | 'v1' | 'v2';
  readonly xclient: boolean;
}

/** `next()` result: no message is due yet; the source will call `assign()` when one is. */
export const WAIT = -1;
/** `next()` result: no more messages for this session. */
export const DONE = -2;

/**
 * Where a session gets its messages: the executor (closed quota, open-model arrival schedule).
 * Sessions pull; an open-model source also pushes to waiting sessions with `assign()`. `S` is the
 * session type (`ClientSession`), a parameter so that this module need not import the session.
 */
export interface MessageSource<S> {
  /**
   * The next message for `session`: its intended start time in µs on the `nowUs()` clock (the
   * closed model answers `nowUs()`, so intended and actual start coincide), `WAIT` when none is
   * due yet (the session stays connected and idle until `assign()`), or `DONE`.
   */
  next(session: S): number;
  /** True while more messages may come, so a new connection is worth opening. */
  hasMore(session: S): boolean;
  /** The session has ended for good; `gaveUp` when its connections kept failing. */
  ended(session: S, gaveUp: boolean): void;
}
