/**
 * Distinct failure replies (issue 15): the texts of the 4yz and 5yz replies a run saw, per phase,
 * normalised so that replies differing only in numbers, IDs, addresses or IPs count as one
 * (`451 4.7.1 Rate limited, try again in # seconds`), with counts. Bounded: a thread keeps at most
 * `FAILURE_TEXTS_KEPT` texts per phase, a summary lists the `FAILURE_TEXTS_SHOWN` most frequent;
 * the rest are counted under `OTHERS`. A new text past the cap takes the place of the least
 * frequent one kept, whose count goes to `OTHERS` (the space-saving idea of Metwally, Agrawal and
 * El Abbadi, 2005, with exact totals): a text that becomes frequent late in a run is still shown.
 *
 * Counting is cheap for the usual case, one text repeated (a fault, a rate limit): the raw octets
 * are compared with the phase's last raw text, and only a new raw text is decoded and normalised.
 */
import { isIP } from 'node:net';

/** `failureReplies[phase][normalised text]` = how many replies of the phase had it. */
export type FailureReplies = Record<string, Record<string, number>>;

/** The key that counts the texts left out by a cap. */
export const OTHERS = '(others)';
/** Distinct texts a thread (and a merge in progress) keeps per phase. */
export const FAILURE_TEXTS_KEPT = 100;
/** Distinct texts summary.json and the reports list per phase (the most frequent). */
export const FAILURE_TEXTS_SHOWN = 20;
/** Longest normalised text kept, characters. */
export const MAX_FAILURE_TEXT = 200;
/** Raw texts a phase remembers with their normalised cell (so a rotating pool is normalised once per text). */
const RAW_CACHE = 256;

/** Where the text of a reply lies: `textBuf[textStart, textEnd)` (the reply parser is one). */
export interface ReplyText {
  readonly textBuf: Uint8Array;
  readonly textStart: number;
  readonly textEnd: number;
}

/** One token of the text: words, numbers, IDs, host names (split at spaces and punctuation). */
const TOKEN = /[A-Za-z0-9+/=_.:%-]+/g;

/**
 * A reply's text with what varies from reply to reply masked, for counting distinct replies:
 * e-mail addresses become `<email>` (quoted local parts and non-ASCII ones too), IPv4 and IPv6
 * addresses `<ip>`, IDs `<id>` (tokens of 8 or more characters mixing letters and digits, of 6 or
 * more mixing both cases and digits, of 12 or more hex digits, or of 12 or more letters with
 * capitals inside: queue IDs, base64 and hex session tags, host names with numbers), and every other
 * run of digits `#`. Kept as they are: the reply code and an enhanced status code at the start, a
 * provider's code of capitals and digits (`TSS04`, `S3150`: each names its own cause), and URLs
 * (the page a provider points to). White space collapses to one space; the result is at most
 * `MAX_FAILURE_TEXT` characters. Linear in the text's length (no backtracking pattern).
 *
 * @param text the reply's text, the code included: `451 4.7.1 Rate limited, try again in 30 seconds`
 */
export function normaliseReply(text: string): string {
  const head = /^(\d{3})(?=[\s-]|$)(?:[ -]?\s*([245]\.\d{1,3}\.\d{1,3})(?=\s|$))?/.exec(text);
  const keep = head ? head[0].length : 0;
  let rest = maskAddresses(text.slice(keep));
  rest = rest.replace(TOKEN, maskToken);
  const prefix = head ? [head[1], head[2]].filter((p) => p !== undefined).join(' ') : '';
  const out = `${prefix} ${rest}`.replace(/\s+/g, ' ').trim();
  return out.length > MAX_FAILURE_TEXT ? `${out.slice(0, MAX_FAILURE_TEXT - 1)}…` : out;
}

/** Characters that end an address's local part or domain (besides white space). */
const NOT_IN_ADDRESS = new Set(['<', '>', '(', ')', '[', ']', '"', "'", ',', ';', ':']);
/** Characters a local part is not read back past: a URL's path and query (`…/greylist?addr=john@…`). */
const NOT_IN_LOCAL = new Set([...NOT_IN_ADDRESS, '/', '?', '=', '&']);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * Every `local@domain` of `text` as `<email>` (with its angle brackets when it has them): from each
 * `@`, the local part runs back to white space or punctuation (a quoted one, `"john doe"`, back to
 * its opening quote, at most 64 octets: RFC 5321 §4.5.3.1.1), the domain forward likewise, any
 * characters (U-labels) included. One pass over the text.
 */
function maskAddresses(text: string): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    if (at < from) continue;
    let start = at;
    if (text[at - 1] === '"') {
      const open = text.lastIndexOf('"', at - 2);
      if (open !== -1 && open >= from && at - open <= 66) start = open;
    } else while (start > from && !isSpace(text[start - 1]) && !NOT_IN_LOCAL.has(text[start - 1])) start--;
    let end = at + 1;
    while (end < text.length && !isSpace(text[end]) && !NOT_IN_ADDRESS.has(text[end])) end++;
    while (end > at + 1 && text[end - 1] === '.') end--;
    if (start === at || end === at + 1) continue;
    if (text[start - 1] === '<' && text[end] === '>') [start, end] = [start - 1, end + 1];
    out += `${text.slice(from, start)}<email>`;
    from = end;
  }
  return out + text.slice(from);
}

/** An IPv4 address inside a longer token (a URL's path). */
const IPV4_IN_TEXT = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g;

/**
 * A token of letters only that is an ID: 12 or more letters mixing cases that are not words run
 * together (`ReceivingRate`, `mailboxFull`, after any `key=`): a base64 or random tag.
 */
function digitFreeId(core: string): boolean {
  const value = core.slice(core.lastIndexOf('=') + 1);
  if (value.length < 12 || !/[a-z]/.test(value) || !/[A-Z]/.test(value.slice(1))) return false;
  return !/^[A-Za-z][a-z]+(?:[A-Z][a-z]+)*$/.test(value);
}

/** One token, masked (see `normaliseReply`); trailing punctuation stays. */
function maskToken(token: string): string {
  const m = /^(.*?)([.:,-]*)$/.exec(token)!;
  const core = m[1];
  const tail = m[2];
  // A URL is kept (the page a provider points to), an IP address in it masked.
  if (/^https?:\/\//i.test(core)) return token.replace(IPV4_IN_TEXT, '<ip>');
  if (core === '') return token;
  if (!/\d/.test(core)) return digitFreeId(core) ? `<id>${tail}` : token;
  if (isIP(core) !== 0) return `<ip>${tail}`;
  if (/^IPv6:/i.test(core) && isIP(core.slice(5)) === 6) return `IPv6:<ip>${tail}`;
  // An address with a port: 192.0.2.1:25.
  const colon = core.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(core.slice(colon + 1)) && isIP(core.slice(0, colon)) === 4) return `<ip>:#${tail}`;
  if (/^[A-Z]{1,5}\d{1,6}$/.test(core)) return token;
  if ((core.length >= 8 && /[A-Za-z]/.test(core)) || (core.length >= 6 && /[a-z]/.test(core) && /[A-Z]/.test(core)) || /^[0-9a-f]{12,}$/i.test(core)) return `<id>${tail}`;
  return core.replace(/\d+/g, '#') + tail;
}

/**
 * One kept text's count; `gone` once it made room for another (its count moved to `OTHERS`).
 * `err`: the count of the text it replaced, space-saving's overestimate: it ranks the cell for
 * eviction (`n + err`), so a text admitted late and seen often outranks the one-off texts that
 * keep arriving after it; `n` stays exact (what the reports show).
 */
interface Cell {
  n: number;
  err: number;
  gone: boolean;
}

/** A phase's distinct texts. */
class PhaseTally {
  /** Normalised text → its count cell. */
  readonly cells = new Map<string, Cell>();
  /** Replies whose text is not (or no longer) kept. */
  readonly others: Cell = { n: 0, err: 0, gone: false };
  /** Raw text → the cell of its normalised form (at most `RAW_CACHE`). */
  readonly raw = new Map<string, Cell>();
  /** The last text counted (its octets, code excluded), its code and its cell. */
  last: Buffer | null = null;
  lastCode = 0;
  lastCell: Cell = this.others;
}

/**
 * Counts one thread's failure replies per phase (bounded memory: `FAILURE_TEXTS_KEPT` texts and a
 * small raw cache per phase). Not thread-safe: one per recorder.
 */
export class FailureTally {
  private phases: Record<string, PhaseTally> = {};

  /** Counts one failure reply of `phase`: `code` and its text (null: the text is unknown, counted as the code alone). */
  count(phase: string, code: number, text: ReplyText | null): void {
    const tally = (this.phases[phase] ??= new PhaseTally());
    if (text === null) {
      this.cellOf(tally, String(code)).n++;
      tally.last = null;
      return;
    }
    const { textBuf, textStart, textEnd } = text;
    const len = textEnd - textStart;
    const last = tally.last;
    // The usual case: the same text as the phase's last one (a fault, a rate limit), compared as octets.
    if (last !== null && tally.lastCode === code && last.length === len && !tally.lastCell.gone && equalAt(last, textBuf, textStart, len)) {
      tally.lastCell.n++;
      return;
    }
    const octets = Buffer.from(textBuf.subarray(textStart, textEnd));
    const cell = this.cellOf(tally, len === 0 ? String(code) : `${code} ${octets.toString('utf8')}`);
    cell.n++;
    tally.last = octets;
    tally.lastCode = code;
    tally.lastCell = cell;
  }

  /** The cell of raw text `raw` (`code SP text`): from the raw cache, else normalised (`OTHERS`' cell past the cap). */
  private cellOf(tally: PhaseTally, raw: string): Cell {
    let cell = tally.raw.get(raw);
    if (cell !== undefined && !cell.gone) return cell;
    if (cell !== undefined) tally.raw.delete(raw);
    const key = normaliseReply(raw);
    cell = tally.cells.get(key);
    if (cell === undefined) {
      const err = tally.cells.size >= FAILURE_TEXTS_KEPT ? evictLeast(tally) : 0;
      tally.cells.set(key, (cell = { n: 0, err, gone: false }));
    }
    if (tally.raw.size < RAW_CACHE) tally.raw.set(raw, cell);
    return cell;
  }

  /** The counts so far, per phase (`OTHERS` for the texts past the cap). */
  counts(): FailureReplies {
    const out: FailureReplies = {};
    for (const [phase, tally] of Object.entries(this.phases)) {
      const to: Record<string, number> = (out[phase] = {});
      for (const [text, cell] of tally.cells) if (cell.n > 0) to[text] = cell.n;
      if (tally.others.n > 0) to[OTHERS] = tally.others.n;
    }
    return out;
  }
}

/**
 * Makes room in a full tally: the kept text of the least `n + err` leaves, its count goes to
 * `OTHERS`. Returns that `n + err`, the newcomer's `err` (Metwally, Agrawal and El Abbadi, 2005).
 */
function evictLeast(tally: PhaseTally): number {
  let leastKey = '';
  let least: Cell | null = null;
  for (const [k, c] of tally.cells) if (least === null || c.n + c.err < least.n + least.err) [leastKey, least] = [k, c];
  if (least === null) return 0;
  tally.cells.delete(leastKey);
  tally.others.n += least.n;
  least.gone = true;
  return least.n + least.err;
}

/** `a` equals `b[from, from + len)` (`a.length === len`). */
function equalAt(a: Buffer, b: Uint8Array, from: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[i] !== b[from + i]) return false;
  return true;
}

/**
 * Adds `from` into `into` per phase and text, then keeps at most `cap` texts per phase (the most
 * frequent; ties by text), the rest added to `OTHERS`. `from` may be absent (older summaries).
 */
export function addFailureReplies(into: FailureReplies, from: FailureReplies | undefined, cap = FAILURE_TEXTS_KEPT): void {
  if (from === undefined) return;
  for (const [phase, texts] of Object.entries(from)) {
    const to = (into[phase] ??= {});
    for (const [text, n] of Object.entries(texts)) to[text] = (to[text] ?? 0) + n;
    into[phase] = capTexts(to, cap);
  }
}

/** The `cap` most frequent texts of one phase (ties by text), the rest summed under `OTHERS` (kept last). */
export function capTexts(texts: Record<string, number>, cap: number): Record<string, number> {
  let others = texts[OTHERS] ?? 0;
  const entries = Object.entries(texts)
    .filter(([t]) => t !== OTHERS)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Record<string, number> = {};
  for (const [i, [text, n]] of entries.entries()) {
    if (i < cap) out[text] = n;
    else others += n;
  }
  if (others > 0) out[OTHERS] = others;
  return out;
}

/** Every phase capped to `FAILURE_TEXTS_SHOWN` texts, for summary.json. */
export function shownFailureReplies(all: FailureReplies): FailureReplies {
  return Object.fromEntries(Object.entries(all).map(([phase, texts]) => [phase, capTexts(texts, FAILURE_TEXTS_SHOWN)]));
}
