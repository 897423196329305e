import { describe, expect, it } from 'vitest';
import { environmentLine, readEnvironment } from './environment.js';

describe('environment', () => {
  it('reads this process: Node version, CPU, cores, OS, and the checkout sha', () => {
    const env = readEnvironment();
    expect(env.node).toBe(process.version);
    expect(env.cores).toBeGreaterThan(0);
    expect(env.gitSha === null || /^[0-9a-f]{40}$/.test(env.gitSha)).toBe(true);
  });

  it('prints one line for a benchmark', () => {
    const env = { node: 'v20.19.0', cpu: 'Some CPU', cores: 2, os: 'linux 6.8.0 x64', gitSha: '0c61dfc1a2b3c4d5e6f708192a3b4c5d6e7f8091' };
    const at = new Date('2025-01-02T03:04:05Z');
    expect(environmentLine(env, at)).toBe('node v20.19.0 · Some CPU × 2 · linux 6.8.0 x64 · git 0c61dfc1a2b3 · 2025-01-02T03:04:05.000Z');
    expect(environmentLine({ ...env, gitSha: null }, at)).toContain('· git unknown ·');
  });
});
