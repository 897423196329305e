/**
 * Recipient-domain policies of the reference server (`server.domains` in a profile, `PUT /domains`
 * over `serve --http`): one mapping from a domain pattern to its policy, validated by one zod
 * schema, every problem named by its path below the pattern (`"*.gmail.test".defer`).
 *
 * ```yaml
 * domains:
 *   "gmail.test": {defer: 10%, bounce: 2%}
 *   "*.outlook.test": {defer: 0.05, at: data-end, latency: {dist: lognormal, median: 40ms, sigma: 0.5}}
 *   "*": {rate: {messages: 100, per: 1s}, replies: {defer: ["451 4.7.1 Slow down"]}}
 * ```
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { MAX_DOMAIN, MAX_LABEL } from '../protocol/address.js';
import { delayOf, delayToSpec, percent, type IssueSink } from './faults.js';
import { duration, intIn, isPlainObject, show } from './fields.js';
import { DEFAULT_BOUNCE_REPLIES, DEFAULT_DEFER_REPLIES, enhancedClassIssue, replyLineIssue } from './reply-pool.js';
import type { DelaySpec, DomainPolicy } from './types.js';

/** At most this many policies (each pattern is looked up per new domain: the list stays short). */
export const MAX_DOMAIN_POLICIES = 1000;

/** `0.1`, `"10%"`, `"10 %"` → 0.1: a share of recipients. */
const share = z.union([z.number(), z.string()], { error: (iss) => `expected a fraction from 0 to 1 or a percentage such as "10%", got ${show(iss.input)}` }).transform((value, ctx) => {
  const n = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*%\s*$/.test(value) ? Number.parseFloat(value) / 100 : Number.NaN;
  if (Number.isNaN(n)) ctx.addIssue({ code: 'custom', message: `expected a fraction from 0 to 1 or a percentage such as "10%", got ${show(value)}` });
  else if (n < 0) ctx.addIssue({ code: 'custom', message: 'must be at least 0 %' });
  else if (n > 1) ctx.addIssue({ code: 'custom', message: `must be at most 100 % (a fraction of at most 1, or a percentage such as "10%"), got ${show(value)}` });
  else return n;
  return z.NEVER;
});

/**
 * One reply of a pool: `"4xx x.y.z text"` for a deferral, `"5xx x.y.z text"` for a bounce (RFC 5321
 * §4.2 code, RFC 3463 enhanced code of the same class, then text; one line).
 */
const reply = (cls: 4 | 5) =>
  z.string({ error: (iss) => `expected a reply such as "${cls === 4 ? '451 4.7.1 Try later' : '550 5.1.1 No such user'}", got ${show(iss.input)}` }).superRefine((text, ctx) => {
    const m = /^([2-5])\d\d ([2-5])\.\d{1,3}\.\d{1,3} \S.*$/.exec(text);
    if (m === null || /[\r\n]/.test(text)) ctx.addIssue({ code: 'custom', message: `expected "${cls}xx ${cls}.y.z text" (a code, an enhanced status code, text), got ${show(text)}` });
    else {
      const issue = replyLineIssue(text) ?? (Number(m[1]) !== cls ? `a ${text.slice(0, 3)} reply is not a ${cls === 4 ? 'deferral (4xx)' : 'bounce (5xx)'}` : enhancedClassIssue(text));
      if (issue !== null) ctx.addIssue({ code: 'custom', message: issue });
    }
  });

const pool = (cls: 4 | 5) => z.array(reply(cls), { error: (iss) => `expected a list of replies, got ${show(iss.input)}` }).min(1, 'must list at least one reply');

/** One policy's keys; `latency` is checked by the fault delay parser (`delayOf`). */
const PolicySchema = z.strictObject({
  defer: share.optional(),
  bounce: share.optional(),
  at: z.enum(['rcpt', 'data-end'], { error: (iss) => `expected "rcpt" or "data-end", got ${show(iss.input)}` }).optional(),
  replies: z.strictObject({ defer: pool(4).optional(), bounce: pool(5).optional() }, { error: (iss) => `expected {defer: [...], bounce: [...]}, got ${show(iss.input)}` }).optional(),
  latency: z.unknown().optional(),
  rate: z
    .strictObject(
      { messages: intIn(1).optional(), recipients: intIn(1).optional(), connections: intIn(1).optional(), per: duration(1) },
      { error: (iss) => `expected {messages: N, recipients: N, connections: N, per: 1s} (any of the three counts), got ${show(iss.input)}` },
    )
    .refine((r) => r.messages !== undefined || r.recipients !== undefined || r.connections !== undefined, 'needs messages, recipients or connections: how many per `per`')
    .optional(),
});

/** Policy keys, for messages. */
export const POLICY_KEYS = Object.keys(PolicySchema.shape);
/** The keys of a policy's nested mappings, for messages. */
const NESTED_KEYS: Record<string, string> = { rate: 'messages, recipients, connections, per', replies: 'defer, bounce' };

/** An exact domain, `*.suffix` or `*`: LDH labels (and `_`), dot-separated. */
const PATTERN = /^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*)$/;

/**
 * A pattern with non-ASCII labels (`bücher.test`, `*.bücher.test`) in its A-label form
 * (`xn--bcher-kva.test`), as the server matches a recipient's domain (RFC 5890; Node's
 * `domainToASCII`, UTS #46); an ASCII pattern as it is. One that does not convert stays as written,
 * for PATTERN to refuse.
 */
function asciiPattern(pattern: string): string {
  if (/^[\x00-\x7f]*$/.test(pattern)) return pattern;
  const wild = pattern.startsWith('*.') ? '*.' : '';
  const ascii = domainToASCII(pattern.slice(wild.length));
  return ascii === '' ? pattern : wild + ascii;
}

/**
 * Why a pattern of PATTERN's shape can match no domain the server takes, or null: the limits of
 * its own grammar (`MAX_DOMAIN`, `MAX_LABEL`: RFC 5321 §4.5.3.1.2, RFC 1035 §2.3.4), a label at a
 * hyphen's edge (RFC 1123 §2.1), or an A-label (`xn--…`) that does not decode (RFC 5891 §5.4).
 */
function patternIssue(pattern: string): string | null {
  if (pattern === '*') return null;
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (name.length > MAX_DOMAIN) return `a domain is at most ${MAX_DOMAIN} octets (RFC 5321 §4.5.3.1.2), this one has ${name.length}`;
  for (const label of name.split('.')) {
    if (label.length > MAX_LABEL) return `a label is at most ${MAX_LABEL} octets (RFC 1035 §2.3.4): ${label.slice(0, 20)}… has ${label.length}`;
    if (label.startsWith('-') || label.endsWith('-')) return `a label neither starts nor ends with a hyphen (RFC 1123 §2.1): ${label}`;
  }
  if (/(^|\.)xn--/.test(name) && domainToASCII(name) === '') return `not a valid internationalised domain name (an A-label that does not decode, RFC 5891 §5.4): ${name}`;
  return null;
}

/** The path segment naming a pattern: quoted, since patterns hold dots (`"*.gmail.test"`). */
export const patternKey = (pattern: string): string => JSON.stringify(pattern);

/**
 * Validates a domain → policy mapping (a profile's `server.domains`, a `PUT /domains` body) into
 * policies in the given order. Every problem goes to `issue` with its path (`["\"gmail.test\"",
 * "defer"]`); returns undefined if there was any. Shares are fractions, `defer + bounce` at most 1;
 * pools default to the generic ones of src/profile/reply-pool.ts.
 */
export function resolveDomainPolicies(input: unknown, issue: IssueSink): DomainPolicy[] | undefined {
  if (!isPlainObject(input)) {
    issue([], `expected a mapping of domain patterns to policies, such as {"example.test": {defer: 10%}}, got ${show(input)}`);
    return undefined;
  }
  const entries = Object.entries(input);
  let ok = true;
  const report: IssueSink = (path, message) => {
    ok = false;
    issue(path, message);
  };
  if (entries.length > MAX_DOMAIN_POLICIES) report([], `at most ${MAX_DOMAIN_POLICIES} domain patterns, got ${entries.length}`);
  const out: DomainPolicy[] = [];
  const seen = new Set<string>();
  for (const [rawPattern, value] of entries) {
    const key = patternKey(rawPattern);
    const pattern = asciiPattern(rawPattern.toLowerCase());
    const unfit = PATTERN.test(pattern) ? patternIssue(pattern) : 'expected a domain (example.test), a wildcard (*.example.test) or * (every domain)';
    if (unfit !== null) report([key], unfit);
    else if (seen.has(pattern)) report([key], 'names the same domains as another pattern (patterns are not case-sensitive)');
    seen.add(pattern);
    const policy = resolvePolicy(pattern, value, (path, message) => report([key, ...path], message));
    if (policy !== undefined) out.push(policy);
  }
  return ok ? out : undefined;
}

function resolvePolicy(pattern: string, value: unknown, issue: IssueSink): DomainPolicy | undefined {
  const r = PolicySchema.safeParse(value ?? {});
  if (!r.success) {
    for (const iss of r.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        const within = iss.path.length === 0 ? `a policy has ${POLICY_KEYS.join(', ')}` : `${iss.path.join('.')} has ${NESTED_KEYS[String(iss.path[0])] ?? 'other keys'}`;
        for (const k of iss.keys) issue([...iss.path.map(String), k], `unknown key (${within})`);
      } else issue(iss.path.map(String), iss.message);
    }
  }
  let latency: DelaySpec | null = null;
  let latencyOk = true;
  if (isPlainObject(value) && value.latency !== undefined) {
    latency = delayOf(value.latency, (path, message) => ((latencyOk = false), issue(path, message)), 'latency') ?? null;
  }
  // The sum is checked whatever else is wrong, so one try names every bad field.
  const shareOf = (v: unknown): number => (v === undefined ? 0 : (share.safeParse(v).data ?? 0));
  const given = isPlainObject(value) ? value : {};
  const sum = shareOf(given.defer) + shareOf(given.bounce);
  const sumOk = sum <= 1 + 1e-9;
  if (!sumOk) issue([], `defer + bounce is ${percent(sum)}; must be at most 100 %`);
  if (!r.success || !latencyOk || !sumOk) return undefined;
  const p = r.data;
  const defer = p.defer ?? 0;
  const bounce = p.bounce ?? 0;
  return {
    pattern,
    defer,
    bounce,
    at: p.at ?? 'rcpt',
    replies: { defer: p.replies?.defer ?? DEFAULT_DEFER_REPLIES, bounce: p.replies?.bounce ?? DEFAULT_BOUNCE_REPLIES },
    latency,
    rate: p.rate === undefined ? null : { messages: p.rate.messages ?? null, recipients: p.rate.recipients ?? null, connections: p.rate.connections ?? null, perMs: p.rate.per },
  };
}

/** A policy in its input form (what `GET /domains` returns; `PUT /domains` takes it back unchanged). */
export function policyToInput(p: DomainPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = { defer: percent(p.defer), bounce: percent(p.bounce), at: p.at, replies: { defer: p.replies.defer, bounce: p.replies.bounce } };
  if (p.latency !== null) out.latency = latencyInput(p.latency);
  if (p.rate !== null) {
    const { messages, recipients, connections, perMs } = p.rate;
    out.rate = { ...(messages === null ? {} : { messages }), ...(recipients === null ? {} : { recipients }), ...(connections === null ? {} : { connections }), per: `${perMs}ms` };
  }
  return out;
}

function latencyInput(d: DelaySpec): string | Record<string, unknown> {
  const [dist, a, b] = delayToSpec(d).split(' ');
  if (d.dist === 'fixed') return dist;
  return d.dist === 'uniform' ? { dist, min: a, max: b } : { dist, median: a, sigma: d.sigma };
}

/** Policies as the mapping they came from, pattern → policy. */
export function policiesToInput(policies: readonly DomainPolicy[]): Record<string, unknown> {
  return Object.fromEntries(policies.map((p) => [p.pattern, policyToInput(p)]));
}
