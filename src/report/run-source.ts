/**
 * A run to compare or report on, named by a run directory, a summary.json path or an http(s) URL
 * (a CI artifact, a results server). URLs are fetched with undici; the summary is checked and the
 * run assembled by the one loader (run-data.ts), so a fetched run reads exactly like a local one.
 */
import { Agent, interceptors, request } from 'undici';
import { SmtpBenchError } from '../errors.js';
import { checkSummary, loadRunDir, runDataOf, type RunData } from './run-data.js';

/** Time limits for fetching one URL source, ms. */
export interface FetchTimeouts {
  /** TCP (and TLS) connect. */
  readonly connectMs: number;
  /** From the request to the response headers; and the longest pause between body chunks. */
  readonly idleMs: number;
  /** Everything, summary.json and its siblings together. */
  readonly totalMs: number;
}

export const DEFAULT_FETCH_TIMEOUTS: FetchTimeouts = { connectMs: 5_000, idleMs: 10_000, totalMs: 30_000 };

/** Files next to summary.json that may be missing: no such file is data, not an error. */
const MISSING = new Set([403, 404, 410]); // S3-like stores answer 403 for a missing object

const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);

/**
 * Reads a run from a directory, a summary.json path or an http(s) URL. A URL names a summary.json
 * (or a directory when it ends in `/`); `run.hlog` and `timeline.ndjson` are fetched beside it and
 * may be missing (HTTP 403, 404 or 410): then the run has no per-second data.
 * @throws SmtpBenchError SB_USAGE with one line naming the source: a missing or unreadable path,
 *   a summary of another schema, a non-2xx answer, a body that is not JSON (or a run.hlog that is
 *   not an interval log), an unreachable host, a timeout
 */
export async function loadRunSource(source: string, timeouts: FetchTimeouts = DEFAULT_FETCH_TIMEOUTS): Promise<RunData> {
  if (!isUrl(source)) {
    try {
      return loadRunDir(source);
    } catch (err) {
      if (err instanceof SmtpBenchError) throw err;
      // A corrupt run.hlog or timeline: still one line naming the run, never a stack trace.
      throw new SmtpBenchError('SB_USAGE', `${source}: cannot read the run (${(err as Error).message})`, { cause: err });
    }
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new SmtpBenchError('SB_USAGE', `${source}: not a valid URL`);
  }
  if (url.pathname.endsWith('/')) url = new URL('summary.json', url);
  const agent = new Agent({ connect: { timeout: timeouts.connectMs }, headersTimeout: timeouts.idleMs, bodyTimeout: timeouts.idleMs });
  // Artifact stores often redirect to a signed URL.
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  const signal = AbortSignal.timeout(timeouts.totalMs);
  const get = async (target: URL, optional: boolean): Promise<string | null> => {
    try {
      const res = await request(target, { dispatcher, signal });
      if (res.statusCode >= 200 && res.statusCode < 300) return await res.body.text();
      await res.body.dump();
      if (optional && MISSING.has(res.statusCode)) return null;
      throw new SmtpBenchError('SB_USAGE', `${target.href}: HTTP ${res.statusCode}`);
    } catch (err) {
      if (err instanceof SmtpBenchError) throw err;
      throw new SmtpBenchError('SB_USAGE', `${target.href}: cannot fetch (${fetchFailure(err, timeouts)})`, { cause: err });
    }
  };
  try {
    const text = (await get(url, false))!;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SmtpBenchError('SB_USAGE', `${url.href}: the body is not JSON (${JSON.stringify(text.slice(0, 40))}…)`);
    }
    const summary = checkSummary(json, url.href);
    const hlogUrl = new URL('run.hlog', url);
    const [hlog, timeline] = await Promise.all([get(hlogUrl, true), get(new URL('timeline.ndjson', url), true)]);
    try {
      return runDataOf(url.href, summary, hlog, timeline);
    } catch (err) {
      throw new SmtpBenchError('SB_USAGE', `${hlogUrl.href}: not an HdrHistogram interval log (${(err as Error).message})`, { cause: err });
    }
  } finally {
    await agent.close();
  }
}

/** Why a request failed, in a few words (undici and socket error codes). */
function fetchFailure(err: unknown, timeouts: FetchTimeouts): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection within ${timeouts.connectMs} ms`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `no answer within ${timeouts.idleMs} ms`;
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `not done within ${timeouts.totalMs} ms`;
  return code ?? e.message ?? String(err);
}
