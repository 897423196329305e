import { describe, expect, it } from 'vitest';
import { isReservedDomain, realMailboxRisk } from './safety.js';

describe('realMailboxRisk (hostile review F6)', () => {
  it('lets reserved domains and the null sender through', () => {
    for (const m of ['rcpt{n}@example.test', '<a@b.example.com>', 'x@smtpbench.invalid', 'a@example.']) expect(realMailboxRisk(m, 'recipient'), m).toBeNull();
    expect(realMailboxRisk('<>', 'sender')).toBeNull();
  });
  it('refuses the shapes that reach real mailboxes whatever the domain says', () => {
    for (const m of [
      'postmaster',
      'rcpt{n}',
      '@relay.example:user@example.test',
      'user%real.com@example.test',
      'real.com!user@example.test',
      '"user@real.com"@example.test',
      'root@localhost',
      'postmaster@LOCALHOST.',
      'a@mail.localhost',
      'a@gmail.com',
    ])
      expect(realMailboxRisk(m, 'recipient'), m).not.toBeNull();
  });
  it('knows the reserved names of RFC 2606 and RFC 6761', () => {
    expect(isReservedDomain('a.example.org')).toBe(true);
    expect(isReservedDomain('example.com.evil')).toBe(false);
  });
});
