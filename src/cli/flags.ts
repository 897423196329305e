/**
 * A flag value as a number when it is a decimal one (`500`, `2.5`, `1e-6`); otherwise the raw
 * text, so the resolver names it in its error (`0x10` stays text). Durations are passed as text
 * instead, so a bare `--duration 5` gets the resolver's "needs a unit" rather than meaning 5 ms.
 */
export const num = (v: string): number | string => (/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v.trim()) ? Number(v) : v);

/** A port flag's problem, or null: an integer 0..65535 (0: any free port). */
export function portIssue(flag: string, value: number | string | undefined): { path: string; message: string } | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65_535) return null;
  return { path: flag, message: `expected a port 0..65535, got ${JSON.stringify(value)}` };
}

/**
 * `value` without undefined entries, and without the mappings that leaves empty: flags that were
 * not given must not add even an empty section (an empty `auth:` would ask for AUTH).
 */
export function definedOnly<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = definedOnly(v);
    if (kept === undefined) continue;
    if (kept !== null && typeof kept === 'object' && !Array.isArray(kept) && Object.keys(kept).length === 0) continue;
    out[k] = kept;
  }
  return out as T;
}

/** Commander collector for a repeatable flag: each use adds its value. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
