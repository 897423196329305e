/**
 * SASL mechanisms of SMTP AUTH (RFC 4954), both sides: what the client answers to each step, and
 * how the reference server checks what it receives. Pure functions on strings and octets; the
 * client session and the server connection keep the exchange's state and write the lines.
 *
 * Mechanisms: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login: user name, then password, each
 * base64 after a 334), CRAM-MD5 (RFC 2195) and, client side only, XOAUTH2 (Google's
 * `user=…^Aauth=Bearer …^A^A`). Every client response is base64 of the mechanism's message
 * (RFC 4954 §4).
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Mechanisms the client speaks. */
/**
 * The longest SASL response line a server takes, octets without CRLF: RFC 4954 §4 calls 12288
 * "a sufficient line length limit for handling of deployed authentication mechanisms" (Postfix's
 * `smtpd_sasl_response_limit` default). A longer line fails the AUTH command with 500 5.5.6.
 */
export const SASL_LINE_MAX = 12288;

export const CLIENT_MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'] as const;
export type ClientMechanism = (typeof CLIENT_MECHANISMS)[number];

/** Mechanisms the reference server checks (no XOAUTH2: it has no token issuer to ask). */
export const SERVER_MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const satisfies readonly ClientMechanism[];
export type ServerMechanism = (typeof SERVER_MECHANISMS)[number];

/** `auto` takes the first of these that the server offers: CRAM-MD5 keeps the password off the wire. */
export const AUTO_PREFERENCE: readonly ClientMechanism[] = ['CRAM-MD5', 'PLAIN', 'LOGIN'];

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

// ---------------------------------------------------------------------------------------
// Client

/**
 * The mechanism a client uses: the configured one when the server offers it (the EHLO `AUTH`
 * keyword's parameters), for `auto` the first of `AUTO_PREFERENCE` offered; undefined when none.
 */
export function chooseMechanism(configured: ClientMechanism | 'auto', offered: readonly string[]): ClientMechanism | undefined {
  const mech = configured === 'auto' ? AUTO_PREFERENCE.find((m) => offered.includes(m)) : configured;
  return mech !== undefined && offered.includes(mech) ? mech : undefined;
}

/**
 * The AUTH command line (CRLF not included) that opens an exchange. PLAIN and XOAUTH2 carry their
 * message as an initial response, which saves a round trip (RFC 4954 §4); LOGIN and CRAM-MD5 wait
 * for the server's first 334.
 */
export function authCommand(mech: ClientMechanism, user: string, pass: string): string {
  if (mech === 'PLAIN') return `AUTH PLAIN ${b64(plainMessage(user, pass))}`;
  if (mech === 'XOAUTH2') return `AUTH XOAUTH2 ${b64(`user=${user}\x01auth=Bearer ${pass}\x01\x01`)}`;
  return `AUTH ${mech}`;
}

/**
 * The client's line (CRLF not included) in answer to the server's 334 number `step` (0 for the
 * first), or null when the mechanism has no such step: the server is off script, a protocol error.
 * - LOGIN: the user name, then the password.
 * - CRAM-MD5: `user SP hex(HMAC-MD5(password, challenge))` (RFC 2195 §2), the challenge being the
 *   334's text, base64.
 * - PLAIN: the message again, for a server that ignored the initial response and sent `334 `.
 * - XOAUTH2: a 334 carries the error details (JSON, base64); an empty line lets the server send
 *   its final 535.
 * @param challenge the 334 reply's text (after `334 `), or null when none was kept
 */
export function clientResponse(mech: ClientMechanism, step: number, user: string, pass: string, challenge: Buffer | null): string | null {
  switch (mech) {
    case 'LOGIN':
      return step < 2 ? b64(step === 0 ? user : pass) : null;
    case 'CRAM-MD5': {
      if (step !== 0) return null;
      const decoded = Buffer.from((challenge ?? Buffer.alloc(0)).toString('latin1'), 'base64');
      return b64(`${user} ${createHmac('md5', pass).update(decoded).digest('hex')}`);
    }
    case 'PLAIN':
      return step === 0 ? b64(plainMessage(user, pass)) : null;
    case 'XOAUTH2':
      return step === 0 ? '' : null;
  }
}

/** RFC 4616 §2: `[authzid] NUL authcid NUL passwd`, with no authorization identity. */
const plainMessage = (user: string, pass: string): string => `\0${user}\0${pass}`;

// ---------------------------------------------------------------------------------------
// Server: each check takes the decoded response and the accounts, and returns the user it
// authenticates, or null. Accounts are looked up as own properties only (`users` comes from a
// profile: a name such as `__proto__` or `constructor` must not match anything).

/** The accounts a server checks against: user name → password. */
export type Users = Readonly<Record<string, string>>;

const passwordOf = (users: Users, name: string): string | undefined => (Object.hasOwn(users, name) ? users[name] : undefined);

/**
 * PLAIN (RFC 4616 §2): `[authzid] NUL authcid NUL passwd`, UTF-8. The server acts for nobody
 * else, so the authorization identity must be empty or the user itself.
 */
export function checkPlain(message: Buffer, users: Users): string | null {
  const parts = message.toString('utf8').split('\0');
  if (parts.length !== 3) return null;
  const [authzid, user, pass] = parts;
  return (authzid === '' || authzid === user) && passwordOf(users, user) === pass ? user : null;
}

/** LOGIN: the user name of the first response and the password of the second, UTF-8. */
export function checkLogin(user: string, password: Buffer, users: Users): string | null {
  return passwordOf(users, user) === password.toString('utf8') ? user : null;
}

/**
 * A CRAM-MD5 challenge (RFC 2195 §2: a unique msg-id, `<random.timestamp@hostname>`), as sent in
 * the 334 before base64.
 */
export function cramMd5Challenge(hostname: string): string {
  return `<${randomBytes(8).toString('hex')}.${Date.now()}@${hostname}>`;
}

/**
 * CRAM-MD5 (RFC 2195 §2): `user SP digest`, the digest being hex(HMAC-MD5(password, challenge)) in
 * either case. The user name runs to the last space (a name may hold spaces).
 */
export function checkCramMd5(message: Buffer, challenge: string, users: Users): string | null {
  const text = message.toString('utf8');
  const sp = text.lastIndexOf(' ');
  if (sp <= 0) return null;
  const user = text.slice(0, sp);
  const pass = passwordOf(users, user);
  if (pass === undefined) return null;
  return createHmac('md5', pass).update(challenge).digest('hex') === text.slice(sp + 1).toLowerCase() ? user : null;
}
