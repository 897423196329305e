/**
 * Unit parsing for profile values. Both parsers return an integer and throw a plain `Error`
 * whose message reads well after a dotted path (`message.size: ...`); `resolveProfile()`
 * turns those messages into `ProfileIssue`s.
 */

/** Bytes per size unit. MB = 10^6 bytes (DESIGN.md §8); the binary units are KiB, MiB, GiB. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

/** Milliseconds per duration unit. */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

// A decimal number, optional spaces, then an optional unit of letters: "1.5 MB", "512", "30s".
const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

/**
 * Parses a size into bytes.
 *
 * Accepts a non-negative integer number of bytes (`512`) or a string: a decimal number with an
 * optional, case-insensitive unit: `B`, `KB` (10^3), `MB` (10^6), `GB` (10^9), `KiB` (2^10),
 * `MiB` (2^20), `GiB` (2^30). A bare string number is bytes (`"512"`).
 * Examples: `"4KiB"` → 4096, `"1.5MB"` → 1500000, `"1.5KiB"` → 1536.
 *
 * @returns whole bytes (a safe integer, ≥ 0)
 * @throws Error when the value is negative, not a number, has an unknown unit, or does not come
 *   to a whole number of bytes (`"0.1KiB"`)
 */
export function parseSize(value: string | number): number {
  return parseQuantity(value, SIZE_UNITS, 'b', 'a size', 'bytes', 'B, KB, MB, GB, KiB, MiB, GiB');
}

/**
 * Parses a duration into milliseconds.
 *
 * Accepts a non-negative integer number of milliseconds (`250`) or a string: a decimal number
 * with a unit `ms`, `s`, `m` (minutes) or `h` (case-insensitive): `"250ms"`, `"30s"`, `"1.5m"`,
 * `"1h"`. A string needs a unit (`"30"` is refused: seconds or milliseconds would be a guess),
 * except `"0"`.
 *
 * @returns whole milliseconds (a safe integer, ≥ 0)
 * @throws Error when the value is negative, not a number, lacks or has an unknown unit, or does
 *   not come to a whole number of milliseconds (`"0.5ms"`)
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'string' && value.trim() !== '0' && /^[\d.]+$/.test(value.trim())) {
    throw new Error(`${JSON.stringify(value)} needs a unit: ms, s, m or h`);
  }
  return parseQuantity(value, DURATION_UNITS, 'ms', 'a duration', 'milliseconds', 'ms, s, m, h');
}

function parseQuantity(value: string | number, units: Readonly<Record<string, number>>, bareUnit: string, what: string, base: string, unitList: string): number {
  let amount: number;
  let unit: string;
  if (typeof value === 'number') {
    amount = value;
    unit = bareUnit;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('-')) throw new Error(`${what} cannot be negative: ${JSON.stringify(value)}`);
    const match = QUANTITY.exec(text);
    if (!match) throw new Error(`${JSON.stringify(value)} is not ${what} (a number with a unit: ${unitList})`);
    amount = Number(match[1]);
    unit = match[2] === '' ? bareUnit : match[2].toLowerCase();
  } else {
    throw new Error(`expected ${what} (a number or a string with a unit: ${unitList})`);
  }
  if (!Number.isFinite(amount)) throw new Error(`${what} must be a finite number, got ${String(value)}`);
  if (amount < 0) throw new Error(`${what} cannot be negative: ${String(value)}`);
  const factor = units[unit];
  if (factor === undefined) {
    throw new Error(`unknown unit ${JSON.stringify(unit)} in ${JSON.stringify(value)} (use ${unitList})`);
  }
  const result = amount * factor;
  // Decimal input such as 1.1 KB is inexact in binary floating point (1100.0000000000002).
  const rounded = Math.round(result);
  if (Math.abs(result - rounded) > 1e-12 * Math.max(1, result)) {
    throw new Error(`${JSON.stringify(value)} is not a whole number of ${base} (${result})`);
  }
  if (!Number.isSafeInteger(rounded)) throw new Error(`${String(value)} is too large`);
  return rounded;
}
