#!/usr/bin/env node
/**
 * smtpbench command line. Exit codes (DESIGN §8): 0 the run completed (error replies are data),
 * or `compare` found no regression; 1 the run could not start or no transaction succeeded;
 * 2 invalid profile or usage (for `compare` also a source that cannot be read or fetched);
 * 3 `compare` found a regression (EXIT_REGRESSION, src/cli/compare.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ProfileError, SmtpBenchError } from '../errors.js';
import { compareCommand } from './compare.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;

const program = new Command()
  .name('smtpbench')
  .description('SMTP load testing and benchmarking: pipelined sessions on a worker pool, HdrHistogram reports')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .exitOverride()
  .showHelpAfterError();
// Subcommands do not inherit exitOverride(): set it on each, so a usage error exits 2 everywhere.
program.addCommand(runCommand().exitOverride());
program.addCommand(serveCommand().exitOverride());
program.addCommand(compareCommand().exitOverride());

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
    process.exitCode = err.code === 'SB_PROFILE_NOT_FOUND' || err.code === 'SB_USAGE' ? EXIT_USAGE : EXIT_RUN_FAILED;
  } else {
    process.stderr.write(`smtpbench: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT_RUN_FAILED;
  }
}
