/**
 * Scenario steps: the seed commands besides the mail transaction (RFC 5321 VRFY, EXPN, HELP, NOOP,
 * RSET; RFC 821 SEND, SOML, SAML, TURN; RFC 2645 ATRN), mixed into a run by weight, for example a
 * directory-harvest probe (`{message: 1, VRFY: 9}`) or a legacy-client mix. Each has its own phase
 * (histogram and reply codes). Command lines are built once; VRFY and EXPN name a recipient of the
 * plan (a view of its RCPT block, nothing copied).
 */
import type { CommandStep } from '../error-kinds.js';
import { lowerVerb, STEP_VERBS, type StepVerb } from '../protocol/verbs.js';
import type { Rng } from '../rng.js';

/** The steps (`STEP_VERBS` of src/protocol/verbs.ts); a step is numbered by its position here. */
export const STEP_COMMANDS = STEP_VERBS;
export type StepCommand = StepVerb;

/** The phase each step is recorded in, its verb in lower case; also its step in error kinds (`vrfy-timeout`). */
export const STEP_PHASE: Readonly<Record<StepCommand, CommandStep>> = Object.fromEntries(STEP_COMMANDS.map((c) => [c, lowerVerb(c)])) as Record<StepCommand, CommandStep>;

/** A weighted mix: `message` is a normal transaction. Weights are relative, ≥ 0. */
export type Scenario = Readonly<Partial<Record<'message' | StepCommand, number>>>;

/** `-1` for a message, else the index of a step in `STEP_COMMANDS`. */
export type Pick = number;

/** Draws the next unit of work from `scenario` with `rng`. */
export function scenarioPicker(scenario: Scenario, rng: Rng): () => Pick {
  const kinds: Pick[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [k, w] of Object.entries(scenario)) {
    if (!w || w <= 0) continue;
    kinds.push(k === 'message' ? -1 : STEP_COMMANDS.indexOf(k as StepCommand));
    cumulative.push((total += w));
  }
  return () => {
    const x = rng.next() * total;
    for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]) return kinds[i];
    return kinds[kinds.length - 1];
  };
}

/**
 * Fixed command lines of the steps, indexed like `STEP_COMMANDS`; VRFY and EXPN hold only their
 * verb and a space (the session appends a recipient's `<address>` and CRLF).
 */
export function buildStepLines(from: string, to: string): Buffer[] {
  const at = to.lastIndexOf('@');
  const domain = at < 0 ? 'example.test' : to.slice(at + 1);
  const line = (s: string): Buffer => Buffer.from(`${s}\r\n`, 'utf8');
  return STEP_COMMANDS.map((c) => {
    switch (c) {
      case 'VRFY':
      case 'EXPN':
        return Buffer.from(`${c} `);
      case 'SEND':
      case 'SOML':
      case 'SAML':
        return line(`${c} FROM:<${from}>`);
      case 'ATRN':
        return line(`ATRN ${domain}`);
      default:
        return line(c);
    }
  });
}
