/**
 * Typed errors with stable codes (house style §2, after undici's `lib/core/errors.js`): what
 * smtpbench throws on purpose, mapped to exit statuses in one place (cli/main.ts). Messages are
 * for people and may change, codes may not. What a run counts (timeouts, resets, refusals) is
 * data, never thrown: those are the error kinds of error-kinds.ts, and SMTP replies, 4xx and
 * 5xx included, are counted per phase by basic and enhanced status code (metrics/recorder.ts).
 */

/** Stable error codes. Add, never rename; a code is declared when something throws it. */
export type ErrorCode = 'SB_INVALID_PROFILE' | 'SB_USAGE' | 'SB_PROFILE_NOT_FOUND' | 'SB_NO_SUCCESS' | 'SB_LISTEN' | 'SB_TLS_SETUP' | 'SB_PUBLISH' | 'SB_THRESHOLD_FAILED' | 'SB_WRITE';

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
