import { defineConfig } from 'vitest/config';

// Benchmarks run one file at a time so that their figures do not compete for
// the CPU with each other.
export default defineConfig({
  test: {
    include: ['test/benchmarks/**/*.measure.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
