/** `smtpbench serve`: the reference server as a standalone sink, configured by a profile's `server` section and flags. */
import { Command } from '@commander-js/extra-typings';
import { loadProfileFile, resolveProfile } from '../profile/index.js';
import { startReferenceServer } from '../server/server.js';

const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function serveCommand() {
  return new Command('serve')
    .description('run the reference SMTP server until Ctrl-C; prints "listening on HOST:PORT" first')
    .option('--profile <file>', "server settings from this profile's `server` section (flags win)")
    .option('--host <host>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', num, 2525)
    .option('--max-recipients <n>', 'recipients per transaction before 452', num)
    .option('--max-size <size>', 'SIZE limit, e.g. 10MiB (0: none)', num)
    .option('--fault <spec>', 'inject a fault, e.g. "rcpt: 450 4.2.1 busy @ 5%" (repeatable; README "Fault injection")', collect, [] as string[])
    .action(async (opts) => {
      const file = opts.profile === undefined ? undefined : loadProfileFile(opts.profile);
      const fileServer = (file as { server?: { faults?: unknown } } | undefined)?.server;
      const server: Record<string, unknown> = {};
      if (opts.maxRecipients !== undefined) server.maxRecipients = opts.maxRecipients;
      if (opts.maxSize !== undefined) server.maxMessageSize = opts.maxSize;
      // --fault adds to the profile's faults instead of replacing the list.
      if (opts.fault.length > 0) server.faults = [...(Array.isArray(fileServer?.faults) ? fileServer.faults : []), ...opts.fault];
      const settings = resolveProfile(file, { server }, opts.profile ?? 'serve flags').server;
      const port = typeof opts.port === 'number' ? opts.port : Number.NaN;
      const srv = await startReferenceServer(settings, opts.host, port);
      process.stdout.write(`listening on ${srv.host.includes(':') ? `[${srv.host}]` : srv.host}:${srv.port}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const stats = await srv.close();
      process.stdout.write(`${JSON.stringify(stats.counters)}\n`);
    });
}
