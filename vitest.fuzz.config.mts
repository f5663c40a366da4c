import { defineConfig } from 'vitest/config';

// The fuzz tests alone, with 100 000 generated cases per property unless FUZZ_RUNS
// sets another count. `npm test` runs the same files with 1 000 cases (300 for
// the sip-provision properties).
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.test.ts', 'test/main/sip-provision-properties.test.ts'],
    environment: 'node',
    env: { FUZZ_RUNS: process.env['FUZZ_RUNS'] ?? '100000' },
    // A property with 100 000 cases runs for minutes; an endless loop still ends here.
    testTimeout: 60 * 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
