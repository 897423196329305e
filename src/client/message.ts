/**
 * Wire bytes built once per profile (house style §7, after autocannon's requestIterator):
 * command lines, the pipelined envelope batch, and the dot-stuffed DATA payload are Buffers
 * shared by every session and every recipient of a worker. A 1000-recipient fan-out holds one
 * copy of its body.
 */
import { toDataPayload } from '../protocol/dot-stuff.js';

/** Inputs of the wire plan, taken from the resolved profile. */
export interface MessageSpec {
  /** Reverse-path mailbox without brackets, e.g. `bench@example.test`. */
  readonly from: string;
  /** Forward-path template; `{n}` becomes the 1-based recipient number. */
  readonly to: string;
  /** Recipients per message. */
  readonly recipients: number;
  /** Message size in octets before dot-stuffing (headers + body). */
  readonly sizeBytes: number;
  /** EHLO/HELO domain. */
  readonly helo: string;
}

/** Precomputed client wire bytes for one profile. */
export interface WirePlan {
  readonly ehlo: Buffer;
  readonly helo: Buffer;
  readonly rset: Buffer;
  readonly quit: Buffer;
  /** `MAIL FROM:<…>` without parameters (lock-step or when SIZE is not offered). */
  readonly mail: Buffer;
  /** `MAIL FROM:<…> SIZE=n` (RFC 1870 §6), used when the server offers SIZE. */
  readonly mailWithSize: Buffer;
  readonly rcpts: readonly Buffer[];
  readonly dataCommand: Buffer;
  /** MAIL + every RCPT + DATA in one Buffer, for one write under PIPELINING (RFC 2920 §3.1). */
  readonly envelopeBatch: Buffer;
  readonly envelopeBatchWithSize: Buffer;
  /** Dot-stuffed message ending in `<CRLF>.<CRLF>`. */
  readonly payload: Buffer;
  /** Octets counted as message bytes: the payload without the final `.<CRLF>`. */
  readonly payloadBytes: number;
  readonly recipients: number;
  /** Message size before stuffing, as declared in SIZE=. */
  readonly sizeBytes: number;
}

const line = (s: string): Buffer => Buffer.from(`${s}\r\n`, 'utf8');

/** The forward-path mailbox of recipient `n` (1-based). */
export function recipientAddress(template: string, n: number): string {
  return template.replaceAll('{n}', String(n));
}

/**
 * Builds message content of exactly `sizeBytes` octets (when `sizeBytes` is at least the header
 * size): RFC 5322 headers, a blank line, then 76-octet lines of printable text that never start
 * with a dot, so the payload size is predictable.
 */
export function buildMessageContent(spec: MessageSpec): Buffer {
  const to = spec.recipients === 1 ? recipientAddress(spec.to, 1) : 'undisclosed-recipients:;';
  const headers =
    `From: <${spec.from}>\r\n` +
    `To: ${spec.recipients === 1 ? `<${to}>` : to}\r\n` +
    `Subject: smtpbench message\r\n` +
    `Date: ${new Date(0).toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: <smtpbench.${spec.sizeBytes}.${spec.recipients}@example.test>\r\n` +
    `MIME-Version: 1.0\r\n` +
    `Content-Type: text/plain; charset=us-ascii\r\n` +
    `\r\n`;
  const head = Buffer.from(headers, 'latin1');
  const bodyLen = Math.max(0, spec.sizeBytes - head.length);
  const body = Buffer.alloc(bodyLen);
  const text = 'The quick brown fox jumps over the lazy dog, smtpbench load test line ';
  let o = 0;
  while (o < bodyLen) {
    // A line of up to 76 text octets then CRLF; the last line may be cut short but still ends in CRLF when room allows.
    const room = bodyLen - o;
    if (room <= 2) {
      body.fill(0x78, o, bodyLen); // 'x'
      break;
    }
    const n = Math.min(76, room - 2);
    for (let k = 0; k < n; k++) body[o + k] = text.charCodeAt(k % text.length);
    body[o + n] = 0x0d;
    body[o + n + 1] = 0x0a;
    o += n + 2;
  }
  return Buffer.concat([head, body]);
}

/** Builds every wire Buffer a session needs. Call once per profile per thread. */
export function buildWirePlan(spec: MessageSpec): WirePlan {
  const content = buildMessageContent(spec);
  const payload = toDataPayload(content);
  const mail = line(`MAIL FROM:<${spec.from}>`);
  const mailWithSize = line(`MAIL FROM:<${spec.from}> SIZE=${content.length}`);
  const rcpts: Buffer[] = [];
  for (let n = 1; n <= spec.recipients; n++) rcpts.push(line(`RCPT TO:<${recipientAddress(spec.to, n)}>`));
  const dataCommand = line('DATA');
  return {
    ehlo: line(`EHLO ${spec.helo}`),
    helo: line(`HELO ${spec.helo}`),
    rset: line('RSET'),
    quit: line('QUIT'),
    mail,
    mailWithSize,
    rcpts,
    dataCommand,
    envelopeBatch: Buffer.concat([mail, ...rcpts, dataCommand]),
    envelopeBatchWithSize: Buffer.concat([mailWithSize, ...rcpts, dataCommand]),
    payload,
    payloadBytes: payload.length - 3,
    recipients: spec.recipients,
    sizeBytes: content.length,
  };
}
