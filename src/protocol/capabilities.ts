/**
 * EHLO keywords (RFC 5321 §4.1.1.1: `ehlo-line = ehlo-keyword *( SP / "=" ehlo-param )`).
 * The first line of the EHLO reply is the server's greeting domain, not a keyword.
 */

/** What the server offered in its EHLO reply. Keywords are upper-cased. */
export interface Capabilities {
  /** Every keyword with its parameters (`AUTH` → `['PLAIN', 'LOGIN']`). */
  readonly keywords: ReadonlyMap<string, readonly string[]>;
  /** RFC 2920. */
  readonly pipelining: boolean;
  /** RFC 1870 SIZE: the declared maximum in octets, 0 for "no fixed maximum", null when not offered. */
  readonly size: number | null;
  readonly eightBitMime: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly chunking: boolean;
  readonly smtpUtf8: boolean;
  readonly startTls: boolean;
  /** SASL mechanisms offered with AUTH (RFC 4954), upper-cased. */
  readonly auth: readonly string[];
}

/** Capabilities of a server that answered HELO only (no extensions). */
export const NO_CAPABILITIES: Capabilities = Object.freeze({
  keywords: new Map(),
  pipelining: false,
  size: null,
  eightBitMime: false,
  enhancedStatusCodes: false,
  chunking: false,
  smtpUtf8: false,
  startTls: false,
  auth: [],
});

/**
 * Parses the text lines of a 250 EHLO reply (as `ReplyParser` captures them, code and separator
 * removed). Unknown keywords are kept in `keywords`. Never throws; junk lines are ignored.
 */
export function parseCapabilities(lines: readonly Buffer[]): Capabilities {
  const keywords = new Map<string, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const words = lines[i].toString('latin1').trim().split(/[ =]+/).filter(Boolean);
    if (words.length === 0) continue;
    keywords.set(words[0].toUpperCase(), words.slice(1));
  }
  const sizeParam = keywords.get('SIZE');
  let size: number | null = null;
  if (sizeParam) {
    const n = Number(sizeParam[0] ?? '0');
    size = Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
  }
  return {
    keywords,
    pipelining: keywords.has('PIPELINING'),
    size,
    eightBitMime: keywords.has('8BITMIME'),
    enhancedStatusCodes: keywords.has('ENHANCEDSTATUSCODES'),
    chunking: keywords.has('CHUNKING'),
    smtpUtf8: keywords.has('SMTPUTF8'),
    startTls: keywords.has('STARTTLS'),
    auth: (keywords.get('AUTH') ?? []).map((m) => m.toUpperCase()),
  };
}
