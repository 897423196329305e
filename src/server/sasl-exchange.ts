/**
 * The server side of one SASL exchange (RFC 4954 §4) for the mechanisms the reference server
 * offers (PLAIN, LOGIN, CRAM-MD5): which reply each client line gets, and how the exchange ends.
 * The mechanism checks themselves are in src/protocol/sasl.ts; the AUTH command's gates are the
 * command machine's (src/server/commands.ts).
 */
import * as commandArgs from '../protocol/command-args.js';
import { checkCramMd5, checkLogin, checkPlain, cramMd5Challenge } from '../protocol/sasl.js';
import type { AuthMechanism, ServerSettings } from '../profile/types.js';
import type { Replies } from './replies.js';

const { decodeStrictBase64 } = commandArgs;

/** Where an exchange stands after a step. */
export type SaslState =
  /** Waiting for the client's next line. */
  | 'continue'
  /** Over without an identity: cancelled (`*`) or not base64; not a failed login. */
  | 'aborted'
  /** Over: the credentials were wrong (535). */
  | 'failed'
  /** Over: `user` is authenticated (235). */
  | 'ok';

/** One exchange in progress: `begin` or `respond` returns the reply, then read `state` (and `user`). */
export class SaslExchange {
  state: SaslState = 'continue';
  /** The authenticated user once `state` is 'ok'; LOGIN: the user name given so far. */
  user: string | null = null;
  /** CRAM-MD5: the challenge sent. */
  private challenge = '';

  constructor(
    readonly mech: AuthMechanism,
    private readonly replies: Replies,
    private readonly settings: ServerSettings,
  ) {}

  /** The server's first line when the client gave no initial response: an empty 334, LOGIN's user prompt, or CRAM-MD5's challenge. */
  begin(): Buffer {
    const R = this.replies;
    if (this.mech === 'PLAIN') return R.emptyChallenge;
    if (this.mech === 'LOGIN') return R.loginUser;
    this.challenge = cramMd5Challenge(this.settings.hostname);
    return Buffer.from(`334 ${Buffer.from(this.challenge).toString('base64')}\r\n`, 'latin1');
  }

  /**
   * One client line of the exchange (RFC 4954 §4): `*` cancels (501); otherwise strict base64, or
   * 501. `=` stands for an empty response only as AUTH's initial response (`initial`); on a line of
   * its own an empty response is an empty line.
   */
  respond(text: string, initial = false): Buffer {
    const R = this.replies;
    if (text === '*') {
      this.state = 'aborted';
      return R.authCancelled;
    }
    const data = initial && text === '=' ? Buffer.alloc(0) : decodeStrictBase64(text);
    if (data === null) {
      this.state = 'aborted';
      return R.badBase64;
    }
    if (this.mech === 'LOGIN' && this.user === null) {
      this.user = data.toString('utf8');
      return R.loginPassword;
    }
    const users = this.settings.auth.users;
    const user = this.mech === 'PLAIN' ? checkPlain(data, users) : this.mech === 'LOGIN' ? checkLogin(this.user!, data, users) : checkCramMd5(data, this.challenge, users);
    this.user = user;
    if (user === null) {
      this.state = 'failed';
      return R.authFailed;
    }
    this.state = 'ok';
    return R.authOk;
  }
}
