import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests start real servers and worker threads.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/accuracy.int.test.ts', 'test/ci-workflow.int.test.ts', 'test/capacity.int.test.ts', 'test/capacity-signals.int.test.ts', 'test/shards.int.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Accuracy tests assert measured latencies and rates (and the README's CI workflow gates on
        // thresholds and a comparison): they run after everything else, one file at a time, so the
        // other tests do not steal the CPU they measure with.
        extends: true,
        test: {
          name: 'accuracy',
          include: ['test/accuracy.int.test.ts', 'test/ci-workflow.int.test.ts', 'test/capacity.int.test.ts', 'test/capacity-signals.int.test.ts', 'test/shards.int.test.ts'],
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
        },
      },
    ],
  },
});
