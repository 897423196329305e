/** Where tests find the checkout and the built CLI (`dist/cli/main.js`, built by `npm test`'s pretest). */
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** The built CLI, to run with `process.execPath`. */
export const CLI = join(ROOT, 'dist/cli/main.js');
