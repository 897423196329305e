/**
 * The one profile resolver (house style §1): profile file input + flag overrides → a readonly
 * `Profile`, with defaults from `DEFAULTS` and every problem collected into one `ProfileError`.
 * What each key may hold is in `schema.ts` (the server section in `server-section.ts`, thresholds
 * in `thresholds.ts`), the rules between keys in `cross-field.ts`; this module merges the flags
 * over the file, collects every problem, and fills and converts the result.
 */

import { z } from 'zod';
import { ProfileError, type ProfileIssue } from '../errors.js';
import { crossFieldIssues } from './cross-field.js';
import { DEFAULTS, deepFreeze, defaultWorkers } from './defaults.js';
import { isLoopbackHost } from './safety.js';
import { isPlainObject, show } from './fields.js';
import { InputSchema, KNOWN_KEYS, type WeightedTo } from './schema.js';
import { resolveServer } from './server-section.js';
import { knownMetricsNote, resolveThresholds } from './thresholds.js';
import type { Profile, ProfileInput } from './types.js';

/** Largest lognormal draw when no `max` is given: median · e^(4σ) (a draw above it has odds of about 3 in 100,000), at most 100 MiB. */
const LOGNORMAL_DEFAULT_MAX = (median: number, s: number): number => Math.min(104_857_600, Math.round(median * Math.exp(4 * s)));

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
  const merged = merge(keepLocalPart(base, flags as Record<string, unknown>), flags as Record<string, unknown>);

  const parsed = InputSchema.safeParse(merged);
  if (!parsed.success) issues.push(...parsed.error.issues.flatMap((issue) => toProfileIssues(issue, merged)));
  issues.push(...crossFieldIssues(merged));
  const extraThresholds = flagThresholds === undefined ? [] : resolveThresholds(flagThresholds, (path, message) => issues.push({ path: `--threshold${path.map((p) => `[${p}]`).join('')}`, message }));
  if (issues.length > 0 || !parsed.success) {
    throw new ProfileError(issues, source, knownMetricsNote(issues));
  }

  const v = parsed.data;
  const d = DEFAULTS;
  const envelope = resolveEnvelope(v.envelope, d.envelope);
  return deepFreeze<Profile>({
    target: v.target ?? d.target,
    workers: v.workers ?? defaultWorkers(v.target === undefined || v.target === null || isLoopbackHost(v.target.host)),
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
    envelope,
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
    server: resolveServer(v.server, d.server, v.seed, envelope.domains !== null),
    seed: v.seed ?? d.seed,
    thresholds: [...(v.thresholds ?? d.thresholds), ...extraThresholds],
    percentiles: v.percentiles ?? d.percentiles,
  });
}

type ResolvedDist = NonNullable<Profile['message']['sizeDist']>;

/** The local part of the default template (`rcpt{n}`), for a weighted `to` without `local`. */
const DEFAULT_LOCAL = DEFAULTS.envelope.to.slice(0, DEFAULTS.envelope.to.lastIndexOf('@'));

/**
 * The envelope: a weighted `to` (`{local, domains}`) becomes `to` = the local part at the first
 * domain, and `domains` the list; a template `to` stands as it is, with no `domains`.
 */
function resolveEnvelope(e: { from?: string; to?: string | WeightedTo; helo?: string } | undefined, d: Profile['envelope']): Profile['envelope'] {
  const to = e?.to ?? d.to;
  const base = { from: e?.from ?? d.from, helo: e?.helo ?? d.helo };
  if (typeof to === 'string') return { ...base, to, domains: null };
  return { ...base, to: `${to.local ?? DEFAULT_LOCAL}@${to.domains[0].domain}`, domains: to.domains };
}

/**
 * `--domain` flags (a weighted `to` without `local`) over a profile whose `to` is a template: the
 * template's local part is kept (`u{n}@example.test` → local `u{n}`), instead of the default.
 */
function keepLocalPart(base: Record<string, unknown>, flags: Record<string, unknown>): Record<string, unknown> {
  const flagTo = isPlainObject(flags.envelope) ? flags.envelope.to : undefined;
  const envelope = isPlainObject(base.envelope) ? base.envelope : undefined;
  if (!isPlainObject(flagTo) || 'local' in flagTo || typeof envelope?.to !== 'string' || !envelope.to.includes('@')) return base;
  return { ...base, envelope: { ...envelope, to: { local: envelope.to.slice(0, envelope.to.lastIndexOf('@')) } } };
}

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
  if (d.dist === 'uniform')
    dist = { dist: 'uniform', min: d.min!, max: d.max! }; // min <= max: crossFieldIssues refuses the reverse
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
