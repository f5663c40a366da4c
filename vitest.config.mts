import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The bench starts Kamailio, Chromium and a Secret Service per file; two cores
    // do not run more than two such files at once.
    maxWorkers: 2,
  },
});
