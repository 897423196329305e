/**
 * The schema of a profile's input (zod): every key, its type, its range and its unit, with the
 * keys each mapping allows; `parseTarget` for the target URL. Problems are collected, never
 * thrown one at a time (house style §1); rules that span fields are in `cross-field.ts`.
 */
import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { maskUserinfo } from '../redact.js';
import { expandAddresses } from './addresses.js';
import { MAX_WORKERS } from './limits.js';
import { STEP_VERBS } from '../protocol/verbs.js';
import { bool, distSchema, duration, filePath, fixedOrDist, intIn, isPlainObject, show, size, wireToken } from './fields.js';
import { isDomain } from '../protocol/address.js';
import { MAX_DOMAINS } from '../metrics/domains.js';
import { MAX_RECIPIENTS, MAX_SIZE_BYTES } from './limits.js';
import { ServerSchema } from './server-section.js';
import { ThresholdsSchema } from './thresholds.js';
import type { TargetSpec } from './types.js';

/**
 * Parses `smtp://HOST:PORT`, `smtps://HOST:PORT` (implicit TLS) or `lmtp://HOST:PORT` (HOST may be
 * a bracketed IPv6 literal, `smtp://[::1]:2525`).
 * The returned host carries no brackets, ready for `net.connect`.
 *
 * @throws Error with an issue-ready message on another scheme, a missing or out-of-range port,
 *   or anything besides scheme, host and port (user, path, query); the message shows the text
 *   with anything that may be userinfo masked (`maskUserinfo`)
 */
export function parseTarget(text: string): TargetSpec {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  // The text is echoed with its userinfo masked: a `user:password@` never reaches the terminal or a CI log.
  if (scheme === undefined) throw new Error(`expected smtp://HOST:PORT, got ${JSON.stringify(maskUserinfo(text))}`);
  if (scheme !== 'smtp' && scheme !== 'smtps' && scheme !== 'lmtp') throw new Error(`unsupported scheme "${scheme}" (expected smtp, smtps or lmtp)`);
  const match = /^[a-z]+:\/\/(\[[^\]]*\]|[^:/?#@[\]]*)(?::(\d*))?\/?$/i.exec(text);
  if (!match) throw new Error(`expected smtp://HOST:PORT without user, path or query, got ${JSON.stringify(maskUserinfo(text))}`);
  const [, rawHost, rawPort] = match;
  let host = rawHost;
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) throw new Error(`${JSON.stringify(rawHost)} is not an IPv6 address`);
  } else if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(host)) {
    throw new Error(host === '' ? 'missing host' : `${JSON.stringify(host)} is not a host name or IPv4 address`);
  }
  if (rawPort === undefined || rawPort === '') throw new Error(`missing port (expected ${scheme}://${rawHost}:PORT)`);
  const port = Number(rawPort);
  if (port < 1 || port > 65_535) throw new Error(`port ${rawPort} is out of range 1..65535`);
  return { scheme, host, port };
}

/** `message`: what each message is (size, recipients, body command, text, replay, attachment). */
export const MessageSchema = z.strictObject({
  size: fixedOrDist(
    size(1, MAX_SIZE_BYTES, '256MiB'),
    distSchema(() => size(1, MAX_SIZE_BYTES, '256MiB')),
  ).optional(),
  recipients: fixedOrDist(
    intIn(1, MAX_RECIPIENTS),
    distSchema(() => intIn(1, MAX_RECIPIENTS)),
  ).optional(),
  maxRecipientsPerTransaction: intIn(1, MAX_RECIPIENTS).optional(),
  body: z.enum(['data', 'bdat', 'auto'], { error: (iss) => `expected "data", "bdat" or "auto", got ${show(iss.input)}` }).optional(),
  chunkSize: size(1).optional(),
  text: z.enum(['ascii', 'utf8'], { error: (iss) => `expected "ascii" or "utf8", got ${show(iss.input)}` }).optional(),
  replay: z
    .string({ error: (iss) => `expected a directory of .eml files, got ${show(iss.input)}` })
    .min(1, 'must not be empty')
    .optional(),
  attachment: size(1, MAX_SIZE_BYTES, '256MiB').optional(),
});

const weight = () =>
  z
    .number({ error: (iss) => `expected a weight (a number), got ${show(iss.input)}` })
    .min(0, 'must be at least 0')
    .optional();
/** `message` (a transaction) and the scenario steps of src/protocol/verbs.ts. */
const SCENARIO_KINDS = ['message', ...STEP_VERBS] as const;
const ScenarioSchema = z
  .strictObject(Object.fromEntries(SCENARIO_KINDS.map((k) => [k, weight()])) as Record<(typeof SCENARIO_KINDS)[number], ReturnType<typeof weight>>)
  .refine((s) => Object.values(s).some((w) => (w ?? 0) > 0), 'needs at least one weight above 0');

const TlsSchema = z.strictObject({
  starttls: z.enum(['off', 'auto', 'on'], { error: (iss) => `expected "off", "auto" or "on", got ${show(iss.input)}` }).optional(),
  verify: bool().optional(),
  ca: filePath().optional(),
  resume: bool().optional(),
});

/** Addresses or IPv4 ranges (`127.0.0.2-127.0.0.9`, comma lists); kept as text, checked by expanding. */
const addresses = () =>
  z.string({ error: (iss) => `expected addresses such as 127.0.0.2-127.0.0.9, got ${show(iss.input)}` }).superRefine((text, ctx) => {
    try {
      expandAddresses(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

const IdentitySchema = z.strictObject({
  sourceIp: addresses().optional(),
  clientAddress: addresses().optional(),
  proxy: z.enum(['off', 'v1', 'v2'], { error: (iss) => `expected "off", "v1" or "v2", got ${show(iss.input)}` }).optional(),
  xclient: bool().optional(),
});

const AuthSchema = z.strictObject({
  mechanism: z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'auto'], { error: (iss) => `expected "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2" or "auto", got ${show(iss.input)}` }).optional(),
  credentialsFile: filePath().optional(),
});

/** Most domains `envelope.to.domains` may list (the per-domain counts' cap, metrics/domains.ts). */
export const MAX_WEIGHTED_DOMAINS = MAX_DOMAINS;

/** One weighted recipient domain, lower-cased. */
export interface DomainWeightInput {
  readonly domain: string;
  readonly weight: number;
}

/**
 * `envelope.to.domains`: a mapping of RFC 5321 domains to weights (any positive numbers; they are
 * normalised), at least one, at most `MAX_WEIGHTED_DOMAINS`, no domain twice (case does not count).
 * Each problem is named at `domains."the domain"`. Becomes a list in the mapping's order.
 */
function domainWeights() {
  return z.unknown().transform((value, ctx): DomainWeightInput[] => {
    if (!isPlainObject(value)) {
      ctx.addIssue({ code: 'custom', message: `expected a mapping of domains to weights such as {"gmail.test": 67.4, "outlook.test": 20}, got ${show(value)}` });
      return z.NEVER;
    }
    const entries = Object.entries(value);
    if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one domain' });
    if (entries.length > MAX_WEIGHTED_DOMAINS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_WEIGHTED_DOMAINS} domains` });
    const seen = new Set<string>();
    const out: DomainWeightInput[] = [];
    for (const [domain, weight] of entries) {
      const path = [JSON.stringify(domain)];
      const lower = domain.toLowerCase();
      if (!isDomain(domain)) ctx.addIssue({ code: 'custom', path, message: 'is not a domain (RFC 5321 §4.1.2: labels of letters, digits and inner hyphens, joined by dots)' });
      else if (seen.has(lower)) ctx.addIssue({ code: 'custom', path, message: 'is listed twice (domains are compared without case)' });
      if (typeof weight !== 'number' || !Number.isFinite(weight)) ctx.addIssue({ code: 'custom', path, message: `expected a weight (a number above 0), got ${show(weight)}` });
      else if (weight <= 0) ctx.addIssue({ code: 'custom', path, message: `weight must be more than 0, got ${weight}` });
      seen.add(lower);
      out.push({ domain: lower, weight: weight as number });
    }
    // Weights are normalised by their sum: one that overflows would make every share 0 (or NaN).
    if (!Number.isFinite(out.reduce((sum, d) => sum + (Number.isFinite(d.weight) ? d.weight : 0), 0)))
      ctx.addIssue({ code: 'custom', message: 'the weights add up to more than a number holds; use smaller weights' });
    return out;
  });
}

/** `envelope.to`'s mapping form: a local-part template and weighted domains. */
const WeightedToSchema = z.strictObject({
  local: wireToken(1)
    .refine((l) => !l.includes('@'), 'is the local part only (no "@"): the domain comes from domains')
    .optional(),
  domains: domainWeights(),
});
/** Parsed `envelope.to` mapping form. */
export type WeightedTo = { local?: string; domains: DomainWeightInput[] };

/**
 * `envelope.to`: a forward-path template (`rcpt{n}@example.test`), or the mapping form
 * `{local: "rcpt{n}", domains: {"gmail.test": 67.4, …}}` (each recipient's domain drawn by weight).
 */
const recipientTo = () =>
  z.unknown().transform((value, ctx): string | WeightedTo => {
    const r = isPlainObject(value) ? WeightedToSchema.safeParse(value) : wireToken(1).safeParse(value);
    if (r.success) return r.data as string | WeightedTo;
    for (const iss of r.error.issues) {
      if (iss.code === 'unrecognized_keys') for (const key of iss.keys) ctx.addIssue({ code: 'custom', message: 'unknown key (expected local or domains)', path: [...iss.path, key] });
      else if (iss.code === 'invalid_type' && iss.path.length === 0)
        ctx.addIssue({ code: 'custom', message: `expected an address template such as rcpt{n}@example.test, or {local, domains}, got ${show(value)}` });
      else if (iss.code === 'invalid_type' && iss.path[0] === 'domains' && iss.path.length === 1) ctx.addIssue({ code: 'custom', message: 'is required in the mapping form', path: iss.path });
      else ctx.addIssue({ code: 'custom', message: iss.message, path: iss.path });
    }
    return z.NEVER;
  });

/** `envelope`: MAIL FROM, the RCPT TO template (or weighted domains) and the EHLO name. */
export const EnvelopeSchema = z.strictObject({
  from: wireToken(0).optional(), // empty is the null reverse-path, MAIL FROM:<> (RFC 5321 §4.5.5)
  to: recipientTo().optional(),
  helo: wireToken(1).optional(),
});

const TimeoutsSchema = z.strictObject({
  connect: duration(1).optional(),
  greeting: duration(1).optional(),
  reply: duration(1).optional(),
  body: duration(1).optional(),
});

const StageSchema = z.strictObject({
  duration: duration(1),
  target: z
    .number({ error: (iss) => `expected messages per second, got ${show(iss.input)}` })
    .min(0, 'must be at least 0')
    .max(1e7, 'must be at most 10000000'),
});

/** A whole profile input, every key optional (flags merged over the file). */
export const InputSchema = z.strictObject({
  target: z
    .string({ error: (iss) => `expected a URL such as smtp://127.0.0.1:2525, got ${show(iss.input)}` })
    .transform((text, ctx) => {
      try {
        return parseTarget(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  workers: intIn(1, MAX_WORKERS).optional(),
  executor: z
    .enum(['closed', 'open', 'ramping-rate', 'ramping-sessions'], {
      error: (iss) => `expected "closed", "open", "ramping-rate" or "ramping-sessions", got ${show(iss.input)}`,
    })
    .optional(),
  rate: z
    .number({ error: (iss) => `expected messages per second, got ${show(iss.input)}` })
    .positive('must be more than 0')
    .max(1e7, 'must be at most 10000000')
    .optional(),
  startRate: z
    .number({ error: (iss) => `expected messages per second, got ${show(iss.input)}` })
    .min(0, 'must be at least 0')
    .max(1e7, 'must be at most 10000000')
    .optional(),
  startSessions: intIn(0, 100_000).optional(),
  stages: z
    .array(StageSchema, { error: (iss) => `expected a list of {duration, target}, got ${show(iss.input)}` })
    .min(1, 'needs at least one stage')
    .optional(),
  maxSessions: intIn(1).optional(),
  gracefulStop: duration(0).optional(),
  sessions: intIn(1).optional(),
  messagesPerSession: intIn(1).optional(),
  messages: intIn(1).optional(),
  duration: duration(1).optional(),
  warmup: duration(0).optional(),
  message: MessageSchema.optional(),
  envelope: EnvelopeSchema.optional(),
  pipelining: z.enum(['auto', 'off'], { error: (iss) => `expected "auto" or "off", got ${show(iss.input)}` }).optional(),
  scenario: ScenarioSchema.optional(),
  tls: TlsSchema.optional(),
  auth: AuthSchema.optional(),
  identity: IdentitySchema.optional(),
  allowRealRecipients: bool().optional(),
  timeouts: TimeoutsSchema.optional(),
  server: ServerSchema.optional(),
  seed: intIn(Number.MIN_SAFE_INTEGER).optional(),
  thresholds: ThresholdsSchema.optional(),
  percentiles: z
    .array(
      z
        .number({ error: (iss) => `expected a percentile such as 99.9, got ${show(iss.input)}` })
        .gt(0, 'a percentile is more than 0')
        .lte(100, 'a percentile is at most 100')
        .refine((p) => Math.abs(p * 1e6 - Math.round(p * 1e6)) < 1e-6, 'a percentile has at most 6 decimals'),
      { error: (iss) => `expected a list of percentiles such as [50, 90, 99, 99.9], got ${show(iss.input)}` },
    )
    .min(1, 'list at least one percentile')
    .max(12, 'at most 12 percentiles')
    .refine((ps) => ps.every((p, i) => i === 0 || p > ps[i - 1]), 'percentiles must ascend, without repeats')
    .optional(),
});

/** Keys allowed at each dotted path, for "did you mean" hints on unknown keys. */
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(InputSchema.shape),
  message: Object.keys(MessageSchema.shape),
  envelope: Object.keys(EnvelopeSchema.shape),
  timeouts: Object.keys(TimeoutsSchema.shape),
  tls: Object.keys(TlsSchema.shape),
  scenario: [...SCENARIO_KINDS],
  auth: Object.keys(AuthSchema.shape),
  identity: Object.keys(IdentitySchema.shape),
  server: Object.keys(ServerSchema.shape),
};
