/**
 * undici, for the few commands that make HTTP requests (`--sink`, `--publish`, `--pushgateway`,
 * `--clock-ref`, `compare URL`). Imported with `await import('../http-client.js')` where it is
 * needed, so that a run without them never loads it (start-up, issue 14). A local module between
 * them, because a dynamic import of the CommonJS package itself in the bundle gives its exports
 * under `default` only.
 */
export { Agent, interceptors, request } from 'undici';
