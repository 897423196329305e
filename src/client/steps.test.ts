import { describe, expect, it } from 'vitest';
import { COMMAND_STEPS } from '../error-kinds.js';
import { PHASES } from '../metrics/phases.js';
import { STEP_COMMANDS, STEP_PHASE } from './steps.js';

describe('scenario steps', () => {
  it('record into phases that error kinds name as their steps (`vrfy-timeout`)', () => {
    for (const cmd of STEP_COMMANDS) expect(COMMAND_STEPS, cmd).toContain(STEP_PHASE[cmd]);
    // Every command step is a phase: a kind's step is the phase its replies are counted in.
    for (const s of COMMAND_STEPS) expect(PHASES, s).toContain(s);
  });
});
