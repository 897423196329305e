#!/usr/bin/env node
/**
 * smtpbench command line. Exit codes (DESIGN §8): 0 the run completed (error replies are data) and
 * every threshold passed, or `compare` found no regression; 1 the run could not start or no
 * transaction succeeded (this wins over 99), or a publish failed under --publish-required;
 * 2 invalid profile or usage (a threshold that does not parse or names an unknown metric included;
 * for `compare` and `report` also a source that cannot be read or fetched); 3 `compare` found a
 * regression (EXIT_REGRESSION, src/cli/compare.ts); 99 a threshold failed, or an abortOnFail
 * threshold stopped the run (as k6; results are written first); 130 aborted by a second Ctrl-C.
 * `capacity`: 0 an answer was found (a rate passed); 1 no rate passed (the target failed at the
 * lowest rate, could not be reached, or the first step was unreliable); 2 usage.
 * `merge`: 0 merged and every threshold passed; 1 summary.json could not be written; 2 usage, an
 * input that cannot be read, or inputs that cannot be added up (docs/distributed.md "Merging shards"); 99 a
 * threshold failed on the merged run.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { ProfileError, SmtpBenchError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;
/** A threshold failed (k6's exit code for failed thresholds). */
export const EXIT_THRESHOLDS = 99;

// A reader that went away (`| head`) ends that stream, not the run: results are still written.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const program = new Command()
  .name('smtpbench')
  .description('SMTP load testing and benchmarking: pipelined sessions on a worker pool, HdrHistogram reports')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .exitOverride()
  .showHelpAfterError();

/**
 * Each subcommand's module, loaded on demand: `smtpbench run` never loads compare's statistics or
 * report fetching (start-up is a fixed cost of every run, issue 14). The help and an unknown
 * command load them all, in this order.
 */
const COMMANDS: Record<string, () => Promise<CommandUnknownOpts>> = {
  run: async () => (await import('./run.js')).runCommand(),
  serve: async () => (await import('./serve.js')).serveCommand(),
  report: async () => (await import('./report.js')).reportCommand(),
  compare: async () => (await import('./compare.js')).compareCommand(),
  merge: async () => (await import('./merge.js')).mergeCommand(),
  capacity: async () => (await import('./capacity.js')).capacityCommand(),
};
/** Loads the subcommands wanted, parses argv and runs one, mapping errors to exit codes. */
async function main(): Promise<void> {
  const invoked = process.argv[2];
  const wanted = Object.hasOwn(COMMANDS, invoked ?? '') ? [COMMANDS[invoked!]] : Object.values(COMMANDS);
  // Subcommands do not inherit exitOverride(): set it on each, so a usage error exits 2 everywhere.
  for (const command of await Promise.all(wanted.map((load) => load()))) program.addCommand(command.exitOverride());

  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    } else if (err instanceof ProfileError) {
      process.stderr.write(`smtpbench: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
    } else if (err instanceof SmtpBenchError) {
      process.stderr.write(`smtpbench: ${err.message}\n`);
      process.exitCode = err.code === 'SB_PROFILE_NOT_FOUND' || err.code === 'SB_USAGE' ? EXIT_USAGE : err.code === 'SB_THRESHOLD_FAILED' ? EXIT_THRESHOLDS : EXIT_RUN_FAILED;
    } else {
      process.stderr.write(`smtpbench: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = EXIT_RUN_FAILED;
    }
  }
}
// A bundle is a classic script (scripts/build.mjs): no top-level await.
void main();
