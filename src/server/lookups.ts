/**
 * The reference server's address lookups, VRFY and EXPN (RFC 5321 §3.5): one reply per command
 * line, from the configured lists. Not a hot path: compared as text.
 */
import type { ServerContext } from './context.js';

/**
 * `VRFY string` (RFC 5321 §3.5.1, §4.1.1.6). Without a configured list: 252 to everything, never
 * 250 without checking (§7.3). With one: 250 for a listed mailbox (full address, or local part),
 * 550 otherwise.
 */
export function vrfyReply(ctx: ServerContext, line: Buffer): Buffer {
  const R = ctx.replies;
  if (line.length <= 5) return R.syntax;
  const list = ctx.settings.vrfy;
  if (list.length === 0) return R.vrfy;
  const arg = line
    .toString('utf8', 5)
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .toLowerCase();
  const hit = list.find((mb) => mb.toLowerCase() === arg || mb.toLowerCase().split('@')[0] === arg);
  return hit === undefined ? R.vrfyUnknown : Buffer.from(`250 2.1.5 <${hit}>\r\n`, 'utf8');
}

/** `EXPN list` (RFC 5321 §3.5.2): 502 without lists; 250 with one member per line, or 550. */
export function expnReply(ctx: ServerContext, line: Buffer): Buffer {
  const R = ctx.replies;
  if (R.expnLists.size === 0) return R.notImplemented;
  if (line.length <= 5) return R.syntax;
  return R.expnLists.get(line.toString('utf8', 5).trim().toLowerCase()) ?? R.expnUnknown;
}
