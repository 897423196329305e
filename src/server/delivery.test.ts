import { describe, expect, it } from 'vitest';
import { DeliveryProbe, SCAN_LIMIT } from './delivery.js';

/** Feeds `msg` split at `cuts` and returns the probe's `sentUs`. */
function probe(msg: string, cuts: number[]): number {
  const p = new DeliveryProbe();
  p.begin();
  const b = Buffer.from(msg, 'latin1');
  let prev = 0;
  for (const c of [...cuts, b.length]) {
    // Give each piece inside a larger chunk, as the server does (views at an offset).
    const chunk = Buffer.concat([Buffer.from('zz'), b.subarray(prev, c), Buffer.from('yy')]);
    p.feed(chunk, 2, chunk.length - 2);
    prev = c;
  }
  return p.sentUs;
}

const SENT = 1_764_000_000_123_456;

describe('DeliveryProbe', () => {
  const cases: [string, string, number][] = [
    ['first header', `X-Smtpbench-Sent: ${SENT}\r\nSubject: x\r\n\r\nbody\r\n`, SENT],
    ['later header', `Subject: x\r\nX-Smtpbench-Sent:\t${SENT}\r\n\r\nbody\r\n`, SENT],
    ['no header', 'Subject: x\r\n\r\nX-Smtpbench-Sent is mentioned\r\n', -1],
    ['name inside a line', `Subject: X-Smtpbench-Sent: ${SENT}\r\n\r\n`, -1],
    ['no digits', 'X-Smtpbench-Sent: soon\r\n\r\n', -1],
    ['other case', `x-smtpbench-sent: ${SENT}\r\n\r\n`, -1],
    // The longest value the carry holds: 24 spaces and 16 digits, 40 octets after the name.
    ['longest carried value', `Subject: x\r\nX-Smtpbench-Sent:${' '.repeat(24)}${SENT}\r\n\r\nbody\r\n`, SENT],
  ];
  for (const [name, msg, want] of cases) {
    it(`${name}: the same at every split offset and with every octet apart`, () => {
      for (let i = 0; i <= msg.length; i++) expect(probe(msg, [i]), `cut at ${i}`).toBe(want);
      expect(
        probe(
          msg,
          Array.from({ length: msg.length }, (_, i) => i),
        ),
      ).toBe(want);
    });
  }

  it(`looks only at the first ${SCAN_LIMIT} octets`, () => {
    const pad = `Subject: ${'x'.repeat(SCAN_LIMIT)}\r\n`;
    expect(probe(`${pad}X-Smtpbench-Sent: ${SENT}\r\n\r\n`, [100, 5000])).toBe(-1);
    expect(probe(`Subject: y\r\nX-Smtpbench-Sent: ${SENT}\r\n${pad}`, [])).toBe(SENT);
  });
});
