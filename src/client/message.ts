/**
 * Wire bytes built once per profile (house style §7, after autocannon's requestIterator):
 * command lines, every RCPT line in one block (a transaction's recipients are `subarray` views
 * of it), and one shared message body. Per message only a small, fixed-length header prefix is
 * built (a unique `Message-ID` and `X-Smtpbench-Sent`), so per-message work is O(envelope),
 * never O(body): a 100,000-recipient fan-out holds one copy of its body.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as bytes from '../protocol/bytes.js';
import { toDataPayload } from '../protocol/dot-stuff.js';
import { MAX_DOMAINS, OTHER_DOMAIN } from '../metrics/domains.js';
import { fixed, type Sampler } from './distributions.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { CR, CRLF, LF } = bytes;

/** Inputs of the wire plan, taken from the resolved profile. */
export interface MessageSpec {
  /** Reverse-path mailbox without brackets, e.g. `bench@example.test`. */
  readonly from: string;
  /** Forward-path template; `{n}` becomes the 1-based recipient number. */
  readonly to: string;
  /** Recipients per message (with `recipientCounts`: ignored, the sampler's max is used). */
  readonly recipients: number;
  /** Message size in octets before dot-stuffing (headers + body), the stamp prefix included (with `sizes`: ignored). */
  readonly sizeBytes: number;
  /** Per-message size draws (seeded); the body is built once for the largest. */
  readonly sizes?: Sampler;
  /** Per-message recipient-count draws (seeded); RCPT lines are built once for the largest. */
  readonly recipientCounts?: Sampler;
  /** EHLO/HELO domain. */
  readonly helo: string;
  /** Explicit recipient mailboxes instead of the `to` template (tests, corpus cases). */
  readonly recipientList?: readonly string[];
  /** Explicit message content (any line endings; stuffed once here). Disables the per-message stamp. */
  readonly content?: Buffer;
  /** LMTP: the greeting command is LHLO (RFC 2033 §4.1). */
  readonly lmtp?: boolean;
  /** Generated text: `ascii` (default) or `utf8` (8-bit body, `Content-Transfer-Encoding: 8bit`, sent with BODY=8BITMIME). */
  readonly text?: 'ascii' | 'utf8';
  /** Replayed messages (.eml contents), stuffed once here; each message takes one (`pickBody`). Overrides generated content. */
  readonly replay?: readonly Buffer[];
  /** Which replayed message a message takes (index draws); default: in turn. */
  readonly pickBody?: Sampler;
  /** Generated content: a base64 attachment of this many octets (decoded) in a multipart/mixed message. */
  readonly attachmentBytes?: number;
  /**
   * Weighted recipient domains (lower-cased): recipients become `<to's local part>@<domain>` with
   * the domain drawn by `pickDomain` (an index into this list), over a pool of `RECIPIENT_POOL`
   * addresses that messages take in turn (see `WirePlan.rotate`).
   */
  readonly domains?: readonly string[];
  readonly pickDomain?: Sampler;
}

/**
 * Addresses in the recipient pool of weighted domains (at least a message's most recipients):
 * each address's domain is drawn once, when the plan is built, and messages take the pool's
 * addresses in turn, so the RCPT path stays views of one prebuilt block. The mix over a run is the
 * pool's, repeated every `RECIPIENT_POOL` recipients (each domain's share within about
 * 0.4 percentage points of its weight).
 */
export const RECIPIENT_POOL = 16_384;

/**
 * The message body shared by every message of a worker. `data` is the DATA form (dot-stuffed,
 * CRLF lines, no terminator); `raw` is the BDAT form (CRLF lines, not stuffed). For generated
 * content no line starts with `.`, so the two are the same Buffer and any prefix of it cut at a
 * line end is itself a valid message (a smaller size costs nothing).
 */
export interface BodyTemplate {
  readonly data: Buffer;
  readonly raw: Buffer;
  /**
   * The per-message prefix: `full` (generated content: `Message-ID` and `X-Smtpbench-Sent`), `sent`
   * (replayed messages keep their own Message-ID: `X-Smtpbench-Sent` only), `none` (explicit content).
   */
  readonly stamp: 'full' | 'sent' | 'none';
  /** Generated content: any prefix cut at a line end is a message (sizes vary for free). */
  readonly sliceable: boolean;
  /** Shortest prefix of `data` a message may use (the header section); generated content only. */
  readonly minLen: number;
  /** Octets above 127: needs 8BITMIME (RFC 6152), sent with BODY=8BITMIME. */
  readonly eightBit: boolean;
  /** Sent after every message's share of `data`: the attachment part and closing MIME boundary, or null. */
  readonly suffix: Buffer | null;
}

/**
 * One message: its body template, the part of it sent (`len` octets, then CRLF when `tail`),
 * `size` octets as declared in SIZE= (stamp and tail included, not stuffed) and `dataBytes` as
 * sent after DATA (stuffed; terminator excluded).
 */
export interface MessageShape {
  readonly body: BodyTemplate;
  readonly len: number;
  readonly tail: boolean;
  readonly size: number;
  readonly dataBytes: number;
}

/** Precomputed client wire bytes for one profile. */
export interface WirePlan {
  readonly ehlo: Buffer;
  readonly helo: Buffer;
  /** The EHLO/HELO name; with `{n}`, each connection fills in its number. */
  readonly heloName: string;
  readonly rset: Buffer;
  readonly quit: Buffer;
  readonly starttls: Buffer;
  /** `MAIL FROM:<…>` without CRLF, for appending parameters (SIZE=, BODY=). */
  readonly mailHead: string;
  /** `MAIL FROM:<…>` + CRLF, without parameters. */
  readonly mail: Buffer;
  /** `MAIL FROM:<…> SIZE=n` (RFC 1870 §6), used when the server offers SIZE. */
  readonly mailWithSize: Buffer;
  readonly dataCommand: Buffer;
  /** Every `RCPT TO:<…>` line, back to back; recipient i (0-based) is `[rcptOffsets[i], rcptOffsets[i+1])`. */
  readonly rcptBlock: Buffer;
  readonly rcptOffsets: Uint32Array;
  readonly recipients: number;
  readonly body: BodyTemplate;
  /** Message size in octets (stamp prefix included), as declared in SIZE= and counted in `bytes`; the largest when sizes vary. */
  readonly sizeBytes: number;
  readonly sizes: Sampler;
  readonly recipientCounts: Sampler;
  /** Every body template (one generated, or one per replayed message); `body` is the first. */
  readonly bodies: readonly BodyTemplate[];
  readonly pickBody: Sampler;
  /** The sender or a recipient is not ASCII: MAIL carries SMTPUTF8 (RFC 6531 §3.4). */
  readonly smtpUtf8: boolean;
  /** The recipient domains, lower-cased, at most `MAX_DOMAINS` (then `OTHER_DOMAIN`): what `rcptDomain` numbers. */
  readonly domainNames: readonly string[];
  /** The domain number of each RCPT line (index into `domainNames`), for the per-domain counts. */
  readonly rcptDomain: Uint16Array;
  /**
   * Messages take the RCPT lines in turn (weighted domains): a message's first recipient is the
   * line after the previous message's last, wrapping at `recipients` (`cursor.at`: the next one,
   * shared by the worker's sessions). False: every message starts at line 0, as `{n}` counts.
   */
  readonly rotate: boolean;
  readonly cursor: { at: number };
}

/**
 * The RCPT line a message of `n` recipients starts at (see `WirePlan.rotate`), advancing the
 * plan's cursor; 0 when the plan does not rotate.
 */
export function takeRecipients(plan: WirePlan, n: number): number {
  if (!plan.rotate) return 0;
  const base = plan.cursor.at;
  const next = base + n;
  plan.cursor.at = next >= plan.recipients ? next - plan.recipients : next;
  return base;
}

/** The domain of a mailbox, lower-cased (after its last `@`; the whole text when it has none). */
const domainOf = (mailbox: string): string => mailbox.slice(mailbox.lastIndexOf('@') + 1).toLowerCase();

/**
 * Numbers the domains of `list` in order of first appearance, at most `MAX_DOMAINS` (the rest
 * share one `OTHER_DOMAIN` number).
 */
function numberDomains(list: readonly string[]): { names: string[]; index: Uint16Array } {
  const names: string[] = [];
  const seen = new Map<string, number>();
  const index = new Uint16Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const d = domainOf(list[i]);
    let k = seen.get(d);
    if (k === undefined) {
      if (names.length < MAX_DOMAINS) names.push(d);
      else if (names.length === MAX_DOMAINS) names.push(OTHER_DOMAIN);
      k = Math.min(names.length - 1, MAX_DOMAINS);
      seen.set(d, k);
    }
    index[i] = k;
  }
  return { names, index };
}

/**
 * The part of the shared body a message of about `want` octets uses: a prefix of the generated
 * content cut at `want` (never between CR and LF, never inside the headers), plus a CRLF when
 * the cut is mid-line. O(1): nothing is copied.
 */
export function messageShape(plan: WirePlan, want: number): MessageShape {
  const b = plan.bodies.length === 1 ? plan.body : plan.bodies[plan.pickBody.draw()];
  const pre = b.stamp === 'full' ? STAMP_BYTES : b.stamp === 'sent' ? SENT_BYTES : 0;
  if (!b.sliceable) return { body: b, len: b.raw.length, tail: false, size: pre + b.raw.length, dataBytes: pre + b.data.length };
  const post = b.suffix?.length ?? 0;
  let len = Math.min(b.data.length, Math.max(b.minLen, want - pre - post));
  if (len < b.data.length && b.data[len - 1] === CR) len--;
  // Never split a UTF-8 sequence: back up while the first octet left out continues one.
  while (len > b.minLen && len < b.data.length && (b.data[len] & 0xc0) === 0x80) len--;
  const tail = !(b.data[len - 2] === CR && b.data[len - 1] === LF);
  const size = pre + len + (tail ? 2 : 0) + post;
  return { body: b, len, tail, size, dataBytes: size };
}

/** ` SIZE=n BODY=8BITMIME SMTPUTF8` as far as the server offers and the message needs (RFC 1870, 6152, 6531). */
export function mailParameters(plan: WirePlan, shape: MessageShape, caps: { size: number | null; eightBitMime: boolean; smtpUtf8: boolean }): string {
  return (caps.size !== null ? ` SIZE=${shape.size}` : '') + (shape.body.eightBit && caps.eightBitMime ? ' BODY=8BITMIME' : '') + (plan.smtpUtf8 ? ' SMTPUTF8' : '');
}

const line = (s: string): Buffer => Buffer.from(`${s}\r\n`, 'utf8');

/** The forward-path mailbox of recipient `n` (1-based). */
export function recipientAddress(template: string, n: number): string {
  return template.replaceAll('{n}', String(n));
}

/** Length of the per-message stamp (fixed: every field is zero-padded). See `stampPrefix`. */
export const STAMP_BYTES = stampPrefix(0, 0, 0, 0).length;

/** `X-Smtpbench-Sent: <16-digit epoch µs>` alone, for replayed messages (they keep their Message-ID). */
export function sentPrefix(sentUs: number): Buffer {
  return Buffer.from(`X-Smtpbench-Sent: ${Math.floor(sentUs).toString().padStart(16, '0')}\r\n`, 'latin1');
}
export const SENT_BYTES = sentPrefix(0).length;

/**
 * The .eml files of `dir` (sorted by name), each read once.
 *
 * @throws Error when the directory cannot be read or holds no .eml file, or naming every .eml that
 *   cannot be read (a directory called `x.eml`) or is empty (it would go out as a bare header)
 */
export function loadReplay(dir: string): Buffer[] {
  const names = readdirSync(dir)
    .filter((n) => n.toLowerCase().endsWith('.eml'))
    .sort();
  if (names.length === 0) throw new Error(`no .eml files in ${dir}`);
  const bad: string[] = [];
  const files = names.map((n) => {
    try {
      const content = readFileSync(join(dir, n));
      if (content.length === 0) bad.push(`${n} is empty`);
      return content;
    } catch (err) {
      bad.push(`${n}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return Buffer.alloc(0);
    }
  });
  if (bad.length > 0) throw new Error(`${dir}: ${bad.join('; ')}`);
  return files;
}

/** DATA and BDAT forms of explicit content: CRLF-normalised once; stuffed once for DATA (RFC 5321 §4.5.2). */
function explicitTemplate(content: Buffer, stamp: 'sent' | 'none'): BodyTemplate {
  const payload = toDataPayload(content);
  const raw = toDataPayload(content, false);
  return {
    data: payload.subarray(0, payload.length - 3), // without the terminator `.<CRLF>`
    raw: raw.subarray(0, raw.length - 3),
    stamp,
    sliceable: false,
    minLen: 0,
    eightBit: content.some((b) => b > 127),
    suffix: null,
  };
}

/** MIME boundary of generated multipart messages (RFC 2046 §5.1.1; never starts a line with a dot). */
const BOUNDARY = 'smtpbench-boundary-7d1f0c3a';

/**
 * The attachment part of a generated multipart message and its closing boundary: `bytes` octets
 * of a fixed pseudo-random pattern, base64 in 76-character lines (RFC 2045 §6.8). Base64 and the
 * boundary never start a line with `.`, so the DATA and BDAT forms are the same.
 */
function attachmentPart(bytes: number): Buffer {
  const raw = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) raw[i] = (Math.imul(i + 1, 2654435761) >>> 24) & 255;
  const b64 = raw.toString('base64').replace(/.{76}/g, '$&\r\n');
  const lines = b64.endsWith('\r\n') || b64 === '' ? b64 : `${b64}\r\n`;
  return Buffer.from(
    `--${BOUNDARY}\r\nContent-Type: application/octet-stream; name="smtpbench.bin"\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; filename="smtpbench.bin"\r\n\r\n${lines}--${BOUNDARY}--\r\n`,
    'latin1',
  );
}

/**
 * The per-message header prefix: a unique `Message-ID` (run, worker, per-worker sequence) and the
 * send timestamp `X-Smtpbench-Sent: <wall-clock epoch µs>` (16 digits, good until the year 2286).
 * Fixed length, so SIZE= is known without building it; it never starts a line with `.`, so it
 * needs no stuffing.
 *
 * @param run 32-bit run tag (seed and start time mixed), @param worker worker index,
 * @param seq per-worker message number, @param sentUs wall-clock epoch µs
 */
export function stampPrefix(run: number, worker: number, seq: number, sentUs: number): Buffer {
  const id = `${(run >>> 0).toString(16).padStart(8, '0')}.${(worker & 0xfff).toString(16).padStart(3, '0')}.${seq.toString(16).padStart(12, '0')}`;
  return Buffer.from(`Message-ID: <${id}@smtpbench.invalid>\r\nX-Smtpbench-Sent: ${Math.floor(sentUs).toString().padStart(16, '0')}\r\n`, 'latin1');
}

/**
 * Builds generated message content of `sizeBytes` octets (at least the header size): RFC 5322
 * headers, a blank line, then 76-octet lines of printable text that never start with a dot, so
 * stuffing leaves it unchanged and the payload size is predictable. Ends in CRLF.
 */
export function buildMessageContent(spec: Pick<MessageSpec, 'from' | 'to' | 'recipients' | 'text'>, sizeBytes: number): Buffer {
  return Buffer.concat(messageParts(spec, sizeBytes));
}

/** One 76-octet body line of each text kind; the UTF-8 one has whole characters only. */
const TEXT_LINES = {
  ascii: Buffer.from('The quick brown fox jumps over the lazy dog, smtpbench load test line The qu'),
  utf8: utf8Line('Grüße aus smtpbench: Ünïcödé, ελληνικά, 漢字 ', 76),
};

/** `text` repeated to exactly `n` octets, whole UTF-8 characters only, ASCII-padded. */
function utf8Line(text: string, n: number): Buffer {
  let out = '';
  for (const ch of text.repeat(4)) {
    if (Buffer.byteLength(out + ch) > n) break;
    out += ch;
  }
  return Buffer.from(out.padEnd(out.length + n - Buffer.byteLength(out), '-'));
}

/** The header section and the body of generated content (see `buildMessageContent`). */
function messageParts(spec: Pick<MessageSpec, 'from' | 'to' | 'recipients' | 'text' | 'attachmentBytes'>, sizeBytes: number): [Buffer, Buffer] {
  const utf8 = spec.text === 'utf8';
  const textType = utf8 ? `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n` : `Content-Type: text/plain; charset=us-ascii\r\n`;
  const to = spec.recipients === 1 ? recipientAddress(spec.to, 1) : 'undisclosed-recipients:;';
  const headers =
    `From: <${spec.from}>\r\n` +
    `To: ${spec.recipients === 1 ? `<${to}>` : to}\r\n` +
    `Subject: smtpbench message\r\n` +
    `Date: ${new Date(0).toUTCString().replace('GMT', '+0000')}\r\n` +
    `MIME-Version: 1.0\r\n` +
    // With an attachment: multipart/mixed, the text part first (its length varies), the attachment part after it.
    (spec.attachmentBytes ? `Content-Type: multipart/mixed; boundary="${BOUNDARY}"\r\n\r\n--${BOUNDARY}\r\n${textType}` : textType) +
    `\r\n`;
  const head = Buffer.from(headers, 'utf8');
  const textLine = TEXT_LINES[utf8 ? 'utf8' : 'ascii'];
  const bodyLen = Math.max(0, sizeBytes - head.length);
  const body = Buffer.alloc(bodyLen);
  let o = 0;
  while (o < bodyLen) {
    // A line of up to 76 text octets then CRLF; a last line too short for text is 'x's (no CRLF: the payload adds one).
    const room = bodyLen - o;
    if (room <= 2) {
      body.fill(0x78, o, bodyLen); // 'x'
      break;
    }
    const n = Math.min(76, room - 2);
    // A full line is the text line; a shorter last one is 'x's (a cut could split a UTF-8 character).
    if (n === 76) textLine.copy(body, o);
    else body.fill(0x78, o, o + n);
    body[o + n] = CR;
    body[o + n + 1] = LF;
    o += n + 2;
  }
  return [head, body];
}

/** Builds every wire Buffer a session needs. Call once per profile per thread. */
export function buildWirePlan(spec: MessageSpec): WirePlan {
  const sizes = spec.sizes ?? fixed(spec.sizeBytes);
  const recipientCounts = spec.recipientCounts ?? fixed(spec.recipientList?.length ?? spec.recipients);
  let bodies: BodyTemplate[];
  let sizeBytes: number;
  if (spec.replay) {
    // RFC 5321 §4.5.2 / RFC 3030 §2: stuffed once for DATA, CRLF-normalised once for BDAT, never per message.
    bodies = spec.replay.map((c) => explicitTemplate(c, 'sent'));
    sizeBytes = SENT_BYTES + Math.max(...bodies.map((b) => b.raw.length));
  } else if (spec.content) {
    bodies = [explicitTemplate(spec.content, 'none')];
    sizeBytes = bodies[0].raw.length;
  } else {
    // Generated content is its own stuffed form (no line starts with a dot); it ends in CRLF.
    const suffix = spec.attachmentBytes ? attachmentPart(spec.attachmentBytes) : null;
    const [head, text] = messageParts({ ...spec, recipients: recipientCounts.max }, Math.max(0, sizes.max - STAMP_BYTES - (suffix?.length ?? 0)));
    let content = Buffer.concat([head, text]);
    if (!content.subarray(-2).equals(CRLF)) content = Buffer.concat([content, CRLF]);
    bodies = [{ data: content, raw: content, stamp: 'full', sliceable: true, minLen: head.length, eightBit: spec.text === 'utf8', suffix }];
    sizeBytes = STAMP_BYTES + content.length + (suffix?.length ?? 0);
  }
  let turn = 0;
  const pickBody = spec.pickBody ?? { min: 0, max: bodies.length - 1, draw: () => turn++ % bodies.length };
  const mailHead = `MAIL FROM:<${spec.from}>`;
  const weighted = spec.recipientList === undefined && spec.domains !== undefined && spec.domains.length > 0;
  let list: readonly string[];
  let domains: { names: string[]; index: Uint16Array };
  if (weighted) {
    // Weighted domains: a pool of addresses, each domain drawn once here (seeded).
    const names = spec.domains!;
    const pick = spec.pickDomain ?? fixed(0);
    const local = spec.to.slice(0, spec.to.lastIndexOf('@'));
    const size = Math.max(RECIPIENT_POOL, recipientCounts.max);
    const index = new Uint16Array(size);
    const pool: string[] = [];
    for (let i = 0; i < size; i++) {
      const d = pick.draw();
      index[i] = d;
      pool.push(`${recipientAddress(local, i + 1)}@${names[d]}`);
    }
    list = pool;
    domains = { names: [...names], index };
  } else {
    list = spec.recipientList ?? Array.from({ length: recipientCounts.max }, (_, i) => recipientAddress(spec.to, i + 1));
    domains = numberDomains(list);
  }
  const rcptLines = list.map((r) => line(`RCPT TO:<${r}>`));
  const rcptOffsets = new Uint32Array(list.length + 1);
  for (let i = 0; i < rcptLines.length; i++) rcptOffsets[i + 1] = rcptOffsets[i] + rcptLines[i].length;
  return {
    ehlo: line(`${spec.lmtp ? 'LHLO' : 'EHLO'} ${spec.helo}`),
    helo: line(`HELO ${spec.helo}`),
    heloName: spec.helo,
    rset: line('RSET'),
    quit: line('QUIT'),
    starttls: line('STARTTLS'),
    mailHead,
    mail: line(mailHead),
    mailWithSize: line(`${mailHead} SIZE=${sizeBytes}`),
    dataCommand: line('DATA'),
    rcptBlock: Buffer.concat(rcptLines),
    rcptOffsets,
    recipients: list.length,
    body: bodies[0],
    bodies,
    pickBody,
    sizeBytes,
    sizes,
    recipientCounts,
    // RFC 6531 §3.4: a non-ASCII mailbox needs SMTPUTF8.
    smtpUtf8: /[^\x00-\x7f]/.test(spec.from) || list.some((r) => /[^\x00-\x7f]/.test(r)),
    domainNames: domains.names,
    rcptDomain: domains.index,
    rotate: weighted,
    cursor: { at: 0 },
  };
}
