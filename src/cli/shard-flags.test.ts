import { describe, expect, it } from 'vitest';
import { shardSettings } from './shard-flags.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const issues = (opts: Parameters<typeof shardSettings>[0], env: NodeJS.ProcessEnv = {}) => shardSettings(opts, env, NOW).issues.map((i) => `${i.path}: ${i.message}`);

describe('shardSettings', () => {
  it('reads --shard, then --shards with JOB_COMPLETION_INDEX, then SMTPBENCH_SHARD', () => {
    expect(shardSettings({ shard: '2/5' }, { SMTPBENCH_SHARD: '0/2' }, NOW).shard).toEqual({ index: 2, count: 5 });
    expect(shardSettings({ shards: '3' }, { JOB_COMPLETION_INDEX: '1', SMTPBENCH_SHARD: '0/2' }, NOW).shard).toEqual({ index: 1, count: 3 });
    expect(shardSettings({}, { SMTPBENCH_SHARD: ' 0 / 2 ' }, NOW).shard).toEqual({ index: 0, count: 2 });
    expect(shardSettings({}, {}, NOW)).toEqual({ shard: null, startAtMs: null, startAtRelative: false, clockRef: null, issues: [] });
  });

  it('names every bad shard flag in one line each', () => {
    expect(issues({ shard: '3/3' })).toEqual(['--shard: shard index 3 is out of range for 3 shards (0..2; the index is 0-based)']);
    expect(issues({ shard: '-1/2' })).toEqual(['--shard: shard index -1 is out of range for 2 shards (0..1; the index is 0-based)']);
    expect(issues({ shard: 'a/b' })).toEqual(['--shard: expected i/N (shard index i, 0-based, of N shards), e.g. 0/3; got "a/b"']);
    expect(issues({ shard: '1/0' })).toEqual(['--shard: the shard count must be 1..1000, got 0']);
    expect(issues({ shard: '0/1001' })).toEqual(['--shard: the shard count must be 1..1000, got 1001']);
    expect(issues({ shards: '3' })[0]).toMatch(/^--shards: takes the shard index from JOB_COMPLETION_INDEX .* which is not set/);
    expect(issues({ shards: '3' }, { JOB_COMPLETION_INDEX: '3' })).toEqual(['JOB_COMPLETION_INDEX: shard index 3 is out of range for 3 shards (0..2; the index is 0-based)']);
    expect(issues({ shards: '3' }, { JOB_COMPLETION_INDEX: '' })).toEqual(['JOB_COMPLETION_INDEX: expected a shard index 0..2, got ""']);
    expect(issues({ shards: '3' }, { JOB_COMPLETION_INDEX: '1/2' })).toEqual(['JOB_COMPLETION_INDEX: expected a shard index 0..2, got "1/2"']);
    expect(issues({ shard: '1/99999999999999999999' })).toEqual(['--shard: the shard count must be 1..1000, got 99999999999999999999']);
    expect(issues({ shards: 'x' }, { JOB_COMPLETION_INDEX: '0' })).toEqual(['--shards: expected a shard count 1..1000, got "x"']);
    expect(issues({ shard: '0/2', shards: '2' })).toEqual(['--shards: give --shard i/N or --shards N (with JOB_COMPLETION_INDEX), not both']);
    expect(issues({}, { SMTPBENCH_SHARD: '2' })).toEqual(['SMTPBENCH_SHARD: expected i/N (shard index i, 0-based, of N shards), e.g. 0/3; got "2"']);
  });

  it('reads --start-at as RFC 3339 with an offset, or +DURATION from now', () => {
    expect(shardSettings({ startAt: '2026-12-07T12:01:00Z' }, {}, NOW).startAtMs).toBe(NOW + 60_000);
    expect(shardSettings({ startAt: '2026-12-07T13:01:00.250+01:00' }, {}, NOW).startAtMs).toBe(NOW + 60_250);
    expect(shardSettings({ startAt: '+30s' }, {}, NOW).startAtMs).toBe(NOW + 30_000);
    expect(shardSettings({ startAt: '+2m' }, {}, NOW).startAtMs).toBe(NOW + 120_000);
    // In the past: no error; the shard starts at once and records how late it was.
    expect(shardSettings({ startAt: '2026-12-07T11:00:00Z' }, {}, NOW)).toMatchObject({ startAtMs: NOW - 3_600_000, issues: [] });
  });

  it('refuses a --start-at without an offset, unparseable, or more than a day ahead', () => {
    expect(issues({ startAt: '2026-12-07T12:01:00' })[0]).toMatch(/^--start-at: expected an RFC 3339 time with its offset/);
    expect(issues({ startAt: 'tomorrow' })[0]).toMatch(/^--start-at: expected an RFC 3339 time/);
    expect(issues({ startAt: '2026-13-45T12:00:00Z' })[0]).toMatch(/^--start-at: expected an RFC 3339 time/);
    expect(issues({ startAt: '+30' })).toEqual(['--start-at: "30" needs a unit: ms, s, m or h (expected +DURATION such as +30s)']);
    expect(issues({ startAt: '2026-12-09T12:00:00Z' })).toEqual(['--start-at: 2026-12-09T12:00:00.000Z is 48.0 h away; at most 24 h either way']);
    expect(issues({ startAt: '2026-12-01T00:00:00Z' })).toEqual(['--start-at: 2026-12-01T00:00:00.000Z is 156.0 h ago; at most 24 h either way']);
    // Dates that do not exist are refused, not rolled over to March 2 or the next day.
    for (const bad of ['2026-02-30T10:00:00Z', '2026-12-07T24:00:00Z', '2026-12-07T12:60:00Z', '2026-12-07T12:00:00+24:00']) {
      expect(issues({ startAt: bad })[0], bad).toMatch(/^--start-at: expected an RFC 3339 time/);
    }
  });

  it('takes a leap second as the next second, and counts +DURATION from this clock', () => {
    expect(shardSettings({ startAt: '2026-12-07T11:59:60Z' }, {}, NOW).startAtMs).toBe(NOW);
    expect(shardSettings({ startAt: '+30s' }, {}, NOW)).toMatchObject({ startAtMs: NOW + 30_000, startAtRelative: true });
    expect(shardSettings({ startAt: '2026-12-07T12:00:30Z' }, {}, NOW)).toMatchObject({ startAtMs: NOW + 30_000, startAtRelative: false });
  });

  it('takes an http(s) --clock-ref only', () => {
    expect(shardSettings({ clockRef: 'http://127.0.0.1:8025/stats' }, {}, NOW).clockRef?.href).toBe('http://127.0.0.1:8025/stats');
    expect(issues({ clockRef: 'ftp://x' })).toEqual(['--clock-ref: expected an http:// or https:// URL, got ftp:']);
    expect(issues({ clockRef: 'not a url' })).toEqual(['--clock-ref: expected an http URL such as http://127.0.0.1:8025/stats']);
  });
});
