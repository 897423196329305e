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

/** The domain of a mailbox or template (`rcpt{n}@example.test` → `example.test`); empty for `<>`. */
export function domainOf(mailbox: string): string {
  const at = mailbox.lastIndexOf('@');
  return at < 0 ? '' : mailbox.slice(at + 1);
}
