/** Client reply parsing: replies/s over a pipelined 1000-recipient group's replies, in one chunk and in 1 KiB chunks. */
import { bench, describe } from 'vitest';
import { ReplyParser } from '../src/protocol/reply-parser.js';

const group = Buffer.from(`250 2.1.0 ok\r\n${'250 2.1.5 ok\r\n'.repeat(1000)}354 go\r\n`);
const chunks: Buffer[] = [];
for (let i = 0; i < group.length; i += 1024) chunks.push(group.subarray(i, i + 1024));
let n = 0;
const parser = new ReplyParser(
  () => n++,
  () => {
    throw new Error('bad reply');
  },
);

describe('ReplyParser: 1002 replies', () => {
  bench('one chunk', () => parser.feed(group));
  bench('1 KiB chunks', () => {
    for (const c of chunks) parser.feed(c);
  });
});
