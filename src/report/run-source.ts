/**
 * A run to compare or report on, named by a run directory, a summary.json path or an http(s) URL
 * (a CI artifact, a results server). URLs are fetched with undici; the summary is checked and the
 * run assembled by the one loader (run-data.ts), so a fetched run reads exactly like a local one.
 *
 * A URL's secrets are used, never shown, as `--publish` does (publish.ts): userinfo (`user:pass@`)
 * goes out as HTTP Basic authentication (RFC 7617); messages and outputs name a URL by its origin
 * and the run file's name (`sourceName`), never its userinfo, path or query (a signed URL's token);
 * a response body is never printed (a server may echo the token). Every message is `printable`:
 * a crafted summary's keys reach them through the field-by-field check.
 */
import { STATUS_CODES } from 'node:http';
import { Agent, interceptors, request } from '../http-client.js';
import { SmtpBenchError } from '../errors.js';
import { printable } from '../redact.js';
import { displayBadUrl, displayUrl, MAX_PUBLISH_TIMEOUT_MS } from './publish.js';
import { checkSummary, loadRunDir, runDataOf, type RunData } from './run-data.js';

/** Time limits for fetching one URL source, ms. */
export interface FetchTimeouts {
  /** TCP (and TLS) connect. */
  readonly connectMs: number;
  /** From the request to the response headers; and the longest pause between body chunks. */
  readonly idleMs: number;
  /** Everything, summary.json and its siblings together (at most `MAX_FETCH_TIMEOUT_MS`). */
  readonly totalMs: number;
}

export const DEFAULT_FETCH_TIMEOUTS: FetchTimeouts = { connectMs: 5_000, idleMs: 10_000, totalMs: 30_000 };

/** Longest `totalMs`: Node timers hold at most 2^31 − 1 ms (about 24.8 days), as for `--publish-timeout`. */
export const MAX_FETCH_TIMEOUT_MS = MAX_PUBLISH_TIMEOUT_MS;

/** Redirects followed per request (artifact stores often redirect to a signed URL). */
export const MAX_REDIRECTS = 5;

/** Files next to summary.json that may be missing: no such file is data, not an error. */
const MISSING = new Set([403, 404, 410]); // S3-like stores answer 403 for a missing object

/** The files of a run directory: names smtpbench gives, so showing one shows nothing of the user's. */
const RUN_FILES = new Set(['summary.json', 'run.hlog', 'timeline.ndjson']);

const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);

/**
 * A fetched URL as messages and outputs name it: its origin, and the file's name when it is one of
 * a run's files (`https://ci.example/…/summary.json`); never userinfo, the rest of the path, nor
 * the query (`displayUrl`: a path or query may carry a token). Two sources on one server may read
 * alike: the run id tells them apart.
 */
export function sourceName(url: URL): string {
  const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  if (!RUN_FILES.has(name)) return displayUrl(url);
  // The directory, without query or fragment (a relative reference drops them).
  return displayUrl(new URL('./', url), `/${name}`);
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
 * Reads a run from a directory, a summary.json path or an http(s) URL. A URL names a summary.json
 * (or a directory when it ends in `/`); `run.hlog` and `timeline.ndjson` are fetched beside it and
 * may be missing (HTTP 403, 404 or 410): then the run has no per-second data. Userinfo in the URL
 * is sent as Basic authentication, and the query as given, to summary.json and its siblings
 * (undici drops the header on a redirect to another origin). `signal` stops a fetch at once (the other source of a comparison
 * failed); every socket and timer is gone when the promise settles.
 * @throws SmtpBenchError SB_USAGE with one printable line naming the source (URLs as `sourceName`):
 *   a missing or unreadable path, a summary of another schema or with a bad field, a corrupt
 *   run.hlog, a non-2xx answer, too many redirects, a body that is not JSON, an unreachable host,
 *   a timeout
 */
export async function loadRunSource(source: string, timeouts: FetchTimeouts = DEFAULT_FETCH_TIMEOUTS, signal?: AbortSignal): Promise<RunData> {
  try {
    return isUrl(source) ? await loadUrl(source, timeouts, signal) : loadRunDir(source);
  } catch (err) {
    if (err instanceof SmtpBenchError) throw new SmtpBenchError(err.code, printable(err.message), { cause: err.cause });
    // Anything else (a decoder's own error): still one line naming the run, never a stack trace.
    const name = isUrl(source) ? displayBadUrl(source) : source;
    throw new SmtpBenchError('SB_USAGE', printable(`${name}: cannot read the run (${(err as Error).message})`), { cause: err });
  }
}

async function loadUrl(source: string, timeouts: FetchTimeouts, signal: AbortSignal | undefined): Promise<RunData> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new SmtpBenchError('SB_USAGE', `${displayBadUrl(source)}: not a valid URL`);
  }
  // A relative reference drops the query: it is kept (see the siblings below).
  if (url.pathname.endsWith('/')) url = Object.assign(new URL('summary.json', url), { search: url.search });
  const headers: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    // RFC 7617: user-id and password as given, percent-decoded (the URL keeps them encoded).
    headers.authorization = `Basic ${Buffer.from(`${percentDecoded(url.username)}:${percentDecoded(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const agent = new Agent({ connect: { timeout: timeouts.connectMs }, headersTimeout: timeouts.idleMs, bodyTimeout: timeouts.idleMs });
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
  const deadline = AbortSignal.timeout(timeouts.totalMs);
  const stop = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const get = async (target: URL, optional: boolean): Promise<string | null> => {
    const shown = sourceName(target);
    try {
      const res = await request(target, { dispatcher, signal: stop, headers });
      if (res.statusCode >= 200 && res.statusCode < 300) return await res.body.text();
      await res.body.dump();
      if (optional && MISSING.has(res.statusCode)) return null;
      // The redirect interceptor hands over the last redirect when it stops following.
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
        throw new SmtpBenchError('SB_USAGE', `${shown}: too many redirects (more than ${MAX_REDIRECTS})`);
      }
      // The standard reason phrase, never the server's own words.
      const reason = STATUS_CODES[res.statusCode];
      throw new SmtpBenchError('SB_USAGE', `${shown}: HTTP ${res.statusCode}${reason ? ` ${reason}` : ''}`);
    } catch (err) {
      if (err instanceof SmtpBenchError) throw err;
      throw new SmtpBenchError('SB_USAGE', `${shown}: ${fetchFailure(err, timeouts, signal)}`, { cause: err });
    }
  };
  try {
    const shown = sourceName(url);
    const text = (await get(url, false))!;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // The body is not shown: it may echo the request's token.
      // A run directory's URL without its trailing slash is read as summary.json itself (a listing or a redirect answers).
      const hint = url.pathname.endsWith('.json') ? '' : '; for a run directory end its URL with /, or name its summary.json';
      throw new SmtpBenchError('SB_USAGE', `${shown}: the body is not JSON (${Buffer.byteLength(text)} bytes, not shown)${hint}`);
    }
    const summary = checkSummary(json, shown);
    // The query goes along: a token there is for the run's files (a signed URL's signature for
    // summary.json alone makes the store answer 403 for the others: missing, as without it).
    const sibling = (name: string): URL => Object.assign(new URL(name, url), { search: url.search });
    const [hlog, timeline] = await Promise.all([get(sibling('run.hlog'), true), get(sibling('timeline.ndjson'), true)]);
    return runDataOf(shown, summary, hlog, timeline);
  } finally {
    // Now, not after the requests still running (a sibling, when the other failed): the process
    // must be free to exit at once.
    await agent.destroy();
  }
}

/** Why a request failed, in a few words (undici and socket error codes); never a URL. */
function fetchFailure(err: unknown, timeouts: FetchTimeouts, signal: AbortSignal | undefined): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'cannot fetch (connection refused)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'cannot fetch (host not found)';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `cannot fetch (no connection within ${timeouts.connectMs} ms)`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `cannot fetch (no answer within ${timeouts.idleMs} ms)`;
  }
  // undici's redirect handler refuses a Location it has already visited.
  if (/redirect loop/i.test(e.message ?? '')) return 'too many redirects (a redirect loop)';
  if (signal?.aborted) return 'not fetched (stopped)';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `cannot fetch (not done within ${timeouts.totalMs} ms)`;
  return `cannot fetch (${code ?? e.message ?? String(err)})`;
}
