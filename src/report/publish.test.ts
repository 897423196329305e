import { describe, expect, it } from 'vitest';
import { displayBadUrl, displayUrl, publishUrlIssue } from './publish.js';

describe('URLs', () => {
  it('never shows userinfo, or a path or query that may hold a token', () => {
    expect(displayUrl(new URL('https://user:pa55@hooks.example/services/T0/B0/XYZ?token=abc'))).toBe('https://hooks.example/…');
    expect(displayUrl(new URL('http://u:p@pg:9091'), '/metrics/job/smtpbench/instance/h')).toBe('http://pg:9091/metrics/job/smtpbench/instance/h');
    expect(displayUrl(new URL('http://pg:9091/'))).toBe('http://pg:9091');
  });

  it('accepts http and https only, naming the flag and never the password', () => {
    expect(publishUrlIssue('--publish', 'https://a.example/hook')).toBeNull();
    expect(publishUrlIssue('--publish', undefined)).toBeNull();
    const ftp = publishUrlIssue('--publish', 'ftp://bob:s3cret@files.example/x');
    expect(ftp?.path).toBe('--publish');
    expect(ftp?.message).toContain('ftp://');
    expect(ftp?.message).not.toContain('s3cret');
    const junk = publishUrlIssue('--pushgateway', 'not a url //bob:s3cret@x');
    expect(junk?.path).toBe('--pushgateway');
    expect(junk?.message).not.toContain('s3cret');
  });

  it('shows a value that is no URL without anything that may be userinfo, a path or a query', () => {
    // Passwords with `/`, `@` or `[` make the URL unparsable; the mask goes to the last `@`.
    expect(publishUrlIssue('--publish', 'http://u:pa/ss@host')?.message).toBe('expected an http:// or https:// URL, got "http://***@host"');
    expect(publishUrlIssue('--publish', 'http://u:p@ss@[bad/')?.message).toBe('expected an http:// or https:// URL, got "http://***@[bad"');
    expect(displayBadUrl('hooks.example/services/T0SECRET/B0SECRET?token=QSECRET')).toBe('hooks.example/…');
    expect(displayBadUrl('http://u:p@[::1/hook?token=QSECRET')).toBe('http://***@[::1/…');
    expect(displayBadUrl('nope')).toBe('nope');
    expect(displayBadUrl('http://[bad/')).toBe('http://[bad');
  });
});
