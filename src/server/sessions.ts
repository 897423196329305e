/**
 * Per-session identity records of the reference server: who connected (the TCP peer, the PROXY
 * header's client, XCLIENT's attributes), what it called itself (HELO), TLS and AUTH, and what it
 * delivered. Kept in a bounded ring, newest first, so tests and `serve --http` (`GET /sessions`)
 * can check that varied client identities arrived as sent.
 */
import type { ProxiedAddresses } from '../protocol/proxy-header.js';
import { Ring } from './ring.js';

/** One session. Plain data (structured-clone safe); updated while the session runs. */
export interface SessionRecord {
  readonly id: number;
  /** Wall-clock start, epoch ms. */
  readonly startedAt: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  /** From the PROXY header, or null. */
  proxied: ProxiedAddresses | null;
  /** XCLIENT attributes as sent (xtext-decoded), by upper-case name, or null. */
  xclient: Record<string, string> | null;
  /** The last HELO/EHLO/LHLO argument. */
  helo: string | null;
  tls: boolean;
  authUser: string | null;
  messages: number;
  recipients: number;
}

/** The effective client address of a session: XCLIENT ADDR, else the PROXY source, else the TCP peer. */
export function clientAddress(s: SessionRecord): string {
  return s.xclient?.ADDR ?? s.proxied?.sourceAddress ?? s.peerAddress;
}

/** The last `capacity` session records. */
export class SessionLog {
  private readonly ring: Ring<SessionRecord>;
  private count = 0;
  constructor(capacity: number) {
    this.ring = new Ring(capacity);
  }

  /** Starts a record for a new connection (kept only when capacity > 0). */
  open(peerAddress: string, peerPort: number, tls: boolean): SessionRecord {
    const r: SessionRecord = {
      id: ++this.count,
      startedAt: Date.now(),
      peerAddress,
      peerPort,
      proxied: null,
      xclient: null,
      helo: null,
      tls,
      authUser: null,
      messages: 0,
      recipients: 0,
    };
    this.ring.push(r);
    return r;
  }

  /** Copies of the kept records, newest first. */
  list(): SessionRecord[] {
    return this.ring.newestFirst().map((r) => structuredClone(r));
  }
}
