import { describe, expect, it } from 'vitest';
import { sourceName } from './run-source.js';

describe('sourceName', () => {
  it("shows a run file's URL as its origin and the file's name: no userinfo, no other path, no query", () => {
    expect(sourceName(new URL('http://carol:CMPSECRET@127.0.0.1:8080/run/summary.json?sig=QSIG#x'))).toBe('http://127.0.0.1:8080/…/summary.json');
    expect(sourceName(new URL('https://ci.example.test/artifacts/T0KEN/run.hlog'))).toBe('https://ci.example.test/…/run.hlog');
    expect(sourceName(new URL('https://ci.example.test/timeline.ndjson'))).toBe('https://ci.example.test/timeline.ndjson');
  });

  it('shows nothing of a path that does not end in a run file: its last segment may be the token', () => {
    expect(sourceName(new URL('https://store.example.test/objects/s3cr3t-t0ken?X-Amz-Signature=QSIG'))).toBe('https://store.example.test/…');
    expect(sourceName(new URL('https://u:p@store.example.test/?sig=QSIG'))).toBe('https://store.example.test/…');
    expect(sourceName(new URL('https://store.example.test/'))).toBe('https://store.example.test');
  });
});
