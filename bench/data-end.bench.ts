/** End-of-data scan of a 1 MiB body of 78-octet lines, fed in 1 KiB .. 64 KiB chunks (issue target: ≥ 2 GB/s at 64 KiB). */
import { bench, describe } from 'vitest';
import { DataEndScanner } from '../src/protocol/data-end.js';

const line = Buffer.from(`${'x'.repeat(76)}\r\n`);
const body = Buffer.concat([...Array.from({ length: Math.ceil(1_048_576 / 78) }, () => line), Buffer.from('.\r\n')]);

function chunked(size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

describe(`DataEndScanner: ${body.length} octets`, () => {
  for (const size of [1024, 16_384, 65_536]) {
    const parts = chunked(size);
    bench(`${size / 1024} KiB chunks`, () => {
      const s = new DataEndScanner();
      for (const p of parts) if (s.feed(p, 0) !== -1) return;
      throw new Error('terminator not found');
    });
  }
});
