import { describe, expect, it } from 'vitest';
import {
  DOMAIN_TOO_LONG,
  isIpv6Address,
  LOCAL_PART_TOO_LONG,
  parseEsmtpParams,
  PATH_OK,
  PATH_SYNTAX,
  PATH_TOO_LONG,
  PathScan,
  scanPath,
  utf8NonAsciiLength,
  type PathRole,
  type PathVerdict,
} from './address.js';

const scan = (path: string, role: PathRole = 'forward'): { verdict: PathVerdict; out: PathScan } => {
  const out = new PathScan();
  const b = Buffer.from(path, 'utf8');
  const verdict = scanPath(b, 0, role, out);
  // A path is the whole input here: octets left after the `>` make it invalid for these tables.
  return { verdict: verdict === PATH_OK && out.end !== b.length ? PATH_SYNTAX : verdict, out };
};

describe('scanPath (RFC 5321 §4.1.2, §4.1.3)', () => {
  it('takes the paths of the grammar', () => {
    for (const p of [
      '<a@b>',
      '<user@example.test>',
      '<first.last+tag@sub-domain.example.test>',
      "<!#$%&'*+-/=?^_`{|}~@x>",
      '<"odd user"@example.test>',
      '<"a\\"b\\\\c"@x>',
      '<""@x>',
      '<"a>b"@x>',
      '<a@[192.0.2.1]>',
      '<a@[255.255.255.255]>',
      '<a@[IPv6:2001:db8::1]>',
      '<a@[ipv6:::]>',
      '<a@[IPv6:1:2:3:4:5:6:7:8]>',
      '<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>',
      '<a@[IPv6:::ffff:192.0.2.1]>',
      '<@relay.example:a@b>',
      '<@hosta.example,@hostb.example:rcpt@example.test>',
      '<Postmaster>',
      '<POSTMASTER>',
      '<a@1.2.3.4>',
      '<a@x-1.example>',
      `<${'l'.repeat(64)}@x>`,
      `<a@${'d'.repeat(63)}>`,
    ])
      expect(scan(p).verdict, p).toBe(PATH_OK);
    expect(scan('<>', 'reverse').out.isNull).toBe(true);
  });

  it('refuses what the grammar does not allow, with 501 (§4.1.2)', () => {
    for (const p of [
      '<>',
      'a@b',
      '<a@b',
      '<a@b>>',
      '< a@b>',
      '<a@b >',
      '<a>',
      '<postmaster@>',
      '<@a:postmaster>',
      '<a..b@x>',
      '<.a@x>',
      '<a.@x>',
      '<a b@x>',
      '<a\u0007b@x>',
      '<a\u0000@x>',
      '<"a\u0007"@x>',
      '<"a\\\u0007"@x>',
      '<"a@x>',
      '<a@>',
      '<a@-x.example>',
      '<a@x-.example>',
      '<a@x..example>',
      '<a@x.example.>',
      '<a@x_y.example>',
      '<a@[192.0.2.256]>',
      '<a@[192.0.2]>',
      '<a@[1234.0.2.1]>',
      '<a@[IPv6:1:2:3:4:5:6:7]>',
      '<a@[IPv6:1:2:3:4:5:6:7:8:9]>',
      '<a@[IPv6:1::2::3]>',
      '<a@[IPv6:1:2:3:4:5:6:7::]>',
      '<a@[IPv6:12345::]>',
      '<a@[IPv6:1:2:3:4:5::192.0.2.1]>',
      '<a@[x-tag:stuff]>',
      '<a@[192.0.2.1>',
      '<@a,b:c@d>',
      '<@a;@b:c@d>',
      '<@a@b>',
      '<a@b@c>',
    ])
      expect(scan(p).verdict, JSON.stringify(p)).toBe(PATH_SYNTAX);
  });

  it('counts the limits of §4.5.3.1 as the RFC does: local part 64, domain 255 (labels 63), path 256 with its brackets', () => {
    expect(scan(`<${'l'.repeat(65)}@x>`).verdict).toBe(LOCAL_PART_TOO_LONG);
    expect(scan(`<"${'l'.repeat(63)}"@x>`).verdict).toBe(LOCAL_PART_TOO_LONG);
    expect(scan(`<a@${'d'.repeat(64)}>`).verdict).toBe(DOMAIN_TOO_LONG);
    const domain255 = `${'d'.repeat(63)}.`.repeat(3) + 'd'.repeat(63);
    expect(domain255.length).toBe(255);
    // A 255-octet domain never fits a 256-octet path with its local part: the path limit speaks first.
    expect(scan(`<a@${domain255}>`).verdict).toBe(PATH_TOO_LONG);
    expect(scan(`<a@${'d'.repeat(64)}.x>`).verdict).toBe(DOMAIN_TOO_LONG);
    expect(scan(`<@${domain255}d:a@b>`).verdict).toBe(PATH_TOO_LONG);
    // 256 octets in all, `<` and `>` included, is the most; 257 is too long.
    const body254 = `${'l'.repeat(62)}@${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(63)}`;
    expect(body254.length).toBe(254);
    expect(scan(`<${body254}>`).verdict).toBe(PATH_OK);
    expect(scan(`<${body254}d>`).verdict).toBe(PATH_TOO_LONG);
    // Octets, not characters: 22 three-octet characters are 66 octets.
    expect(scan(`<${'用'.repeat(22)}@x>`).verdict).toBe(LOCAL_PART_TOO_LONG);
    expect(scan(`<${'用'.repeat(21)}@x>`).verdict).toBe(PATH_OK);
  });

  it('reads UTF-8 where RFC 6531 §3.3 allows it and flags it, refusing malformed UTF-8', () => {
    for (const p of ['<jörg@example.test>', '<用户@例子.测试>', '<"ü ü"@x>', '<a@bücher.example>']) {
      const { verdict, out } = scan(p);
      expect(verdict, p).toBe(PATH_OK);
      expect(out.nonAscii, p).toBe(true);
    }
    expect(scan('<a@b>').out.nonAscii).toBe(false);
    const bad = [Buffer.from([0xc3]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0x80])];
    for (const octets of bad) {
      const b = Buffer.concat([Buffer.from('<a'), octets, Buffer.from('@x>')]);
      expect(scanPath(b, 0, 'forward', new PathScan()), b.toString('hex')).toBe(PATH_SYNTAX);
    }
    // `\` quotes ASCII only (quoted-pairSMTP = %d92 %d32-126).
    expect(scan('<"\\ü"@x>').verdict).toBe(PATH_SYNTAX);
  });

  it('gives the local part as sent', () => {
    for (const [p, lp] of [
      ['<user@example.test>', 'user'],
      ['<@relay.example:user@example.test>', 'user'],
      ['<"a@b"@example.test>', '"a@b"'],
      ['<postmaster>', 'postmaster'],
    ]) {
      const { out } = scan(p);
      expect(Buffer.from(p).toString('utf8', out.localStart, out.localEnd)).toBe(lp);
    }
  });
});

describe('utf8NonAsciiLength (RFC 3629 §4)', () => {
  it('is the length of each well-formed sequence and 0 for the rest', () => {
    expect(utf8NonAsciiLength(Buffer.from('ü'), 0)).toBe(2);
    expect(utf8NonAsciiLength(Buffer.from('用'), 0)).toBe(3);
    expect(utf8NonAsciiLength(Buffer.from('😀'), 0)).toBe(4);
    for (const b of [[0x41], [0xc1, 0x81], [0xe0, 0x80, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82]]) expect(utf8NonAsciiLength(Buffer.from(b), 0), String(b)).toBe(0);
  });
});

describe('isIpv6Address (RFC 5321 §4.1.3)', () => {
  it('follows the four forms and their group counts', () => {
    for (const t of ['1:2:3:4:5:6:7:8', '::', '1::', '::1', '1:2:3:4:5::6', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4', '1:2:3:4::1.2.3.4', '1::2:3:4:1.2.3.4']) expect(isIpv6Address(t), t).toBe(true);
    // RFC 5321's `::` stands for at least two groups (RFC 4291 lets it stand for one).
    for (const t of ['1:2:3:4:5:6::7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '1:2:3:4:5::1.2.3.4', ':::', '1:::2', ':1', '1:', 'g::', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3'])
      expect(isIpv6Address(t), t).toBe(false);
  });
});

describe('parseEsmtpParams', () => {
  const parse = (s: string) => parseEsmtpParams(Buffer.from(`<a@b>${s}`), 5);
  it('reads keyword[=value] pairs split by one SP, tolerating trailing white space', () => {
    expect(parse('')).toEqual([]);
    expect(parse(' \t ')).toEqual([]);
    expect(parse(' SIZE=10 smtputf8 X-Y=a<b')).toEqual([
      { keyword: 'SIZE', value: '10' },
      { keyword: 'SMTPUTF8', value: null },
      { keyword: 'X-Y', value: 'a<b' },
    ]);
    expect(parse(' A=ü')).toEqual([{ keyword: 'A', value: 'ü' }]);
  });
  it('refuses anything else', () => {
    for (const s of ['X', '  X', ' X  Y', ' X=', ' X==1', ' -X', ' X=a\u0001', ' X_Y=1', ' X=a=b', '\tX']) expect(parse(s), JSON.stringify(s)).toBeNull();
  });
});
