/**
 * A small, configurable SMTP/LMTP server script for `scriptedServer`: just enough of RFC 5321
 * (and STARTTLS, AUTH PLAIN/LOGIN/CRAM-MD5, BDAT, a per-transaction recipient limit that answers
 * 452) to test one client feature at a time, with a log of what each transaction carried. A
 * `hook` can take over any command line to misbehave.
 */
import { createHmac } from 'node:crypto';
import type { ScriptConn, ServerCert } from './scripted-server.js';

export interface MiniOptions {
  /** EHLO keywords after the domain line. Default: PIPELINING, 8BITMIME. */
  readonly keywords?: readonly string[];
  /** Recipients accepted per transaction; the rest get `452 4.5.3 Too many recipients`. */
  readonly rcptLimit?: number;
  /** For STARTTLS (offer it in `keywords`). */
  readonly cert?: ServerCert;
  /** AUTH accounts (offer `AUTH …` in `keywords`). */
  readonly users?: Readonly<Record<string, string>>;
  /** LMTP: LHLO, and one end-of-data reply per accepted recipient (RCPT of `bad…@` answers 550 at end of data). */
  readonly lmtp?: boolean;
  /** Expect a PROXY protocol header (v1 or v2) before the greeting; its source address goes to `log.proxied`. */
  readonly proxy?: boolean;
  /** Sees every command line first; return true when it has answered. */
  readonly hook?: (line: string, c: ScriptConn) => boolean | Promise<boolean>;
}

/** What the server saw. */
export interface MiniLog {
  /** One entry per end-of-data (DATA or BDAT LAST) reply given. */
  readonly transactions: { rcpts: string[]; body: string }[];
  readonly commands: string[];
  connections: number;
  tlsHandshakes: number;
  authed: string[];
  /** Each connection's peer address as the server's socket saw it. */
  peers: string[];
  /** Source address of each PROXY header, with its version: `v1 192.0.2.1`. */
  proxied: string[];
}

export const newLog = (): MiniLog => ({ transactions: [], commands: [], connections: 0, tlsHandshakes: 0, authed: [], peers: [], proxied: [] });

export function mini(opts: MiniOptions = {}, log: MiniLog = newLog()) {
  const keywords = opts.keywords ?? ['PIPELINING', '8BITMIME'];
  return async (c: ScriptConn): Promise<void> => {
    log.connections++;
    log.peers.push(c.socket.remoteAddress ?? '');
    if (opts.proxy) {
      const sig = await c.bytes(5);
      if (sig === 'PROXY') {
        const l = (await c.line()) ?? '';
        log.proxied.push(`v1 ${l.split(' ')[2]}`);
      } else {
        const rest = Buffer.from(sig + (await c.bytes(7)), 'latin1');
        if (!rest.equals(Buffer.from('\r\n\r\n\x00\r\nQUIT\n', 'latin1'))) return;
        const head = Buffer.from(await c.bytes(4), 'latin1');
        const addr = Buffer.from(await c.bytes(head.readUInt16BE(2)), 'latin1');
        log.proxied.push(`v2 ${[...addr.subarray(0, 4)].join('.')}`);
      }
    }
    c.write('220 mx.example.test ESMTP\r\n');
    let rcpts: string[] = [];
    let mail = false;
    let bdat = '';
    let secure = false;
    for (;;) {
      const l = await c.line();
      if (l === null) return;
      log.commands.push(l);
      if (opts.hook && (await opts.hook(l, c))) continue;
      const verb = (l.split(' ')[0] ?? '').toUpperCase();
      switch (verb) {
        case 'EHLO':
        case 'LHLO': {
          const kw = keywords.filter((k) => !(secure && k === 'STARTTLS'));
          c.write(['mx.example.test', ...kw].map((k, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${k}\r\n`).join(''));
          break;
        }
        case 'HELO':
          c.write('250 mx.example.test\r\n');
          break;
        case 'XCLIENT':
          // Postfix XCLIENT_README: a new session, greeted again.
          c.write('220 mx.example.test ESMTP\r\n');
          break;
        case 'STARTTLS':
          c.write('220 2.0.0 go ahead\r\n');
          try {
            await c.startTls(opts.cert!);
          } catch {
            return;
          }
          log.tlsHandshakes++;
          secure = true;
          break;
        case 'AUTH':
          log.authed.push((await auth(l, c, opts.users ?? {})) ?? '(failed)');
          break;
        case 'MAIL':
          mail = true;
          rcpts = [];
          bdat = '';
          c.write('250 2.1.0 ok\r\n');
          break;
        case 'RCPT':
          if (!mail) c.write('503 5.5.1 need MAIL\r\n');
          else if (opts.rcptLimit !== undefined && rcpts.length >= opts.rcptLimit) c.write('452 4.5.3 Too many recipients\r\n');
          else {
            rcpts.push(/<([^>]*)>/.exec(l)?.[1] ?? '');
            c.write('250 2.1.5 ok\r\n');
          }
          break;
        case 'DATA':
          if (rcpts.length === 0) {
            c.write('554 5.5.1 no valid recipients\r\n');
            break;
          }
          c.write('354 go ahead\r\n');
          finish(await c.data());
          break;
        case 'BDAT': {
          const [, n, last] = l.split(' ');
          const chunk = await c.bytes(Number(n));
          if (rcpts.length === 0) {
            c.write('554 5.5.1 no valid recipients\r\n');
            break;
          }
          bdat += chunk;
          if (last?.toUpperCase() === 'LAST') finish(bdat);
          else c.write(`250 2.0.0 ${n} octets received\r\n`);
          break;
        }
        case 'RSET':
          mail = false;
          rcpts = [];
          c.write('250 2.0.0 ok\r\n');
          break;
        case 'QUIT':
          c.write('221 2.0.0 bye\r\n');
          c.socket.end();
          return;
        default:
          c.write('250 ok\r\n');
      }
    }

    function finish(body: string): void {
      log.transactions.push({ rcpts, body });
      if (opts.lmtp) for (const r of rcpts) c.write(r.startsWith('bad') ? '550 5.1.1 mailbox unavailable\r\n' : '250 2.0.0 delivered\r\n');
      else c.write('250 2.0.0 queued\r\n');
      mail = false;
      rcpts = [];
      bdat = '';
    }
  };
}

/** Server side of AUTH PLAIN / LOGIN / CRAM-MD5; answers 235 or 535. Returns the user, or null. */
async function auth(l: string, c: ScriptConn, users: Readonly<Record<string, string>>): Promise<string | null> {
  const [, mech, initial] = l.split(' ');
  const dec = (s: string | null): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  let user = '';
  let ok = false;
  if (mech === 'PLAIN') {
    let resp = initial;
    if (resp === undefined) {
      c.write('334 \r\n');
      resp = (await c.line()) ?? '';
    }
    const [, u, p] = dec(resp).split('\0');
    user = u;
    ok = users[u] === p;
  } else if (mech === 'LOGIN') {
    c.write(`334 ${Buffer.from('Username:').toString('base64')}\r\n`);
    user = dec(await c.line());
    c.write(`334 ${Buffer.from('Password:').toString('base64')}\r\n`);
    ok = users[user] === dec(await c.line());
  } else if (mech === 'XOAUTH2') {
    const m = /^user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01$/.exec(dec(initial ?? ''));
    user = m?.[1] ?? '';
    ok = m !== null && users[user] === m[2];
    if (!ok) {
      // The XOAUTH2 error dance: a 334 with JSON details, the client answers an empty line, then 535.
      c.write(`334 ${Buffer.from('{"status":"401"}').toString('base64')}\r\n`);
      await c.line();
    }
  } else if (mech === 'CRAM-MD5') {
    const challenge = `<${Date.now()}.1@mx.example.test>`;
    c.write(`334 ${Buffer.from(challenge).toString('base64')}\r\n`);
    const [u, digest] = dec(await c.line()).split(' ');
    user = u;
    ok = users[u] !== undefined && createHmac('md5', users[u]).update(challenge).digest('hex') === digest;
  }
  c.write(ok ? '235 2.7.0 authenticated\r\n' : '535 5.7.8 authentication failed\r\n');
  return ok ? user : null;
}
