/** Test kit (not built into dist/): the ProfileError a resolver call throws, for tests of bad profiles. */
import { expect } from 'vitest';
import { ProfileError } from '../errors.js';
import { resolveProfile } from './resolve.js';

/** The ProfileError thrown by resolving `input` (fails the test when nothing is thrown). */
export function errorOf(input: unknown, overrides?: Parameters<typeof resolveProfile>[1]): ProfileError {
  try {
    resolveProfile(input, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return err as ProfileError;
  }
  throw new Error('expected a ProfileError');
}
