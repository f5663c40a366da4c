import { defineConfig } from 'vitest/config';

// The soak test alone: 200 calls between two softphones on the bench, about
// 3 minutes. The test sets its own time limit.
export default defineConfig({
  test: {
    include: ['test/e2e/soak.test.ts'],
    environment: 'node',
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
