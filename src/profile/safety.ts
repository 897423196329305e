/**
 * Safe by default: a load test must not mail real people. Default addresses use reserved domains
 * (RFC 2606, RFC 6761); a run to a non-loopback target whose recipient (or sender) domain is not
 * reserved refuses to start unless the profile says `allowRealRecipients: true`
 * (`--allow-real-recipients`).
 */
import { isIP } from 'node:net';

/** Top-level names reserved for testing and documentation (RFC 2606 §2, RFC 6761 §6). */
const RESERVED_TLDS = new Set(['test', 'example', 'invalid', 'localhost']);
/** Second-level names reserved for examples (RFC 2606 §3). */
const RESERVED_DOMAINS = new Set(['example.com', 'example.net', 'example.org']);

/** True for a domain under a reserved name: `example.test`, `a.example.com`, `smtpbench.invalid`. */
export function isReservedDomain(domain: string): boolean {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  if (RESERVED_TLDS.has(labels[labels.length - 1])) return true;
  return labels.length >= 2 && RESERVED_DOMAINS.has(labels.slice(-2).join('.'));
}

/** True for a loopback target: `localhost`, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/**
 * Why `mailbox` (a template such as `rcpt{n}@example.test`) could reach a real mailbox through a
 * non-loopback MTA, or null when it cannot: its domain is reserved. Besides a real domain, three
 * shapes route mail where the domain does not say (hostile review F6):
 * - no domain (`postmaster`, `rcpt{n}`): the MTA delivers it locally (Postfix appends
 *   `$myorigin`; `postmaster` is a mailbox every MTA must have, RFC 5321 §4.5.1);
 * - a source route (`@relay.example:user@example.test`, RFC 5321 §4.1.2's A-d-l, obsolete but
 *   still parsed by some MTAs, Appendix C);
 * - `%` or `!` in the local part: the "percent hack" (`user%real.com@example.test`, RFC 1123
 *   §5.2.16) and UUCP bang paths (`real.com!user@example.test`), which some MTAs still relay; a
 *   quoted `@` (`"user@real.com"@example.test`) is refused with them;
 * - `localhost` (and names under it): reserved (RFC 6761), but the MTA's own host, where it
 *   delivers to real local mailboxes.
 * The null reverse-path (`<>`, or empty) is allowed as a sender.
 */
export function realMailboxRisk(mailbox: string, role: 'sender' | 'recipient'): string | null {
  const m = mailbox.trim().replace(/^<(.*)>$/, '$1');
  if (m === '') return role === 'sender' ? null : 'is empty';
  if (m.startsWith('@')) return `"${mailbox}" is a source route (RFC 5321 §4.1.2): the MTA may relay it to the hosts it names`;
  const at = m.lastIndexOf('@');
  if (at < 0) return `"${mailbox}" has no domain: the MTA delivers it to a local mailbox (Postfix appends $myorigin; postmaster always exists)`;
  const local = m.slice(0, at);
  if (local.includes('%') || local.includes('!') || local.includes('@'))
    return `"${mailbox}" routes through its local part (the % hack, a ! bang path or a quoted @): the MTA may relay it to another host`;
  const domain = m
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  // RFC 6761 §6.3 reserves localhost, but for the MTA it is itself: Postfix's mydestination has it.
  if (domain === 'localhost' || domain.endsWith('.localhost')) return `domain "${domain}" is the MTA's own host: it delivers to a real local mailbox there`;
  return isReservedDomain(domain) ? null : `domain "${domain}" is not reserved (RFC 2606)`;
}
