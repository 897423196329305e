/** `smtpbench serve`: the reference server as a standalone sink, configured by a profile's `server` section and flags. */
import { readFileSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { ProfileError, SmtpBenchError, type ProfileIssue } from '../errors.js';
import { collect, num, portIssue } from './flags.js';
import { parseAccounts } from '../profile/accounts.js';
import { loadProfileFile, resolveProfile } from '../profile/index.js';
import { credentialIssues } from '../server/certificate.js';
import { startReferenceServer, withoutErrorStacks } from '../server/server.js';
import { progressLine, startStatsHttp } from '../server/stats-http.js';

export function serveCommand() {
  return new Command('serve')
    .description('run the reference SMTP server until Ctrl-C; prints "listening on HOST:PORT" first')
    .option('--profile <file>', "server settings from this profile's `server` section (flags win)")
    .option('--host <host>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', num, 2525)
    .option('--max-recipients <n>', 'recipients per transaction before 452', num)
    .option('--max-size <size>', 'SIZE limit, e.g. 10MiB (0: none)', num)
    .option('--tls-port <n>', 'also listen for implicit TLS (RFC 8314) on this port (0: any free port)', num)
    .option('--tls-cert <file>', 'PEM certificate (default: an ephemeral self-signed one)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--users <file>', 'AUTH accounts, one "name:password" per line')
    .option('--lmtp', 'speak LMTP (RFC 2033): LHLO, one reply per recipient after the data')
    .option('--xclient', "accept Postfix's XCLIENT to vary the client identity")
    .option('--proxy-protocol <version>', 'expect a PROXY protocol header first: v1, v2 or any')
    .option(
      '--http <port>',
      'serve statistics over HTTP: GET /stats (JSON), GET /metrics (Prometheus), GET /sessions (session records); GET/PUT/DELETE /faults and /domains change them at run time',
      num,
    )
    .option('--seed <n>', "seed the server's draws (faults, domain policies) so they replay", num)
    .option('--quiet', 'no per-second statistics lines')
    .option('--fault <spec>', 'inject a fault, e.g. "rcpt: 450 4.2.1 busy @ 5%" (repeatable; docs/reference-server.md "Fault injection")', collect, [] as string[])
    .action(async (opts) => {
      const file = opts.profile === undefined ? undefined : loadProfileFile(opts.profile);
      const fileServer = (file as { server?: { faults?: unknown } } | undefined)?.server;
      const server: Record<string, unknown> = {};
      if (opts.maxRecipients !== undefined) server.maxRecipients = opts.maxRecipients;
      if (opts.maxSize !== undefined) server.maxMessageSize = opts.maxSize;
      const tls: Record<string, unknown> = {};
      if (opts.tlsPort !== undefined) tls.port = opts.tlsPort;
      if (opts.tlsCert !== undefined) tls.cert = opts.tlsCert;
      if (opts.tlsKey !== undefined) tls.key = opts.tlsKey;
      if (Object.keys(tls).length > 0) server.tls = tls;
      if (opts.users !== undefined) server.auth = { users: readUsers(opts.users) };
      if (opts.lmtp) server.lmtp = true;
      if (opts.xclient) server.xclient = true;
      if (opts.proxyProtocol !== undefined) server.proxyProtocol = opts.proxyProtocol;
      // --fault adds to the profile's faults instead of replacing the list.
      if (opts.fault.length > 0) server.faults = [...(Array.isArray(fileServer?.faults) ? fileServer.faults : []), ...opts.fault];
      // Every bad flag in one error: the ports here, the server settings from the resolver.
      const issues = [portIssue('port', opts.port), portIssue('http', opts.http)].filter((i): i is ProfileIssue => i !== null);
      let settings;
      try {
        settings = resolveProfile(file, { server, ...(opts.seed === undefined ? {} : { seed: opts.seed as number }) }, opts.profile ?? 'serve flags').server;
      } catch (err) {
        if (!(err instanceof ProfileError)) throw err;
        issues.unshift(...err.issues);
      }
      if (settings !== undefined) issues.push(...credentialIssues(settings.tls, { cert: opts.tlsCert && '--tls-cert', key: opts.tlsKey && '--tls-key' }));
      if (issues.length > 0 || settings === undefined) throw new ProfileError(issues, opts.profile ? `profile ${opts.profile} with flags` : 'serve flags');
      const port = opts.port as number;
      withoutErrorStacks();
      const srv = await startReferenceServer(settings, opts.host, port).catch((err: Error) => {
        throw new SmtpBenchError('SB_LISTEN', `cannot listen on ${opts.host}:${port}: ${err.message}`, { cause: err });
      });
      const where = (port: number) => `${srv.host.includes(':') ? `[${srv.host}]` : srv.host}:${port}`;
      process.stdout.write(`listening on ${where(srv.port)}\n`);
      if (srv.tlsPort !== null) process.stdout.write(`implicit TLS on ${where(srv.tlsPort)}\n`);
      for (const line of srv.control.plans()) process.stdout.write(`${line}\n`);
      const startedMs = performance.now();
      const httpPort = opts.http === undefined ? null : (opts.http as number);
      const web =
        httpPort === null
          ? null
          : await startStatsHttp(srv.metrics, opts.host, httpPort, startedMs, () => srv.sessions(), srv.control).catch(async (err: Error) => {
              await srv.close();
              throw new SmtpBenchError('SB_LISTEN', `cannot serve statistics on ${opts.host}:${httpPort}: ${err.message}`, { cause: err });
            });
      if (web !== null) process.stdout.write(`stats on http://${where(web.port)}/stats, /metrics and /sessions; faults and policies at /faults, /domains\n`);
      // Each run-time change is logged at once, with its timestamp (and named again in that second's line).
      srv.control.log = (line) => process.stdout.write(`${line}\n`);
      let prev = { ...srv.metrics.counters };
      let prevMs = startedMs;
      let seenChanges = srv.metrics.changes.length;
      const ticker = opts.quiet
        ? null
        : setInterval(() => {
            const now = performance.now();
            const changes = srv.metrics.changes;
            const changed = changes.slice(Math.max(0, Math.min(seenChanges, changes.length)));
            seenChanges = changes.length;
            process.stdout.write(`${progressLine(srv.metrics, prev, (now - prevMs) / 1000, (now - startedMs) / 1000, changed)}\n`);
            prev = { ...srv.metrics.counters };
            prevMs = now;
          }, 1000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      if (ticker !== null) clearInterval(ticker);
      await web?.close();
      const stats = await srv.close();
      process.stdout.write(`${JSON.stringify(stats.counters)}\n`);
    });
}

/**
 * Reads a `--users` file: the `user:password` lines of `run --credentials` (src/profile/accounts.ts),
 * as the server's accounts; a user listed twice keeps the last password.
 * @throws SmtpBenchError `SB_USAGE` when the file cannot be read or a line is not `user:password`
 */
export function readUsers(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SmtpBenchError('SB_USAGE', `cannot read --users ${path}: ${(err as Error).message}`, { cause: err });
  }
  let accounts;
  try {
    accounts = parseAccounts(text);
  } catch (err) {
    throw new SmtpBenchError('SB_USAGE', `--users ${path}: ${(err as Error).message}`, { cause: err });
  }
  return Object.fromEntries(accounts.map((a) => [a.user, a.pass]));
}
