/**
 * The `run` flags turned into what the run needs before it starts: the profile keys they set (the
 * resolver checks them with the file's), and the publishing and delivery settings the resolver
 * does not see, each bad one an issue for the run's one ProfileError (exit 2).
 */
import type { ProfileIssue } from '../errors.js';
import { parseDuration, type ProfileInput } from '../profile/index.js';
import { DEFAULT_PUBLISH_TIMEOUT_MS, MAX_PUBLISH_TIMEOUT_MS, publishUrlIssue } from '../report/publish.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, parseSinkUrl } from '../report/sink.js';
import { definedOnly, num } from './flags.js';

/** A `num` flag: a number, or the text when it is not a decimal number (the resolver names it). */
type Num = number | string;

/** The `run` flags that set profile keys, as commander gives them. */
export interface ProfileFlags {
  readonly target?: string;
  readonly workers?: Num;
  readonly sessions?: Num;
  readonly messages?: Num;
  readonly messagesPerSession?: Num;
  readonly duration?: string;
  readonly pipelining?: string;
  readonly seed?: Num;
  readonly executor?: string;
  readonly rate?: Num;
  readonly maxSessions?: Num;
  readonly warmup?: string;
  readonly gracefulStop?: string;
  readonly allowRealRecipients?: boolean;
  readonly sourceIp?: string;
  readonly clientAddress?: string;
  readonly proxy?: string;
  readonly xclient?: boolean;
  readonly scenario?: string;
  readonly recipients?: Num;
  readonly size?: Num;
  readonly maxRecipientsPerTransaction?: Num;
  readonly body?: string;
  readonly chunkSize?: Num;
  readonly text?: string;
  readonly replay?: string;
  readonly attachment?: Num;
  readonly starttls?: string;
  readonly ca?: string;
  readonly insecure?: boolean;
  readonly tlsResume?: boolean;
  readonly auth?: string;
  readonly credentials?: string;
  readonly threshold: readonly string[];
  readonly percentiles?: string;
  /** `--domain gmail.test:67.4` (repeatable): weighted recipient domains. */
  readonly domain?: readonly string[];
}

/**
 * `--domain` values (`gmail.test:67.4`, KumoMTA's traffic generator's form; `gmail.test` alone
 * weighs 1) as `envelope.to.domains`; undefined without any. A weight that is not a number is
 * kept as text for the resolver to name.
 */
export function domainWeights(values: readonly string[] | undefined): Record<string, number | string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const out: Record<string, number | string> = {};
  for (const v of values) {
    const { domain, weight } = splitDomainFlag(v);
    Object.defineProperty(out, domain, { value: weight === null ? 1 : num(weight), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** One `--domain` value split at its last colon: `gmail.test:67.4` → the domain and `67.4`; no colon, no weight (null). */
function splitDomainFlag(value: string): { domain: string; weight: string | null } {
  const colon = value.lastIndexOf(':');
  return { domain: (colon < 0 ? value : value.slice(0, colon)).trim(), weight: colon < 0 ? null : value.slice(colon + 1) };
}

/** `--domain` given twice for one domain (the same case: other cases the resolver names): one issue each. */
export function domainFlagIssues(values: readonly string[] | undefined): ProfileIssue[] {
  const seen = new Map<string, string>();
  const issues: ProfileIssue[] = [];
  for (const v of values ?? []) {
    const { domain } = splitDomainFlag(v);
    const first = seen.get(domain);
    if (first !== undefined) issues.push({ path: '--domain', message: `${domain} is given twice (${first} and ${v}); give each domain once, with its weight` });
    else seen.set(domain, v);
  }
  return issues;
}

/**
 * The profile keys the flags set, to resolve over the profile file's: flags left out are dropped
 * (the file's value stands), and so are sections no flag filled. `--scenario message=90,VRFY=5`
 * becomes a weight mapping, `--percentiles 50,99.9` a list, `--insecure` `tls.verify: false`.
 */
export function profileOverrides(opts: ProfileFlags): ProfileInput {
  return definedOnly({
    target: opts.target,
    workers: opts.workers,
    sessions: opts.sessions,
    messages: opts.messages,
    messagesPerSession: opts.messagesPerSession,
    duration: opts.duration,
    pipelining: opts.pipelining,
    seed: opts.seed,
    executor: opts.executor,
    rate: opts.rate,
    maxSessions: opts.maxSessions,
    warmup: opts.warmup,
    gracefulStop: opts.gracefulStop,
    allowRealRecipients: opts.allowRealRecipients || undefined,
    identity: { sourceIp: opts.sourceIp, clientAddress: opts.clientAddress, proxy: opts.proxy, xclient: opts.xclient || undefined },
    scenario:
      opts.scenario === undefined
        ? undefined
        : Object.fromEntries(
            opts.scenario
              .split(',')
              .map((kv) => kv.split('='))
              .map(([k, w]) => [k.trim(), num(w ?? '')]),
          ),
    message: {
      recipients: opts.recipients,
      size: opts.size,
      maxRecipientsPerTransaction: opts.maxRecipientsPerTransaction,
      body: opts.body,
      chunkSize: opts.chunkSize,
      text: opts.text,
      replay: opts.replay,
      attachment: opts.attachment,
    },
    tls: { starttls: opts.starttls, ca: opts.ca, verify: opts.insecure ? false : undefined, resume: opts.tlsResume || undefined },
    auth: { mechanism: opts.auth, credentialsFile: opts.credentials },
    envelope: { to: opts.domain?.length ? { domains: domainWeights(opts.domain) } : undefined },
    thresholds: opts.threshold.length > 0 ? opts.threshold : undefined,
    percentiles: opts.percentiles === undefined ? undefined : opts.percentiles.split(',').map((p) => num(p.trim())),
  } as ProfileInput);
}

/** `--sink` and `--drain-timeout`, checked before the run starts; every bad flag an issue (exit 2). */
export function sinkSettings(opts: { sink?: string; drainTimeout?: string }): { url: URL | null; drainTimeoutMs: number; issues: ProfileIssue[] } {
  const issues: ProfileIssue[] = [];
  let url: URL | null = null;
  if (opts.sink !== undefined) {
    const parsed = parseSinkUrl(opts.sink);
    if (typeof parsed === 'string') issues.push({ path: '--sink', message: parsed });
    else url = parsed;
  }
  let drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS;
  if (opts.drainTimeout !== undefined) {
    if (opts.sink === undefined) issues.push({ path: '--drain-timeout', message: 'needs --sink (it waits for the sink)' });
    try {
      drainTimeoutMs = parseDuration(opts.drainTimeout);
      if (drainTimeoutMs < 0) issues.push({ path: '--drain-timeout', message: 'must not be negative' });
      if (drainTimeoutMs > MAX_PUBLISH_TIMEOUT_MS) issues.push({ path: '--drain-timeout', message: `must be at most 596h (${MAX_PUBLISH_TIMEOUT_MS} ms)` });
    } catch (err) {
      issues.push({ path: '--drain-timeout', message: (err as Error).message });
    }
  }
  return { url, drainTimeoutMs, issues };
}

/**
 * The publish flags, checked before the run starts: the settings, and every bad flag as an issue
 * for the run's one ProfileError (exit 2), URLs shown without userinfo, path or query.
 */
export function publishSettings(opts: { publish?: string; pushgateway?: string; publishTimeout?: string }): {
  webhook?: URL;
  pushgateway?: URL;
  timeoutMs: number;
  issues: ProfileIssue[];
} {
  const issues: ProfileIssue[] = [];
  for (const [flag, value] of [
    ['--publish', opts.publish],
    ['--pushgateway', opts.pushgateway],
  ] as const) {
    const issue = publishUrlIssue(flag, value);
    if (issue) issues.push(issue);
  }
  let timeoutMs = DEFAULT_PUBLISH_TIMEOUT_MS;
  if (opts.publishTimeout !== undefined) {
    try {
      timeoutMs = parseDuration(opts.publishTimeout);
      if (timeoutMs <= 0) issues.push({ path: '--publish-timeout', message: 'must be more than 0' });
      // As every other duration: Node timers hold at most 2^31 − 1 ms.
      if (timeoutMs > MAX_PUBLISH_TIMEOUT_MS) issues.push({ path: '--publish-timeout', message: `must be at most 596h (${MAX_PUBLISH_TIMEOUT_MS} ms)` });
    } catch (err) {
      issues.push({ path: '--publish-timeout', message: (err as Error).message });
    }
  }
  if (issues.length > 0) return { timeoutMs, issues };
  return {
    webhook: opts.publish === undefined ? undefined : new URL(opts.publish),
    pushgateway: opts.pushgateway === undefined ? undefined : new URL(opts.pushgateway),
    timeoutMs,
    issues,
  };
}
