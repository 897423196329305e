/**
 * Text that is printed but came from somewhere it must not be trusted: a URL a user typed (it may
 * carry a password) or a remote server's words (they may carry terminal controls).
 */

// The scheme and the slashes after it: what is kept in front of masked userinfo. Without a slash
// nothing is kept: in `user:pw@host` the `user:` is no scheme.
const SCHEME_PREFIX = /^(?:[a-z][a-z0-9+.-]*:)?[\\/]+/i;

/**
 * `text` with anything that may be userinfo replaced by `***`: everything between the scheme's
 * `//` (or the start of the text) and the LAST `@`, e.g. `smtp://user:pw@host:25` → `smtp://***@host:25`.
 * Meant for URLs that failed to parse, so it does not parse: it cannot know where the host starts,
 * and a password may hold `/`, `@` or `[` (`http://u:pa/ss@host`, `http://u:p@ss@[bad/`) that a
 * parser would take for the path, the host or an IPv6 literal. An `@` in a path or query masks
 * more than userinfo, which is the safe side for an error message. Text without `@` is unchanged.
 */
export function maskUserinfo(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const keep = SCHEME_PREFIX.exec(text)?.[0].length ?? 0;
  return at < keep ? text : `${text.slice(0, keep)}***${text.slice(at)}`;
}

/**
 * `text` safe to print on one terminal line: C0 controls, DEL and C1 controls (U+0080–U+009F, e.g.
 * U+009B, the 8-bit CSI that starts terminal escape sequences) and the bidirectional overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069, which make text display in an order other than it reads:
 * "Trojan Source", CVE-2021-42574) are removed; runs of white space become one space.
 */
export function printable(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, '')
    .trim();
}
