/**
 * The field types every profile schema is built from (zod): integers in a range, sizes and
 * durations with units, wire tokens, file paths, distributions; and the printable form of a value
 * for an issue message. Each names what it expected and what it got.
 */
import { z } from 'zod';
import { MAX_DURATION_MS } from './limits.js';
import { parseDuration, parseSize } from './units.js';

/** Printable form of a value for an issue message. */
export function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** An integer in `min..max`. */
export function intIn(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .int({ error: (iss) => `expected an integer, got ${show(iss.input)}` })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
}

/** A string or number run through a unit parser; a parse failure becomes an issue at this path. */
function unitField(parse: (v: string | number) => number, what: string, min: number, max: number, maxText: string) {
  return z
    .union([z.string(), z.number()], { error: (iss) => `expected ${what}, got ${show(iss.input)}` })
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${maxText}`));
}

/** A size (`4KiB`, or a number of bytes) in `min..max` bytes; `maxText` names the maximum in messages. */
export const size = (min: number, max = Number.MAX_SAFE_INTEGER, maxText = String(max)) => unitField(parseSize, 'a size such as 4KiB or a number of bytes', min, max, maxText);
/** A duration (`30s`, or a number of ms) of at least `min` ms, at most `MAX_DURATION_MS`. */
export const duration = (min: number) => unitField(parseDuration, 'a duration such as 30s or a number of milliseconds', min, MAX_DURATION_MS, `596h (${MAX_DURATION_MS} ms)`);

/** Envelope and greeting text goes on the wire verbatim: no spaces, brackets or control characters. */
export function wireToken(min: number) {
  return z
    .string({ error: (iss) => `expected a string, got ${show(iss.input)}` })
    .min(min, 'must not be empty')
    .regex(/^[^\s<>\x00-\x1f\x7f]*$/, 'must not contain spaces, angle brackets or control characters');
}

/** `true` or `false`. */
export const bool = () => z.boolean({ error: (iss) => `expected true or false, got ${show(iss.input)}` });
/** A file path, not empty (read later, by the code that uses it). */
export const filePath = () => z.string({ error: (iss) => `expected a file path, got ${show(iss.input)}` }).min(1, 'must not be empty');
/** A lognormal distribution's σ, in (0, 5]. */
const sigma = () =>
  z
    .number({ error: (iss) => `expected a number, got ${show(iss.input)}` })
    .positive('must be more than 0')
    .max(5, 'must be at most 5');

/** A distribution of sizes (`unit`: size()) or of counts (`unit`: intIn()), by its `dist` key. */
export function distSchema<T extends z.ZodType<number>>(unit: () => T) {
  return z.discriminatedUnion(
    'dist',
    [
      z.strictObject({ dist: z.literal('uniform'), min: unit(), max: unit() }),
      z.strictObject({ dist: z.literal('lognormal'), median: unit(), sigma: sigma(), min: unit().optional(), max: unit().optional() }),
      z.strictObject({ dist: z.literal('empirical'), file: filePath() }),
    ],
    { error: (iss) => `expected dist: "uniform", "lognormal" or "empirical", got ${show((iss.input as Record<string, unknown> | undefined)?.dist)}` },
  );
}

/**
 * A fixed value (`scalar`) or a distribution mapping (`{dist: …}`). Issues inside the mapping keep
 * their dotted paths (`message.size.sigma`); unknown keys are named one by one.
 */
export function fixedOrDist<S extends z.ZodType<number>, D extends z.ZodType>(scalar: S, dist: D) {
  return z.unknown().transform((value, ctx): number | z.infer<D> => {
    const r = isPlainObject(value) ? dist.safeParse(value) : scalar.safeParse(value);
    if (r.success) return r.data as number | z.infer<D>;
    for (const iss of r.error.issues) {
      if (iss.code === 'unrecognized_keys') for (const key of iss.keys) ctx.addIssue({ code: 'custom', message: 'unknown key', path: [...iss.path, key] });
      else ctx.addIssue({ code: 'custom', message: iss.message, path: iss.path });
    }
    return z.NEVER;
  });
}

/** A mapping as YAML and JSON give one (not an array, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
