/**
 * The profile rules that span fields (an executor and the keys it uses, `{n}` in the recipient
 * template, AUTH accounts, TLS files, LMTP and BDAT, real domains on a remote target, replay and
 * generated-message keys, warm-up within the duration).
 */
import type { ProfileIssue } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import { duration, isPlainObject } from './fields.js';
import { isLoopbackHost, realMailboxRisk } from './safety.js';
import { EnvelopeSchema, InputSchema, MessageSchema } from './schema.js';

/**
 * Rules that span fields. They read the merged input and check only values that are valid on
 * their own, so a bad field is reported once (by the schema), not again here.
 */
export function crossFieldIssues(input: Record<string, unknown>): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const message = isPlainObject(input.message) ? input.message : {};
  const envelope = isPlainObject(input.envelope) ? input.envelope : {};

  const parsedRecipients = MessageSchema.shape.recipients.safeParse(message.recipients).data;
  // A distribution may give 2 or more recipients: the template needs {n} then too.
  const recipients = typeof parsedRecipients === 'object' ? 2 : (parsedRecipients ?? DEFAULTS.message.recipients);
  const parsedTo = EnvelopeSchema.shape.to.safeParse(envelope.to).data ?? DEFAULTS.envelope.to;
  // The mapping form: the local part is the template; each domain makes an address of it.
  const weighted = typeof parsedTo === 'string' ? null : parsedTo;
  const local = weighted === null ? null : (weighted.local ?? DEFAULTS.envelope.to.slice(0, DEFAULTS.envelope.to.lastIndexOf('@')));
  const to = weighted === null ? (parsedTo as string) : `${local}@${weighted.domains[0].domain}`;
  if (recipients > 1 && !(local ?? to).includes('{n}')) {
    issues.push({
      path: weighted === null ? 'envelope.to' : 'envelope.to.local',
      message: `must contain "{n}" when message.recipients is ${recipients} (each recipient needs its own address)`,
    });
  }

  const executor = typeof input.executor === 'string' ? input.executor : DEFAULTS.executor;
  if (executor === 'open' && input.rate === undefined) issues.push({ path: 'rate', message: 'the open model needs a rate (messages per second)' });
  const ramping = executor === 'ramping-rate' || executor === 'ramping-sessions';
  if (ramping && input.stages === undefined) issues.push({ path: 'stages', message: `the ${executor} model needs stages: [{duration, target}]` });
  if (executor !== 'open' && input.rate !== undefined) issues.push({ path: 'rate', message: `only the open model uses a rate (executor is "${executor}")` });
  if (!ramping && input.stages !== undefined) issues.push({ path: 'stages', message: `only the ramping models use stages (executor is "${executor}")` });
  if (executor !== 'ramping-rate' && input.startRate !== undefined) issues.push({ path: 'startRate', message: `only the ramping-rate model uses startRate (executor is "${executor}")` });
  if ((executor === 'closed' || executor === 'ramping-sessions') && input.maxSessions !== undefined) {
    // As a rate with the closed model: a key the model ignores is refused, not silently dropped (hostile review F17).
    issues.push({ path: 'maxSessions', message: `only the open models (open, ramping-rate) use maxSessions (executor is "${executor}"; it runs \`sessions\`)` });
  }
  if (executor !== 'ramping-sessions' && input.startSessions !== undefined) {
    issues.push({ path: 'startSessions', message: `only the ramping-sessions model uses startSessions (executor is "${executor}")` });
  }

  const server = isPlainObject(input.server) ? input.server : {};
  const auth = isPlainObject(server.auth) ? server.auth : {};
  const tls = isPlainObject(server.tls) ? server.tls : {};
  if (auth.required === true && !(isPlainObject(auth.users) && Object.keys(auth.users).length > 0)) {
    issues.push({ path: 'server.auth.required', message: 'needs at least one account in server.auth.users' });
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    issues.push({ path: tls.cert === undefined ? 'server.tls.cert' : 'server.tls.key', message: 'cert and key go together (neither: an ephemeral self-signed certificate)' });
  }

  const target = InputSchema.shape.target.safeParse(input.target).data;
  // Settings that contradict each other are refused, not resolved silently one way (hostile review F17).
  const clientTls = isPlainObject(input.tls) ? input.tls : {};
  if (clientTls.verify === false && clientTls.ca !== undefined) {
    issues.push({ path: 'tls.ca', message: 'has no effect with tls.verify: false (--insecure), which checks no certificate; keep one of the two' });
  }
  if (target?.scheme === 'smtps' && (clientTls.starttls === 'on' || clientTls.starttls === 'auto') && isPlainObject(input.tls) && 'starttls' in input.tls) {
    issues.push({ path: 'tls.starttls', message: `does not apply to an smtps:// target (TLS from the first octet); leave it unset or "off"` });
  }
  for (const key of ['size', 'recipients'] as const) {
    const d = MessageSchema.shape[key].safeParse(message[key]).data as { min?: number; max?: number } | number | undefined;
    if (typeof d === 'object' && d.min !== undefined && d.max !== undefined && d.min > d.max) {
      issues.push({ path: `message.${key}.min`, message: `is above max (${d.min} > ${d.max})` });
    }
  }
  const body = MessageSchema.shape.body.safeParse(message.body).data;
  if (target?.scheme === 'lmtp' && body === 'bdat') issues.push({ path: 'message.body', message: 'LMTP targets take DATA only here (one reply per recipient); use "data" or "auto"' });
  const from = EnvelopeSchema.shape.from.safeParse(envelope.from).data ?? DEFAULTS.envelope.from;
  if (target && !isLoopbackHost(target.host) && input.allowRealRecipients !== true) {
    // Safe by default: nothing goes to a real domain on a remote MTA without saying so; every weighted domain is checked.
    const recipientsToCheck: [string, string, 'recipient'][] =
      weighted === null ? [['envelope.to', to, 'recipient']] : weighted.domains.map((d) => [`envelope.to.domains.${JSON.stringify(d.domain)}`, `${local}@${d.domain}`, 'recipient']);
    for (const [key, mailbox, role] of [...recipientsToCheck, ['envelope.from', from, 'sender'] as const]) {
      const risk = realMailboxRisk(mailbox, role);
      if (risk !== null) {
        issues.push({
          path: key,
          message: `${risk} and the target ${target.host} is not loopback; set allowRealRecipients: true (--allow-real-recipients) to send real mail`,
        });
      }
    }
  }

  if (message.replay !== undefined) {
    // A replayed message has the size and text its file has.
    if (isPlainObject(message.size)) issues.push({ path: 'message.size', message: 'a size distribution does not apply to message.replay (each file has its own size)' });
    if (message.text !== undefined) issues.push({ path: 'message.text', message: 'does not apply to message.replay (the files are sent as they are)' });
    if (message.attachment !== undefined) issues.push({ path: 'message.attachment', message: 'does not apply to message.replay (the files are sent as they are)' });
  }
  const identity = isPlainObject(input.identity) ? input.identity : {};
  if (identity.xclient === true && identity.clientAddress === undefined) issues.push({ path: 'identity.clientAddress', message: 'identity.xclient needs the client addresses to announce' });

  const warmupMs = duration(0).optional().safeParse(input.warmup).data;
  const durationMs = duration(1).optional().safeParse(input.duration).data;
  if (warmupMs !== undefined && durationMs !== undefined && warmupMs >= durationMs) {
    issues.push({ path: 'warmup', message: `must be shorter than duration (${warmupMs} ms >= ${durationMs} ms)` });
  }
  return issues;
}
