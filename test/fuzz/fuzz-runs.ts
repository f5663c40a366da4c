import { expect } from 'vitest';

/** Cases per property when `FUZZ_RUNS` is unset: the count `npm test` runs. */
const DEFAULT_RUNS = 1_000;

/**
 * Cases per property: `FUZZ_RUNS` when it is a positive integer (`npm run fuzz`
 * sets 100 000), else `fallback`.
 */
export function fuzzRuns(fallback: number = DEFAULT_RUNS): number {
  const configured = Number(process.env['FUZZ_RUNS']);
  return Number.isInteger(configured) && configured > 0 ? configured : fallback;
}

/**
 * Wall-clock time one parser call may take before the case counts as a hang.
 * Inputs are at most a few thousand characters and a parse takes well under a
 * millisecond, so only runaway backtracking or a loop reaches this bound. It is a
 * hang guard, not a speed target.
 */
export const HANG_BOUND_MS = 2_000;

/**
 * Calls `parse` once and fails the case when the call runs past `HANG_BOUND_MS`.
 * A synchronous call cannot be stopped from inside the process, so an endless
 * loop ends only at the test timeout. This check names the input of a slow call
 * that does finish, such as a polynomial regular-expression blow-up.
 */
export function callWithinHangBound<T>(parse: () => T, input: unknown): T {
  const started = performance.now();
  try {
    return parse();
  } finally {
    const elapsed = performance.now() - started;
    expect(elapsed, `parsing ${JSON.stringify(input)?.slice(0, 200)} took ${Math.round(elapsed)} ms`).toBeLessThan(HANG_BOUND_MS);
  }
}
