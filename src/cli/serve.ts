/** `smtpbench serve`: the reference server as a standalone sink (fuller options come with the reference-server issue). */
import { Command } from '@commander-js/extra-typings';
import { DEFAULTS, resolveProfile } from '../profile/index.js';
import { startReferenceServer } from '../server/server.js';

const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

export function serveCommand() {
  return new Command('serve')
    .description('run the reference SMTP server until Ctrl-C; prints "listening on HOST:PORT" first')
    .option('--host <host>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', num, 2525)
    .option('--max-recipients <n>', 'recipients per transaction before 452', num)
    .option('--max-size <size>', 'SIZE limit, e.g. 10MiB (0: none)', num)
    .action(async (opts) => {
      const server: Record<string, unknown> = {};
      if (opts.maxRecipients !== undefined) server.maxRecipients = opts.maxRecipients;
      if (opts.maxSize !== undefined) server.maxMessageSize = opts.maxSize;
      const settings = resolveProfile({ server }, undefined, 'serve flags').server ?? DEFAULTS.server;
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
