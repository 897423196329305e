/**
 * The default reply pools of the reference server's domain policies (`server.domains`): what a
 * deferred or bounced recipient is told when its policy names no `replies` of its own.
 *
 * Modelled on the kinds of replies large mailbox providers document for senders (rate limits,
 * mailbox over quota, unknown user, policy refusals, greylisting), written generically: no
 * provider's own text. Enhanced status codes per RFC 3463 (4.2.1 mailbox busy or rate limited,
 * 4.2.2 / 5.2.2 mailbox full, 4.7.1 / 5.7.1 policy, 4.3.0 / 4.7.0 transient, 5.1.1 unknown
 * mailbox, 5.2.1 mailbox disabled, 5.7.26 authentication failure per RFC 7372). Every entry is
 * one line; a 421 (which would close the connection) is left out so a default policy never
 * drops sessions.
 */

/** Deferrals (4xx): the recipient may be retried later. */
export const DEFAULT_DEFER_REPLIES: readonly string[] = [
  '450 4.2.1 The recipient is receiving mail at a rate that prevents more deliveries; try again later',
  '451 4.7.1 Rate limited: too many messages from your address; try again later',
  '452 4.2.2 The recipient mailbox is over its storage quota; try again later',
  '450 4.7.1 Greylisted: please retry in a few minutes',
  '451 4.3.0 Temporary system problem; try again later',
  '451 4.7.0 Temporary policy deferral for unusual traffic from your address',
];

/** Bounces (5xx): the recipient is refused for good. */
export const DEFAULT_BOUNCE_REPLIES: readonly string[] = [
  '550 5.1.1 The recipient address does not exist; check it for typing errors',
  '552 5.2.2 The recipient mailbox is full and cannot take more mail',
  '550 5.2.1 The recipient mailbox is disabled',
  '550 5.7.1 Message refused by the recipient domain policy',
  '554 5.7.1 Message refused: it looks like unsolicited mail',
  '550 5.7.26 Message refused: the sender domain failed authentication checks',
];

/** The reply to a recipient over its policy's `rate.messages` (RFC 3463 4.7.1: delivery not authorised, here for now). */
export const RATE_LIMIT_REPLY = '451 4.7.1 Too many messages for this domain; slow down and try again later';
/** The reply to a recipient over its policy's `rate.recipients`. */
export const RECIPIENT_RATE_LIMIT_REPLY = '451 4.7.1 Too many recipients for this domain; slow down and try again later';
/** The reply to the first recipient of a session over its policy's `rate.connections`; the server then closes (RFC 5321 §3.8). */
export const CONNECTION_RATE_LIMIT_REPLY = '421 4.7.0 Too many connections for this domain; closing connection, try again later';

/** Forced outcomes by local part (docs/reference-server.md "Forced outcomes"). */
export const FORCED_TEMPFAIL_REPLY = '451 4.3.0 Forced temporary failure (tempfail@)';
export const FORCED_PERMFAIL_REPLY = '550 5.1.1 Forced permanent failure (permfail@): no such user';

/**
 * What keeps `reply` (`"451 4.7.1 text"`, CRLF excluded) off the wire, or null: its text must be
 * RFC 5321 §4.2's textstring (HT, SP and printable ASCII) and the line at most 512 octets with its
 * CRLF (§4.5.3.1.5). Shared by fault replies and domain reply pools.
 */
export function replyLineIssue(reply: string): string | null {
  if (/[^\t\x20-\x7e]/.test(reply)) return `a reply text is printable ASCII, spaces and tabs (RFC 5321 §4.2), got ${JSON.stringify(reply)}`;
  if (reply.length + 2 > 512) return `a reply line is at most 512 octets with its CRLF (RFC 5321 §4.5.3.1.5); this one has ${reply.length + 2}`;
  return null;
}

/**
 * The enhanced status code at the start of `reply`'s text (`"550 5.1.1 …"`) must have the class of
 * its reply code (RFC 3463 §2): what is wrong, or null (also when the text has no enhanced code).
 */
export function enhancedClassIssue(reply: string): string | null {
  const enhanced = /^(\d)\.\d{1,3}\.\d{1,3}(?: |$)/.exec(reply.slice(4));
  return enhanced !== null && enhanced[1] !== reply[0] ? `the enhanced code ${enhanced[1]}.… must have the class of the reply code ${reply[0]}xx (RFC 3463 §2)` : null;
}
