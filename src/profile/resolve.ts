/**
 * The one profile resolver (house style §1): profile file input + flag overrides → a readonly
 * `Profile`, with defaults from `DEFAULTS` and every problem collected into one `ProfileError`.
 */

import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { ProfileError, type ProfileIssue } from '../errors.js';
import { maskUserinfo } from '../redact.js';
import { STEP_VERBS } from '../protocol/verbs.js';
import { DEFAULTS, deepFreeze } from './defaults.js';
import { MAX_DURATION_MS, MAX_RECIPIENTS, MAX_SIZE_BYTES, MAX_WORKERS } from './limits.js';
import { resolveFault } from './faults.js';
import type { Profile, ProfileInput, ServerSettings, TargetSpec, Threshold } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { domainOf, isLoopbackHost, isReservedDomain } from './safety.js';
import { expandAddresses } from './addresses.js';
import { knownMetrics, parseThreshold } from '../report/thresholds.js';

/** Printable form of a value for an issue message. */
function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function intIn(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .int({ error: (iss) => `expected an integer, got ${show(iss.input)}` })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
}

/** A string or number run through a unit parser; a parse failure becomes an issue at this path. */
function unitField(parse: (v: string | number) => number, what: string, min: number, max: number, maxText: string) {
  return z
    .union([z.string(), z.number()], { error: (iss) => `expected ${what}, got ${show(iss.input)}` })
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${maxText}`));
}

const size = (min: number, max = Number.MAX_SAFE_INTEGER, maxText = String(max)) => unitField(parseSize, 'a size such as 4KiB or a number of bytes', min, max, maxText);
const duration = (min: number) => unitField(parseDuration, 'a duration such as 30s or a number of milliseconds', min, MAX_DURATION_MS, `24d (${MAX_DURATION_MS} ms)`);

/** Envelope and greeting text goes on the wire verbatim: no spaces, brackets or control characters. */
function wireToken(min: number) {
  return z
    .string({ error: (iss) => `expected a string, got ${show(iss.input)}` })
    .min(min, 'must not be empty')
    .regex(/^[^\s<>\x00-\x1f\x7f]*$/, 'must not contain spaces, angle brackets or control characters');
}

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

const bool = () => z.boolean({ error: (iss) => `expected true or false, got ${show(iss.input)}` });
const path = () => z.string({ error: (iss) => `expected a file path, got ${show(iss.input)}` }).min(1, 'must not be empty');
const sigma = () =>
  z
    .number({ error: (iss) => `expected a number, got ${show(iss.input)}` })
    .positive('must be more than 0')
    .max(5, 'must be at most 5');

/** A distribution of sizes (`unit`: size()) or of counts (`unit`: intIn()), by its `dist` key. */
function distSchema<T extends z.ZodType<number>>(unit: () => T) {
  return z.discriminatedUnion(
    'dist',
    [
      z.strictObject({ dist: z.literal('uniform'), min: unit(), max: unit() }),
      z.strictObject({ dist: z.literal('lognormal'), median: unit(), sigma: sigma(), min: unit().optional(), max: unit().optional() }),
      z.strictObject({ dist: z.literal('empirical'), file: path() }),
    ],
    { error: (iss) => `expected dist: "uniform", "lognormal" or "empirical", got ${show((iss.input as Record<string, unknown> | undefined)?.dist)}` },
  );
}

/**
 * A fixed value (`scalar`) or a distribution mapping (`{dist: …}`). Issues inside the mapping keep
 * their dotted paths (`message.size.sigma`); unknown keys are named one by one.
 */
function fixedOrDist<S extends z.ZodType<number>, D extends z.ZodType>(scalar: S, dist: D) {
  return z.unknown().transform((value, ctx): number | z.infer<D> => {
    const r = isPlainObject(value) ? dist.safeParse(value) : scalar.safeParse(value);
    if (r.success) return r.data as number | z.infer<D>;
    for (const iss of r.error.issues) {
      if (iss.code === 'unrecognized_keys') for (const key of iss.keys) ctx.addIssue({ code: 'custom', message: 'unknown key', path: [...iss.path, key] });
      else ctx.addIssue({ code: 'custom', message: iss.message, path: iss.path });
    }
    return z.NEVER;
  });
}

/** Largest lognormal draw when no `max` is given: median · e^(4σ) (a draw above it has odds of about 3 in 100,000), at most 100 MiB. */
const LOGNORMAL_DEFAULT_MAX = (median: number, s: number): number => Math.min(104_857_600, Math.round(median * Math.exp(4 * s)));

const MessageSchema = z.strictObject({
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
  ca: path().optional(),
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
  credentialsFile: path().optional(),
});

const EnvelopeSchema = z.strictObject({
  from: wireToken(0).optional(), // empty is the null reverse-path, MAIL FROM:<> (RFC 5321 §4.5.5)
  to: wireToken(1).optional(),
  helo: wireToken(1).optional(),
});

const TimeoutsSchema = z.strictObject({
  connect: duration(1).optional(),
  greeting: duration(1).optional(),
  reply: duration(1).optional(),
  body: duration(1).optional(),
});

/** One fault, a SPEC string or a mapping (src/profile/faults.ts); problems get paths below `server.faults.N`. */
const FaultSchema = z.unknown().transform((value, ctx) => {
  const fault = resolveFault(value, (path, message) => ctx.addIssue({ code: 'custom', message, path: [...path] }));
  return fault ?? z.NEVER;
});

const ServerSchema = z.strictObject({
  maxRecipients: intIn(1).optional(),
  maxMessageSize: size(0).optional(),
  hostname: wireToken(1).optional(),
  faults: z.array(FaultSchema, { error: (iss) => `expected a list of faults, got ${show(iss.input)}` }).optional(),
  maxConnections: intIn(0).optional(),
  maxCommandLine: size(512).optional(), // RFC 5321 §4.5.3.1.4
  maxErrors: intIn(0).optional(),
  maxTextLine: size(0)
    .refine((n) => n === 0 || n >= 1000, 'must be 0 (not checked) or at least 1000 (RFC 5321 §4.5.3.1.6)')
    .optional(),
  timeouts: z.strictObject({ idle: duration(1).optional(), command: duration(1).optional() }).optional(),
  refusedLocalParts: z.array(wireToken(1), { error: (iss) => `expected a list of local parts, got ${show(iss.input)}` }).optional(),
  chunking: bool().optional(),
  auth: z
    .strictObject({
      users: z.record(wireToken(1), z.string({ error: (iss) => `expected a password string, got ${show(iss.input)}` })).optional(),
      required: bool().optional(),
      mechanisms: z
        .array(z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5'], { error: (iss) => `expected PLAIN, LOGIN or CRAM-MD5, got ${show(iss.input)}` }))
        .min(1, 'must name at least one mechanism')
        .optional(),
    })
    .optional(),
  tls: z.strictObject({ starttls: bool().optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional(), port: intIn(0, 65_535).optional() }).optional(),
  vrfy: z.array(wireToken(1), { error: (iss) => `expected a list of mailboxes, got ${show(iss.input)}` }).optional(),
  expn: z.record(wireToken(1), z.array(wireToken(1), { error: (iss) => `expected a list of member mailboxes, got ${show(iss.input)}` })).optional(),
  legacySend: z.enum(['refuse', 'mail'], { error: (iss) => `expected "refuse" or "mail", got ${show(iss.input)}` }).optional(),
  atrn: z.enum(['refuse', 'odmr'], { error: (iss) => `expected "refuse" or "odmr", got ${show(iss.input)}` }).optional(),
  lmtp: bool().optional(),
  xclient: bool().optional(),
  proxyProtocol: z.enum(['off', 'v1', 'v2', 'any'], { error: (iss) => `expected off, v1, v2 or any, got ${show(iss.input)}` }).optional(),
  sessionLog: intIn(0, 1_000_000).optional(),
  capture: intIn(0, 100_000).optional(),
});

/** k6's threshold object: `{threshold: "p(99) < 250", abortOnFail: true, delayAbortEval: "10s"}`. */
const ThresholdObjectSchema = z.strictObject({
  threshold: z.string({ error: (iss) => `expected a threshold expression, got ${show(iss.input)}` }),
  abortOnFail: bool().optional(),
  delayAbortEval: duration(0).optional(),
});

/**
 * Parses a `thresholds` value: a list of entries, or k6's map form `{metric: entry | [entry…]}`
 * where an entry is an expression or a `{threshold, abortOnFail, delayAbortEval}` mapping. In the map
 * form an expression that starts with an operator applies to the key (`"errors.rate": "< 0.1%"`),
 * else it is a statistic of the key (`transaction: "p(99) < 250ms"` → `transaction.p(99) < 250ms`).
 * Every bad entry is reported through `issue` with its path below `thresholds` (`[2]`, `[transaction, 0]`).
 */
export function resolveThresholds(value: unknown, issue: (path: readonly (string | number)[], message: string) => void): Threshold[] {
  const out: Threshold[] = [];
  const entry = (item: unknown, path: (string | number)[], key: string | null): void => {
    let text: string;
    let abortOnFail = false;
    let delayAbortEvalMs = 0;
    if (isPlainObject(item)) {
      const r = ThresholdObjectSchema.safeParse(item);
      if (!r.success) {
        for (const iss of r.error.issues) {
          if (iss.code === 'unrecognized_keys') for (const k of iss.keys) issue([...path, k], 'unknown key (expected threshold, abortOnFail, delayAbortEval)');
          else issue([...path, ...iss.path.map(String)], iss.message);
        }
        // The expression may be wrong too: say so in the same message.
        if (typeof item.threshold !== 'string') return;
      }
      text = item.threshold as string;
      abortOnFail = r.data?.abortOnFail ?? false;
      delayAbortEvalMs = r.data?.delayAbortEval ?? 0;
      if (item.delayAbortEval !== undefined && (item.abortOnFail === undefined || item.abortOnFail === false)) issue([...path, 'delayAbortEval'], 'applies only with abortOnFail: true');
    } else if (typeof item === 'string') {
      text = item;
    } else {
      issue(path, `expected a threshold expression such as "transaction.p99 < 250ms" or {threshold, abortOnFail}, got ${show(item)}`);
      return;
    }
    const expression = key === null ? text : /^\s*[<>=!]/.test(text) ? `${key} ${text.trim()}` : `${key}.${text.trim()}`;
    try {
      out.push(parseThreshold(expression, { abortOnFail, delayAbortEvalMs }));
    } catch (err) {
      const message = (err as Error).message;
      issue(path, message.includes(JSON.stringify(expression)) ? message : `${JSON.stringify(expression)}: ${message}`);
    }
  };
  if (Array.isArray(value)) value.forEach((item, i) => entry(item, [i], null));
  else if (isPlainObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (Array.isArray(v)) v.forEach((item, i) => entry(item, [key, i], key));
      else entry(v, [key], key);
    }
  } else issue([], `expected a list of threshold expressions or a mapping of metric → expressions, got ${show(value)}`);
  return out;
}

const ThresholdsSchema = z.unknown().transform((value, ctx) => resolveThresholds(value, (path, message) => ctx.addIssue({ code: 'custom', message, path: [...path] })));

const StageSchema = z.strictObject({
  duration: duration(1),
  target: z
    .number({ error: (iss) => `expected messages per second, got ${show(iss.input)}` })
    .min(0, 'must be at least 0')
    .max(1e7, 'must be at most 10000000'),
});

const InputSchema = z.strictObject({
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
const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
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

/**
 * Resolves a profile: deep-merges `overrides` (from CLI flags) over `input` (a parsed YAML/JSON
 * file, or `undefined`/`null` for none), validates the result, fills defaults from `DEFAULTS`
 * and converts units (sizes to bytes, times to milliseconds).
 *
 * `null` values count as absent (an emptied YAML key falls back to its default). When both
 * `messages` and `duration` are given the run ends at whichever comes first; with neither, the
 * run sends `DEFAULTS.messages` messages.
 *
 * @param input the profile file's content, not yet validated
 * @param overrides keys from flags; they win over `input` key by key (nested objects merge), except
 *   `thresholds` (the `--threshold` expressions): those are added after the profile's, and their
 *   problems are named `--threshold[i]`
 * @param source names the input in the error message (for example the file path)
 * @returns a deeply frozen `Profile`
 * @throws ProfileError (code `SB_INVALID_PROFILE`) listing every problem with its dotted path
 *   (`message.size`, `target`, `message.sise` for an unknown key), never only the first; with a bad
 *   threshold, the message ends with the known metric names
 */
export function resolveProfile(input: unknown, overrides?: ProfileInput, source = 'profile'): Profile {
  const issues: ProfileIssue[] = [];
  let base: Record<string, unknown> = {};
  if (isPlainObject(input)) base = input;
  else if (input !== undefined && input !== null) {
    issues.push({ path: '', message: `expected a mapping of profile keys, got ${show(input)}` });
  }
  const { thresholds: flagThresholds, ...flags } = overrides ?? {};
  const merged = merge(base, flags as Record<string, unknown>);

  const parsed = InputSchema.safeParse(merged);
  if (!parsed.success) issues.push(...parsed.error.issues.flatMap((issue) => toProfileIssues(issue, merged)));
  issues.push(...crossFieldIssues(merged));
  const extraThresholds = flagThresholds === undefined ? [] : resolveThresholds(flagThresholds, (path, message) => issues.push({ path: `--threshold${path.map((p) => `[${p}]`).join('')}`, message }));
  if (issues.length > 0 || !parsed.success) {
    const badThreshold = issues.some((i) => i.path.startsWith('thresholds') || i.path.startsWith('--threshold'));
    throw new ProfileError(
      issues,
      source,
      badThreshold
        ? `known metrics (README "Thresholds"):\n${knownMetrics()
            .map((l) => `    ${l}`)
            .join('\n')}`
        : undefined,
    );
  }

  const v = parsed.data;
  const d = DEFAULTS;
  return deepFreeze<Profile>({
    target: v.target ?? d.target,
    workers: v.workers ?? d.workers,
    executor: v.executor ?? d.executor,
    sessions: v.sessions ?? d.sessions,
    messagesPerSession: v.messagesPerSession ?? d.messagesPerSession,
    // Ramping stages and a duration each bound a run by time; only an unbounded profile gets the default count.
    messages: v.messages ?? (v.duration === undefined && v.stages === undefined ? d.messages : null),
    durationMs: v.duration ?? d.durationMs,
    warmupMs: v.warmup ?? d.warmupMs,
    rate: v.rate ?? d.rate,
    startRate: v.startRate ?? d.startRate,
    startSessions: v.startSessions ?? d.startSessions,
    stages: v.stages?.map((st) => ({ durationMs: st.duration, target: st.target })) ?? d.stages,
    maxSessions: v.maxSessions ?? d.maxSessions,
    gracefulStopMs: v.gracefulStop ?? d.gracefulStopMs,
    message: {
      ...fixedOrDistValue('sizeBytes', 'sizeDist', v.message?.size, d.message.sizeBytes),
      ...fixedOrDistValue('recipients', 'recipientsDist', v.message?.recipients, d.message.recipients),
      maxRecipientsPerTransaction: v.message?.maxRecipientsPerTransaction ?? d.message.maxRecipientsPerTransaction,
      body: v.message?.body ?? d.message.body,
      chunkBytes: v.message?.chunkSize ?? d.message.chunkBytes,
      text: v.message?.text ?? d.message.text,
      replay: v.message?.replay ?? d.message.replay,
      attachmentBytes: v.message?.attachment ?? d.message.attachmentBytes,
    },
    envelope: {
      from: v.envelope?.from ?? d.envelope.from,
      to: v.envelope?.to ?? d.envelope.to,
      helo: v.envelope?.helo ?? d.envelope.helo,
    },
    pipelining: v.pipelining ?? d.pipelining,
    scenario: v.scenario ? (Object.fromEntries(Object.entries(v.scenario).filter(([, w]) => w !== undefined)) as Record<string, number>) : d.scenario,
    tls: {
      starttls: v.tls?.starttls ?? d.tls.starttls,
      verify: v.tls?.verify ?? d.tls.verify,
      ca: v.tls?.ca ?? d.tls.ca,
      resume: v.tls?.resume ?? d.tls.resume,
    },
    // Any auth key turns AUTH on; `auth: {}` means the default mechanism with credentials from the environment.
    auth: v.auth === undefined ? d.auth : { mechanism: v.auth.mechanism ?? 'auto', credentialsFile: v.auth.credentialsFile ?? null },
    identity: {
      sourceIp: v.identity?.sourceIp ?? d.identity.sourceIp,
      clientAddress: v.identity?.clientAddress ?? d.identity.clientAddress,
      proxy: v.identity?.proxy ?? d.identity.proxy,
      xclient: v.identity?.xclient ?? d.identity.xclient,
    },
    allowRealRecipients: v.allowRealRecipients ?? d.allowRealRecipients,
    timeouts: {
      connectMs: v.timeouts?.connect ?? d.timeouts.connectMs,
      greetingMs: v.timeouts?.greeting ?? d.timeouts.greetingMs,
      replyMs: v.timeouts?.reply ?? d.timeouts.replyMs,
      bodyMs: v.timeouts?.body ?? d.timeouts.bodyMs,
    },
    server: resolveServer(v.server, d.server),
    seed: v.seed ?? d.seed,
    thresholds: [...(v.thresholds ?? d.thresholds), ...extraThresholds],
    percentiles: v.percentiles ?? d.percentiles,
  });
}

type ParsedServer = z.output<typeof ServerSchema>;

/**
 * The `server` section with defaults: keys named as in `ServerSettings` are taken as parsed (units
 * already converted by the schema); `timeouts` and `tls` rename theirs (`idle` → `idleMs`, `cert` → `certFile`).
 */
function resolveServer(given: ParsedServer | undefined, d: ServerSettings): ServerSettings {
  const { timeouts, tls, auth, ...sameNamed } = given ?? {};
  return {
    ...orDefaults<ServerSettings>(sameNamed, d),
    timeouts: { idleMs: timeouts?.idle ?? d.timeouts.idleMs, commandMs: timeouts?.command ?? d.timeouts.commandMs },
    auth: orDefaults(auth, d.auth),
    tls: { starttls: tls?.starttls ?? d.tls.starttls, certFile: tls?.cert ?? d.tls.certFile, keyFile: tls?.key ?? d.tls.keyFile, port: tls?.port ?? d.tls.port },
  };
}

/** `defaults`, with each of its keys that `given` sets (not undefined) taken from `given`. */
function orDefaults<T extends object>(given: { readonly [K in keyof T]?: T[K] } | undefined, defaults: T): T {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const value = given?.[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}

type ResolvedDist = NonNullable<Profile['message']['sizeDist']>;

/**
 * `{[valueKey]: n, [distKey]: null}` for a fixed value; for a distribution, the distribution and,
 * as the value, its largest draw (wire buffers are sized for it; an empirical file's largest value
 * is known only once it is read, so its value is 0 here).
 */
function fixedOrDistValue<V extends string, D extends string>(
  valueKey: V,
  distKey: D,
  input: number | Record<string, unknown> | undefined,
  fallback: number,
): Record<V, number> & Record<D, ResolvedDist | null> {
  const out = {} as Record<string, unknown>;
  if (input === undefined || typeof input === 'number') {
    out[valueKey] = input ?? fallback;
    out[distKey] = null;
    return out as Record<V, number> & Record<D, ResolvedDist | null>;
  }
  const d = input as { dist: string; min?: number; max?: number; median?: number; sigma?: number; file?: string };
  let dist: ResolvedDist;
  if (d.dist === 'uniform') dist = { dist: 'uniform', min: Math.min(d.min!, d.max!), max: Math.max(d.min!, d.max!) };
  else if (d.dist === 'lognormal') dist = { dist: 'lognormal', median: d.median!, sigma: d.sigma!, min: d.min ?? 1, max: d.max ?? LOGNORMAL_DEFAULT_MAX(d.median!, d.sigma!) };
  else dist = { dist: 'empirical', file: d.file! };
  out[valueKey] = dist.dist === 'empirical' ? 0 : dist.max;
  out[distKey] = dist;
  return out as Record<V, number> & Record<D, ResolvedDist | null>;
}

function toProfileIssues(issue: z.core.$ZodIssue, input: Record<string, unknown>): ProfileIssue[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: path === '' ? key : `${path}.${key}`,
      message: `unknown key${suggest(key, KNOWN_KEYS[path] ?? [])}`,
    }));
  }
  if (issue.code === 'invalid_type' && issue.expected === 'object') {
    // zod leaves the input out of its issues; look the value up for the message.
    const value = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)[key], input);
    return [{ path, message: `expected a mapping, got ${show(value)}` }];
  }
  return [{ path, message: issue.message }];
}

/**
 * Rules that span fields. They read the merged input and check only values that are valid on
 * their own, so a bad field is reported once (by the schema), not again here.
 */
function crossFieldIssues(input: Record<string, unknown>): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const message = isPlainObject(input.message) ? input.message : {};
  const envelope = isPlainObject(input.envelope) ? input.envelope : {};

  const parsedRecipients = MessageSchema.shape.recipients.safeParse(message.recipients).data;
  // A distribution may give 2 or more recipients: the template needs {n} then too.
  const recipients = typeof parsedRecipients === 'object' ? 2 : (parsedRecipients ?? DEFAULTS.message.recipients);
  const to = EnvelopeSchema.shape.to.safeParse(envelope.to).data ?? DEFAULTS.envelope.to;
  if (recipients > 1 && !to.includes('{n}')) {
    issues.push({
      path: 'envelope.to',
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
  const body = MessageSchema.shape.body.safeParse(message.body).data;
  if (target?.scheme === 'lmtp' && body === 'bdat') issues.push({ path: 'message.body', message: 'LMTP targets take DATA only here (one reply per recipient); use "data" or "auto"' });
  const from = EnvelopeSchema.shape.from.safeParse(envelope.from).data ?? DEFAULTS.envelope.from;
  if (target && !isLoopbackHost(target.host) && input.allowRealRecipients !== true) {
    // Safe by default: nothing goes to a real domain on a remote MTA without saying so.
    for (const [key, mailbox] of [
      ['envelope.to', to],
      ['envelope.from', from],
    ] as const) {
      const domain = domainOf(mailbox);
      if (domain !== '' && !isReservedDomain(domain)) {
        issues.push({
          path: key,
          message: `domain "${domain}" is not reserved (RFC 2606) and the target ${target.host} is not loopback; set allowRealRecipients: true (--allow-real-recipients) to send real mail`,
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

/** `over` merged onto `base`, key by key; nested mappings merge, null and undefined are skipped. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of [base, over]) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === null || value === undefined) continue;
      const prev = Object.hasOwn(out, key) ? out[key] : undefined;
      const next = isPlainObject(value) ? merge(isPlainObject(prev) ? prev : {}, value) : value;
      // defineProperty, not `out[key] =`: a "__proto__" key stays a key (and is reported unknown).
      Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** ` (did you mean "size"?)` when a known key is within edit distance 2, else empty. */
function suggest(key: string, known: readonly string[]): string {
  let best = '';
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best === '' ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
