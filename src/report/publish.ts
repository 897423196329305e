/**
 * Publishing a finished run with undici (issue 9 item 6):
 * - `--publish URL` POSTs summary.json, byte for byte as written, to a webhook;
 * - `--pushgateway URL` PUTs the run's figures to a Prometheus Pushgateway (`pushgateway.ts`
 *   writes them).
 *
 * Both retry network errors, 5xx and 429 with exponential backoff and jitter, never 4xx, within
 * one bounded total time; a failure is one line for a person, never a lost result (publishing runs
 * after the files are written). Credentials in a URL (`user:pass@`) go out as HTTP Basic
 * authentication (RFC 7617) and are never printed: messages show `displayUrl`, and never the
 * server's response body (it may echo the URL's token or the credentials).
 */
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProfileIssue } from '../errors.js';
import { MAX_DURATION_MS } from '../profile/limits.js';
import { maskUserinfo, printable } from '../redact.js';
import { defaultInstance, pushgatewayGroupPath, pushgatewayUrl, runMetricsText } from './pushgateway.js';
import type { Summary } from './summary.js';

/** Default total time of one publish, every try and wait included (`--publish-timeout`), ms. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

/**
 * Longest total time of one publish, ms: what a Node timer holds (`MAX_DURATION_MS`);
 * `AbortSignal.timeout` throws above 2^32 − 1 and `setTimeout` fires after 1 ms above 2^31 − 1.
 */
export const MAX_PUBLISH_TIMEOUT_MS = MAX_DURATION_MS;

/** A failed response's body is counted up to this many bytes, then the response is dropped. */
const BODY_COUNT_LIMIT = 64 * 1024;

/** At most this many tries per publish. */
export const MAX_TRIES = 4;

/** Backoff before try n+1: BASE·2^(n−1), times a random factor in [0.5, 1) ("equal jitter"). */
const BACKOFF_BASE_MS = 250;

/**
 * A URL as it may be printed: no userinfo, and only the origin of what the user gave, since a
 * path or query may carry a token (Slack- and Discord-style webhooks): `https://hooks.example/…`.
 * `suffix` is a path smtpbench itself added (the Pushgateway's group), shown in full.
 */
export function displayUrl(userUrl: URL, suffix = ''): string {
  const hidden = userUrl.pathname.replace(/\/+$/, '') !== '' || userUrl.search !== '' || userUrl.hash !== '';
  return `${userUrl.protocol}//${userUrl.host}${hidden ? '/…' : ''}${suffix}`;
}

/**
 * Text that failed to parse as a URL, as it may be printed: what may be userinfo masked
 * (`maskUserinfo`: up to the last `@`, since a password may hold `/` or `@`), and, as
 * `displayUrl` does, no path or query (`hooks.example/services/T0/B0` → `hooks.example/…`).
 */
export function displayBadUrl(text: string): string {
  const [, origin, rest] = /^((?:[a-z][a-z0-9+.-]*:)?[\\/]*[^\\/?#]*)(.*)$/is.exec(maskUserinfo(text))!;
  return rest.replace(/^[\\/]+$/, '') === '' ? origin : `${origin}/…`;
}

/**
 * Checks a `--publish`/`--pushgateway` value: an absolute http:// or https:// URL.
 * @returns the problem, naming the flag and the URL without userinfo, path or query, or null
 */
export function publishUrlIssue(flag: string, value: string | undefined): ProfileIssue | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { path: flag, message: `expected an http:// or https:// URL, got ${JSON.stringify(displayBadUrl(value))}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { path: flag, message: `expected an http:// or https:// URL, got a ${url.protocol}// URL (${displayUrl(url)})` };
  return null;
}

/** One publish: where, how, what. `url` may hold credentials; they are sent as Basic auth, never shown. */
export interface PublishRequest {
  /** What to call it in messages, e.g. `--publish`. */
  readonly name: string;
  readonly url: URL;
  /** The URL as messages show it (default `displayUrl(url)`). */
  readonly shown?: string;
  readonly method: 'POST' | 'PUT';
  readonly contentType: string;
  readonly body: string;
}

/** How a publish went. `message` is one line for a person, URL without secrets. */
export type PublishResult =
  | { readonly ok: true; readonly name: string; readonly status: number; readonly tries: number; readonly ms: number; readonly message: string }
  | { readonly ok: false; readonly name: string; readonly tries: number; readonly ms: number; readonly message: string };

/** Options of `publish`. */
export interface PublishOptions {
  /** Total time, every try and wait included, ms (`--publish-timeout`; default 10 s; 1 ms to `MAX_PUBLISH_TIMEOUT_MS`, a value outside is taken as the nearest bound). */
  readonly timeoutMs?: number;
  /** Aborts at once (a Ctrl-C while publishing). */
  readonly signal?: AbortSignal;
  /** At most this many tries (default `MAX_TRIES`). */
  readonly tries?: number;
}

/** An error's text for a person: undici and Node errors, AggregateError (several addresses) included. */
function describeError(err: unknown, perTryMs: number): string {
  const e = err as { message?: string; code?: string; errors?: unknown[] } | null;
  const s = `${perTryMs / 1000} s`;
  if (e?.code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection within ${s}`;
  if (e?.code === 'UND_ERR_HEADERS_TIMEOUT') return `no response within ${s}`;
  if (e?.code === 'UND_ERR_BODY_TIMEOUT') return `the response stalled for ${s}`;
  if (e?.errors?.length && !e.message) return describeError(e.errors[0], perTryMs);
  const message = e?.message || e?.code || String(err);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** `decodeURIComponent`, or the text as it is when it holds a malformed escape (`%zz`). */
function percentDecoded(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * The bytes of a response body, counting at most `BODY_COUNT_LIMIT` (then the body is dropped):
 * the body itself is never shown, since a server may echo the request in it (Express answers an
 * unknown route with `Cannot POST /services/T0SECRET/…`, an auth proxy may echo the Authorization
 * header), and removing every encoding of every secret from it (percent-, base64-, HTML-, JSON-)
 * is not a thing to get right.
 */
async function bodyBytes(body: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n >= BODY_COUNT_LIMIT) break; // leaving the loop destroys the stream
  }
  return n;
}

/** `HTTP 404 Not Found (body: 152 bytes, not shown)`: the standard reason phrase, never the server's words. */
function statusText(status: number, bytes: number): string {
  const reason = STATUS_CODES[status];
  const body = bytes === 0 ? '' : ` (body: ${bytes >= BODY_COUNT_LIMIT ? `${BODY_COUNT_LIMIT} bytes or more` : `${bytes} bytes`}, not shown)`;
  return `HTTP ${status}${reason ? ` ${reason}` : ''}${body}`;
}

/** A Retry-After header (RFC 9110 §10.2.3: seconds or an HTTP date) in ms, or null. */
function retryAfterMs(header: string | string[] | undefined): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined) return null;
  const ms = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/**
 * Sends `req` with undici, retrying network errors (refused, reset, undici's connect, headers and
 * body timeouts), 5xx and 429 up to `tries` times with exponential backoff and equal jitter
 * (250 ms, 500 ms, 1 s, each ×0.5..1, after AWS's "Exponential Backoff And Jitter"; or the
 * server's Retry-After when it fits), all within `timeoutMs`: each try has undici connect,
 * headers and body timeouts of a third of it (at least 1 s), and an AbortSignal ends whatever
 * runs at the bound. 2xx is success; any other status (3xx: redirects are not followed; 4xx)
 * fails at once. undici's RetryAgent is not used: its default retry has no jitter and its wait
 * between tries is a timer the request's signal cannot cancel, so the bound would not hold.
 * A failure shows the status code and its standard reason phrase (RFC 9110 §15), and the size of
 * the body, never the body or the server's own reason phrase (see `bodyBytes`); every message is
 * `printable`. Never throws.
 */
export async function publish(req: PublishRequest, opts: PublishOptions = {}): Promise<PublishResult> {
  // Every timer below (the deadline, undici's per-try timeouts, the backoff waits, which stop short
  // of the deadline) is at most this, so within what Node's timers hold.
  const asked = opts.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const timeoutMs = Number.isNaN(asked) ? DEFAULT_PUBLISH_TIMEOUT_MS : Math.min(MAX_PUBLISH_TIMEOUT_MS, Math.max(1, Math.ceil(asked)));
  const maxTries = opts.tries ?? MAX_TRIES;
  const started = performance.now();
  const deadline = AbortSignal.timeout(timeoutMs);
  const stop = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const perTryMs = Math.min(timeoutMs, Math.max(1000, Math.round(timeoutMs / 3)));
  // undici is loaded here, not with the module: only runs that publish need it (start-up, issue 14).
  const { Agent, request } = await import('../http-client.js');
  const agent = new Agent({ connect: { timeout: perTryMs }, headersTimeout: perTryMs, bodyTimeout: perTryMs });
  const url = new URL(req.url.href);
  const headers: Record<string, string> = { 'content-type': req.contentType };
  if (url.username !== '' || url.password !== '') {
    // RFC 7617: user-id and password as given, percent-decoded (the URL keeps them encoded).
    const credentials = `${percentDecoded(url.username)}:${percentDecoded(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const where = `${req.name} ${req.shown ?? displayUrl(req.url)}`;
  const elapsed = (): number => Math.round(performance.now() - started);
  const failed = (tries: number, why: string): PublishResult => ({
    ok: false,
    name: req.name,
    tries,
    ms: elapsed(),
    message: printable(`${where}: not published (${tries} ${tries === 1 ? 'try' : 'tries'}, ${(elapsed() / 1000).toFixed(1)} s): ${why}`),
  });
  const stopped = (): string => (opts.signal?.aborted ? 'interrupted' : `no success within ${timeoutMs / 1000} s (--publish-timeout)`);
  try {
    let last = '';
    for (let tryNo = 1; tryNo <= maxTries; tryNo++) {
      let waitMs = BACKOFF_BASE_MS * 2 ** (tryNo - 1) * (0.5 + Math.random() / 2);
      try {
        const res = await request(url, {
          dispatcher: agent,
          method: req.method,
          headers,
          body: req.body,
          signal: stop,
        });
        const bytes = await bodyBytes(res.body);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          return { ok: true, name: req.name, status: res.statusCode, tries: tryNo, ms: elapsed(), message: printable(`${where}: published (HTTP ${res.statusCode})`) };
        }
        last = statusText(res.statusCode, bytes);
        if (res.statusCode !== 429 && res.statusCode < 500) return failed(tryNo, res.statusCode < 400 ? `${last} (redirects are not followed)` : last);
        waitMs = retryAfterMs(res.headers['retry-after']) ?? waitMs;
      } catch (err) {
        if (stop.aborted) return failed(tryNo, `${stopped()}${last ? `; last: ${last}` : ''}`);
        last = describeError(err, perTryMs);
      }
      if (tryNo === maxTries) return failed(tryNo, last);
      if (performance.now() - started + waitMs >= timeoutMs) return failed(tryNo, `${last}; no time left for another try within ${timeoutMs / 1000} s (--publish-timeout)`);
      try {
        await sleep(waitMs, undefined, { signal: stop });
      } catch {
        return failed(tryNo, `${stopped()}; last: ${last}`);
      }
    }
    return failed(maxTries, last);
  } finally {
    // Close kept-alive and hung sockets now, so the process can exit.
    await agent.destroy();
  }
}

/** Where to publish a run; either may be absent. */
export interface PublishTargets {
  /** `--publish`: the webhook that receives summary.json. */
  readonly webhook?: URL;
  /** `--pushgateway`: the Pushgateway's base URL. */
  readonly pushgateway?: URL;
  /** The Pushgateway `instance` label (default: the host name). */
  readonly instance?: string;
}

/**
 * Publishes a run to its targets at once (so the total time stays one `timeoutMs`):
 * `summaryJson`, the exact text of summary.json as written, POSTed as `application/json` to the
 * webhook; `runMetricsText` of it PUT to the Pushgateway group (PUT replaces the whole group, so a
 * metric the last run had and this one lacks, such as an error kind, does not linger; POST would
 * replace only the metric names pushed). Never throws.
 */
export async function publishRun(summaryJson: string, targets: PublishTargets, opts: PublishOptions = {}): Promise<PublishResult[]> {
  const jobs: Promise<PublishResult>[] = [];
  if (targets.webhook) {
    jobs.push(publish({ name: '--publish', url: targets.webhook, method: 'POST', contentType: 'application/json', body: summaryJson }, opts));
  }
  if (targets.pushgateway) {
    const instance = targets.instance ?? defaultInstance();
    const url = pushgatewayUrl(targets.pushgateway, instance);
    jobs.push(
      publish(
        {
          name: '--pushgateway',
          url,
          shown: displayUrl(targets.pushgateway, pushgatewayGroupPath(instance)),
          method: 'PUT',
          contentType: 'text/plain; version=0.0.4; charset=utf-8',
          body: runMetricsText(JSON.parse(summaryJson) as Summary),
        },
        opts,
      ),
    );
  }
  return Promise.all(jobs);
}
