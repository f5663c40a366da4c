import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The soak runs for minutes: `npm run soak` runs it (vitest.soak.config.mts).
    exclude: [...configDefaults.exclude, 'test/e2e/soak.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The bench starts Kamailio, Chromium and a Secret Service per file; two cores
    // do not run more than two such files at once.
    maxWorkers: 2,
  },
});
