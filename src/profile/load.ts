/**
 * Reading profile files. Parsing only: validation is `resolveProfile()`'s job.
 */

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { ProfileError, SmtpBenchError, type ProfileIssue } from '../errors.js';

/**
 * Reads a profile file and parses it by extension: `.yaml`/`.yml` as YAML, `.json` as JSON.
 * An empty YAML file gives `null`, which `resolveProfile()` treats as "no keys".
 *
 * @param path file path, relative to the working directory or absolute
 * @returns the parsed, unvalidated content: pass it to `resolveProfile()`
 * @throws SmtpBenchError `SB_PROFILE_NOT_FOUND` when the file does not exist;
 *   SmtpBenchError `SB_USAGE` when it cannot be read or has another extension;
 *   ProfileError (`SB_INVALID_PROFILE`) on a syntax error, one issue with an empty path per
 *   error, its message giving line and column (1-based)
 */
export function loadProfileFile(path: string): unknown {
  const ext = extname(path).toLowerCase();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SmtpBenchError('SB_PROFILE_NOT_FOUND', `profile not found: ${path}`, { cause: err });
    }
    throw new SmtpBenchError('SB_USAGE', `cannot read profile ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (ext === '.yaml' || ext === '.yml') return parseYaml(text, path);
  if (ext === '.json') return parseJson(text, path);
  throw new SmtpBenchError('SB_USAGE', `profile ${path}: unknown extension "${ext}" (use .yaml, .yml or .json)`);
}

/**
 * The profile `smtpbench run` uses when none is given: `profiles/smoke.yaml` in the package root.
 * This module sits at `src/profile/load.ts` or `dist/profile/load.js`, two levels below the root.
 *
 * @returns an absolute file path
 */
export function defaultProfilePath(): string {
  return fileURLToPath(new URL('../../profiles/smoke.yaml', import.meta.url));
}

function parseYaml(text: string, path: string): unknown {
  // prettyErrors off keeps messages to one line; the LineCounter gives the position instead.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    const issues: ProfileIssue[] = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return { path: '', message: `YAML syntax error at line ${line}, column ${col}: ${e.message}` };
    });
    throw new ProfileError(issues, path);
  }
  try {
    // The yaml library refuses an alias bomb (aliases that expand a small file into billions of
    // nodes) here, as it converts the document: a profile issue like a syntax error (hostile review F16).
    return doc.toJS();
  } catch (err) {
    throw new ProfileError([{ path: '', message: `YAML cannot be read: ${(err as Error).message}` }], path);
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 names a character offset ("... in JSON at position 42"); at end of input it names none.
    const offset = Number(/position (\d+)/.exec(message)?.[1] ?? text.length);
    const before = text.slice(0, offset).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    throw new ProfileError([{ path: '', message: `JSON syntax error at ${where}: ${message}` }], path);
  }
}
