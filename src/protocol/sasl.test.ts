import { describe, expect, it } from 'vitest';
import { authCommand, checkCramMd5, checkLogin, checkPlain, chooseMechanism, clientResponse, cramMd5Challenge, type Users } from './sasl.js';

const USERS: Users = { alice: 's3cr:et', 'bob smith': 'pw', 'no pass': '' };
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Every proper prefix of `buf`, and `buf` with each one octet left out. */
function damaged(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(0, i), Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)]));
  return out;
}

describe('client', () => {
  it('chooses the configured mechanism when offered, for auto the first of CRAM-MD5, PLAIN, LOGIN', () => {
    expect(chooseMechanism('auto', ['LOGIN', 'PLAIN', 'CRAM-MD5'])).toBe('CRAM-MD5');
    expect(chooseMechanism('auto', ['LOGIN', 'PLAIN'])).toBe('PLAIN');
    expect(chooseMechanism('auto', ['LOGIN', 'XOAUTH2'])).toBe('LOGIN');
    expect(chooseMechanism('auto', ['XOAUTH2'])).toBeUndefined();
    expect(chooseMechanism('XOAUTH2', ['XOAUTH2'])).toBe('XOAUTH2');
    expect(chooseMechanism('PLAIN', ['LOGIN'])).toBeUndefined();
    expect(chooseMechanism('auto', [])).toBeUndefined();
  });

  it('opens with an initial response for PLAIN and XOAUTH2, bare for LOGIN and CRAM-MD5', () => {
    expect(authCommand('PLAIN', 'alice', 'pw')).toBe(`AUTH PLAIN ${b64('\0alice\0pw')}`);
    expect(authCommand('XOAUTH2', 'alice', 'tok')).toBe(`AUTH XOAUTH2 ${b64('user=alice\x01auth=Bearer tok\x01\x01')}`);
    expect(authCommand('LOGIN', 'alice', 'pw')).toBe('AUTH LOGIN');
    expect(authCommand('CRAM-MD5', 'alice', 'pw')).toBe('AUTH CRAM-MD5');
  });

  it('answers each 334 step of its mechanism, and nothing past the last', () => {
    expect(clientResponse('LOGIN', 0, 'alice', 'pw', null)).toBe(b64('alice'));
    expect(clientResponse('LOGIN', 1, 'alice', 'pw', null)).toBe(b64('pw'));
    expect(clientResponse('LOGIN', 2, 'alice', 'pw', null)).toBeNull();
    expect(clientResponse('PLAIN', 0, 'alice', 'pw', null)).toBe(b64('\0alice\0pw'));
    expect(clientResponse('PLAIN', 1, 'alice', 'pw', null)).toBeNull();
    expect(clientResponse('XOAUTH2', 0, 'alice', 'tok', Buffer.from('eyJzdGF0dXMiOiI0MDEifQ=='))).toBe('');
    expect(clientResponse('XOAUTH2', 1, 'alice', 'tok', null)).toBeNull();
    expect(clientResponse('CRAM-MD5', 1, 'alice', 'pw', null)).toBeNull();
  });

  it('answers CRAM-MD5 as RFC 2195 §2 shows', () => {
    // The example of RFC 2195 §2: user tim, password tanstaaftanstaaf.
    const challenge = Buffer.from(b64('<1896.697170952@postoffice.reston.mci.net>'));
    expect(unb64(clientResponse('CRAM-MD5', 0, 'tim', 'tanstaaftanstaaf', challenge)!).toString()).toBe('tim b913a602c7eda7a495b4e6e7334d3890');
  });
});

describe('client and server agree', () => {
  it('PLAIN: the initial response authenticates', () => {
    const line = authCommand('PLAIN', 'alice', 's3cr:et');
    expect(checkPlain(unb64(line.slice('AUTH PLAIN '.length)), USERS)).toBe('alice');
    expect(checkPlain(unb64(clientResponse('PLAIN', 0, 'alice', 's3cr:et', null)!), USERS)).toBe('alice');
    expect(checkPlain(unb64(clientResponse('PLAIN', 0, 'alice', 'wrong', null)!), USERS)).toBeNull();
  });

  it('LOGIN: user name, then password', () => {
    const user = unb64(clientResponse('LOGIN', 0, 'bob smith', 'pw', null)!).toString('utf8');
    expect(checkLogin(user, unb64(clientResponse('LOGIN', 1, 'bob smith', 'pw', null)!), USERS)).toBe('bob smith');
    expect(checkLogin(user, unb64(clientResponse('LOGIN', 1, 'bob smith', 'px', null)!), USERS)).toBeNull();
  });

  it("CRAM-MD5: the server's challenge, answered by the client, checks out", () => {
    const challenge = cramMd5Challenge('mx.example.test');
    expect(challenge).toMatch(/^<[0-9a-f]{16}\.\d+@mx\.example\.test>$/);
    const answer = (user: string, pass: string) => unb64(clientResponse('CRAM-MD5', 0, user, pass, Buffer.from(b64(challenge)))!);
    expect(checkCramMd5(answer('alice', 's3cr:et'), challenge, USERS)).toBe('alice');
    expect(checkCramMd5(answer('bob smith', 'pw'), challenge, USERS)).toBe('bob smith');
    expect(checkCramMd5(answer('alice', 'wrong'), challenge, USERS)).toBeNull();
    expect(checkCramMd5(answer('alice', 's3cr:et'), cramMd5Challenge('mx.example.test'), USERS)).toBeNull();
  });
});

describe('server checks, cut at every offset', () => {
  it('PLAIN: only the whole message authenticates; the authorization identity is empty or the user', () => {
    const good = Buffer.from('\0alice\0s3cr:et');
    expect(checkPlain(good, USERS)).toBe('alice');
    for (const bad of damaged(good)) expect(checkPlain(bad, USERS), JSON.stringify(bad.toString())).toBeNull();
    expect(checkPlain(Buffer.from('alice\0alice\0s3cr:et'), USERS)).toBe('alice');
    expect(checkPlain(Buffer.from('bob smith\0alice\0s3cr:et'), USERS)).toBeNull();
    expect(checkPlain(Buffer.from('\0alice\0s3cr:et\0'), USERS)).toBeNull();
    expect(checkPlain(Buffer.from('\0no pass\0'), USERS)).toBe('no pass');
  });

  it('LOGIN: only the whole password', () => {
    const good = Buffer.from('s3cr:et');
    expect(checkLogin('alice', good, USERS)).toBe('alice');
    for (const bad of damaged(good)) expect(checkLogin('alice', bad, USERS)).toBeNull();
    expect(checkLogin('carol', good, USERS)).toBeNull();
  });

  it('CRAM-MD5: only the whole `user digest`, the digest in either case', () => {
    const challenge = '<1896.697170952@postoffice.reston.mci.net>';
    const users = { tim: 'tanstaaftanstaaf' };
    const good = Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890');
    expect(checkCramMd5(good, challenge, users)).toBe('tim');
    expect(checkCramMd5(Buffer.from('tim B913A602C7EDA7A495B4E6E7334D3890'), challenge, users)).toBe('tim');
    for (const bad of damaged(good)) expect(checkCramMd5(bad, challenge, users), bad.toString()).toBeNull();
    expect(checkCramMd5(Buffer.from(' b913a602c7eda7a495b4e6e7334d3890'), challenge, { '': 'tanstaaftanstaaf' })).toBeNull();
  });

  it('never takes a name from the object prototype', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(checkPlain(Buffer.from(`\0${name}\0x`), USERS)).toBeNull();
      expect(checkLogin(name, Buffer.from('x'), USERS)).toBeNull();
      expect(checkCramMd5(Buffer.from(`${name} 00`), 'c', USERS)).toBeNull();
    }
  });
});
