/**
 * Typed errors with stable codes (house style §2, after undici's `lib/core/errors.js`).
 * Reports count failures by `code`; messages are for people and may change, codes may not.
 */

/** Stable error codes. Add, never rename. */
export type ErrorCode =
  | 'SB_INVALID_PROFILE'
  | 'SB_USAGE'
  | 'SB_PROFILE_NOT_FOUND'
  | 'SB_CONNECT_REFUSED'
  | 'SB_CONNECT_FAILED'
  | 'SB_TIMEOUT'
  | 'SB_SOCKET_CLOSED'
  | 'SB_BAD_REPLY'
  | 'SB_REPLY'
  | 'SB_NO_SUCCESS'
  | 'SB_LISTEN'
  | 'SB_INTERNAL'
  | 'SB_TLS_SETUP'
  | 'SB_PUBLISH'
  | 'SB_THRESHOLD_FAILED'
  | 'SB_WRITE';

/** Base class: every error smtpbench throws on purpose carries a stable `code`. */
export class SmtpBenchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmtpBenchError';
    this.code = code;
  }
}

/** One bad field of a profile: the dotted path (`message.size`) and what is wrong with it. */
export interface ProfileIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * An invalid profile or invalid flags. Lists every bad field at once, never only the first
 * (house style §1), so a user fixes a profile in one edit. CLI exit code 2.
 */
export class ProfileError extends SmtpBenchError {
  readonly issues: readonly ProfileIssue[];
  /** A closing paragraph of the message, such as the list of known metric names. */
  readonly note: string | undefined;
  constructor(issues: readonly ProfileIssue[], source = 'profile', note?: string) {
    const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`);
    super('SB_INVALID_PROFILE', `invalid ${source}: ${issues.length} problem(s)\n${lines.join('\n')}${note === undefined ? '' : `\n${note}`}`);
    this.name = 'ProfileError';
    this.issues = issues;
    this.note = note;
  }
}

/**
 * A reply the session did not want (4xx/5xx where 2xx/3xx was needed). Counted, never fatal
 * to the run. `temporary` is true for 4yz (RFC 5321 §4.2.1: transient negative completion).
 */
export class SmtpReplyError extends SmtpBenchError {
  readonly replyCode: number;
  readonly enhancedCode: string | null;
  readonly temporary: boolean;
  constructor(replyCode: number, enhancedCode: string | null, text: string) {
    super('SB_REPLY', `unexpected reply ${replyCode}${enhancedCode ? ` ${enhancedCode}` : ''}: ${text}`);
    this.name = 'SmtpReplyError';
    this.replyCode = replyCode;
    this.enhancedCode = enhancedCode;
    this.temporary = replyCode >= 400 && replyCode < 500;
  }
}
