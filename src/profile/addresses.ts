/**
 * Address lists of the client identity settings: the local source addresses to connect from
 * (`--source-ip 127.0.0.2-127.0.0.9`) and the client addresses announced with PROXY or XCLIENT.
 */
import { isIP } from 'node:net';

/** Most addresses one range may expand to. */
export const MAX_RANGE = 65_536;

const v4ToInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToV4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * Expands `127.0.0.2-127.0.0.9` (IPv4 range, inclusive), a single IPv4/IPv6 address, or a
 * comma-separated list of those, into addresses.
 *
 * @throws Error naming the part that is not an address or range, or a range that is reversed or too large
 */
export function expandAddresses(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const dash = part.indexOf('-');
    if (dash < 0) {
      if (isIP(part) === 0) throw new Error(`${JSON.stringify(part)} is not an IP address`);
      out.push(part);
      continue;
    }
    const [a, b] = [part.slice(0, dash).trim(), part.slice(dash + 1).trim()];
    if (isIP(a) !== 4 || isIP(b) !== 4) throw new Error(`${JSON.stringify(part)} is not an IPv4 range such as 127.0.0.2-127.0.0.9`);
    const lo = v4ToInt(a);
    const hi = v4ToInt(b);
    if (hi < lo) throw new Error(`range ${JSON.stringify(part)} ends before it starts`);
    if (hi - lo + 1 > MAX_RANGE) throw new Error(`range ${JSON.stringify(part)} has more than ${MAX_RANGE} addresses`);
    for (let n = lo; n <= hi; n++) out.push(intToV4(n));
  }
  if (out.length > MAX_RANGE) throw new Error(`more than ${MAX_RANGE} addresses`);
  return out;
}
