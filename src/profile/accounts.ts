/**
 * The `user:password` file of AUTH accounts, one format for both sides: the client's accounts
 * (`auth.credentialsFile`, `run --credentials`) and the reference server's (`serve --users`). So
 * one file can drive both, and what the client sends is exactly what the server checks.
 *
 * One `user:password` per line, taken as written (docs/profiles.md "Credentials"): the user name runs to the
 * first `:` and is not empty; the password is the rest of the line, colons and spaces included.
 * Lines of nothing but white space, and lines that start with `#`, are skipped. Lines end in LF or
 * CRLF.
 */

/** One account: a user name and its password (for XOAUTH2, the bearer token). */
export interface Account {
  readonly user: string;
  readonly pass: string;
}

/**
 * Parses a `user:password` file, in file order (an empty list for a file of comments).
 * @throws Error `line N is not user:password` for the first line without a user name and a colon
 */
export function parseAccounts(text: string): Account[] {
  const out: Account[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === '' || l.startsWith('#')) continue;
    const colon = l.indexOf(':');
    if (colon <= 0) throw new Error(`line ${i + 1} is not user:password`);
    out.push({ user: l.slice(0, colon), pass: l.slice(colon + 1) });
  }
  return out;
}
