import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import { PlatformError, PlatformNetworkError } from '../../src/main/platform-client';
import { ProvisioningError } from '../../src/main/provisioning-errors';
import {
  createFileRequestLog,
  MIN_POLLING_INTERVAL_S,
  PROVISIONING_BACKOFF_MAX_MS,
  retryHintFor,
  SIP_AUTH_FAILURE_MIN_INTERVAL_MS,
  SIP_PROVISION_RATE_LIMIT,
  type ProvisioningTrigger,
} from '../../src/main/provisioning-scheduler';
import { platformError, provisionError, RATE_LIMIT_GROUPS, type PlatformFault, type PlatformServer } from '../bench/platform-server';
import { createTempDir, PROVISION_PATH, removeDir } from './helpers';
import { createProvisioningHarness, type Harness, type HarnessOptions } from './provisioning-harness';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

let server: PlatformServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Creates a harness whose platform server is closed after the test. */
async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const harness = await createProvisioningHarness(options);
  server = harness.server;
  return harness;
}

/** Returns the largest number of times that fall in any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while (sorted[last]! - sorted[first]! >= windowMs) first += 1;
    max = Math.max(max, last - first + 1);
  }
  return max;
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((time, index) => time - times[index]!);
}

function statuses(harness: Harness): Array<number | null> {
  return harness.server.requests.filter((request) => request.path === PROVISION_PATH).map((request) => request.status);
}

describe('retryHintFor', () => {
  const wrap = (cause: unknown) => new ProvisioningError({ code: 'X', message: 'm', action: 'a' }, { cause });
  const platform = (status: number, retryAfter: number | null = null) =>
    new PlatformError('POST', PROVISION_PATH, status, 'CODE', 'message', retryAfter, null);

  it('waits the Retry-After of a 429', () => {
    expect(retryHintFor(wrap(platform(429, 42)))).toEqual({ kind: 'after', seconds: 42 });
  });

  it('waits one window after a 429 without Retry-After', () => {
    expect(retryHintFor(wrap(platform(429)))).toEqual({ kind: 'after', seconds: 60 });
  });

  it('backs off after 5xx and network errors', () => {
    expect(retryHintFor(wrap(platform(503)))).toEqual({ kind: 'backoff' });
    expect(retryHintFor(wrap(new PlatformNetworkError('POST', 'http://127.0.0.1:1', false)))).toEqual({ kind: 'backoff' });
  });

  it('backs off after an unusable response', () => {
    const invalid = new ProvisioningError({ code: 'INVALID_SIP_PROVISION_RESPONSE', message: 'm', action: 'a' });
    expect(retryHintFor(invalid)).toEqual({ kind: 'backoff' });
  });

  it('leaves documented 4xx codes to the user', () => {
    expect(retryHintFor(wrap(platform(403)))).toEqual({ kind: 'none' });
    expect(retryHintFor(wrap(platform(400)))).toEqual({ kind: 'none' });
  });
});

describe('ProvisioningScheduler against the local platform', () => {
  it('waits Retry-After after a 429', async () => {
    const harness = await createHarness();
    harness.server.inject({ path: PROVISION_PATH, status: 429, body: platformError(429, 'CMN-301', 'Request rate exceeded').body, headers: { 'Retry-After': '30' } });

    await harness.request('start');
    await harness.run(29 * SECOND);
    expect(harness.arrivals()).toHaveLength(1);

    await harness.run(2 * SECOND);
    const arrivals = harness.arrivals();
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(30 * SECOND);
    expect(statuses(harness)).toEqual([429, 200]);
    expect(harness.retryTimes[0]).toBe(arrivals[0]! + 30 * SECOND);
  });

  it('backs off on 503 up to the cap', async () => {
    const harness = await createHarness({ random: () => 1 });
    harness.server.inject({ path: PROVISION_PATH, ...platformError(503, 'CMN-211', 'Service Temporarily Unavailable'), times: Infinity });

    await harness.request('start');
    await harness.run(30 * MINUTE);

    const delays = gaps(harness.arrivals());
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80].map((seconds) => seconds * SECOND));
    expect(Math.max(...delays)).toBe(PROVISIONING_BACKOFF_MAX_MS);
    expect(delays.every((delay, index) => index === 0 || delay >= delays[index - 1]!)).toBe(true);
    expect(harness.arrivals().length).toBeLessThan(15);
  });

  it('draws backoff delays between half and all of the ceiling', async () => {
    const harness = await createHarness({ random: () => 0 });
    harness.server.inject({ path: PROVISION_PATH, ...platformError(500, 'CMN-203', 'Internal Server Error'), times: 3 });

    await harness.request('start');
    await harness.run(MINUTE);

    expect(gaps(harness.arrivals())).toEqual([2.5, 5, 10].map((seconds) => seconds * SECOND));
    expect(statuses(harness)).toEqual([500, 500, 500, 200]);
  });

  it('retries after dropped connections and then polls', async () => {
    const harness = await createHarness({ pollingInterval: 600 });
    harness.server.inject({ path: PROVISION_PATH, kind: 'drop', times: 2 });

    await harness.request('start');
    await harness.run(MINUTE);
    expect(statuses(harness)).toEqual([null, null, 200]);

    await harness.run(600 * SECOND);
    const arrivals = harness.arrivals();
    expect(arrivals).toHaveLength(4);
    expect(arrivals[3]! - arrivals[2]!).toBe(600 * SECOND);
  });

  it('does not retry a documented error code on its own', async () => {
    const harness = await createHarness();
    harness.server.inject({ path: PROVISION_PATH, ...provisionError('BIL-103'), times: Infinity });

    await harness.request('start');
    await harness.run(30 * MINUTE);

    expect(harness.arrivals()).toHaveLength(1);
    expect(harness.retryTimes).toEqual([null]);
  });

  it('raises a pollingInterval below the minimum', async () => {
    const harness = await createHarness({ pollingInterval: 5 });

    await harness.request('start');
    await harness.run(5 * MINUTE);

    const delays = gaps(harness.arrivals());
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expect(delays.every((delay) => delay === MIN_POLLING_INTERVAL_S * SECOND)).toBe(true);
  });

  it('waits out a pollingInterval longer than setTimeout allows', async () => {
    const harness = await createHarness({ pollingInterval: 3_000_000 });

    await harness.request('start');
    await harness.run(30 * MINUTE);

    expect(harness.arrivals()).toHaveLength(1);
  });

  it('shares one request among concurrent triggers', async () => {
    const harness = await createHarness();

    await Promise.all([
      harness.request('start'),
      harness.request('check-sync'),
      harness.request('sip-auth-failure'),
      harness.request('user'),
    ]);

    expect(harness.arrivals()).toHaveLength(1);
  });

  it('honours rejected SIP credentials once per 5 minutes', async () => {
    const harness = await createHarness();

    await harness.request('sip-auth-failure');
    await harness.run(MINUTE);
    await harness.request('sip-auth-failure');
    await harness.run(4 * MINUTE);
    await harness.request('sip-auth-failure');

    expect(harness.arrivals()).toHaveLength(2);
    expect(harness.arrivals()[1]! - harness.arrivals()[0]!).toBeGreaterThanOrEqual(SIP_AUTH_FAILURE_MIN_INTERVAL_MS);
  });

  it('defers a burst of requests beyond the rate limit', async () => {
    const harness = await createHarness();

    for (let index = 0; index < 25; index += 1) {
      await harness.request(index % 2 === 0 ? 'user' : 'check-sync');
      await harness.run(2 * SECOND);
    }
    await harness.run(3 * MINUTE);

    const arrivals = harness.arrivals();
    expect(arrivals.length).toBeGreaterThan(SIP_PROVISION_RATE_LIMIT.requests);
    expect(maxInWindow(arrivals, MINUTE)).toBeLessThanOrEqual(SIP_PROVISION_RATE_LIMIT.requests);
    expect(statuses(harness).every((status) => status === 200)).toBe(true);
  });

  it('keeps the rate limit across restarts', async () => {
    const directory = await createTempDir('provisioning-log');
    try {
      const first = await createHarness({ requestLog: createFileRequestLog(directory) });
      for (let index = 0; index < SIP_PROVISION_RATE_LIMIT.requests; index += 1) {
        await first.request('user');
        await first.run(SECOND);
      }
      expect(first.arrivals()).toHaveLength(SIP_PROVISION_RATE_LIMIT.requests);
      const restartedAt = first.clock.now();
      await first.scheduler.saved;
      await server?.close();

      const second = await createHarness({ requestLog: createFileRequestLog(directory), start: restartedAt });
      await second.request('start');
      expect(second.arrivals()).toHaveLength(0);

      await second.run(MINUTE);
      expect(second.arrivals()).toHaveLength(1);
      expect(second.arrivals()[0]! - restartedAt).toBeGreaterThan(MINUTE - SIP_PROVISION_RATE_LIMIT.requests * SECOND);
      await second.scheduler.saved;
    } finally {
      await removeDir(directory);
    }
  });

  it('holds retries while offline', async () => {
    const harness = await createHarness({ random: () => 1 });
    harness.server.inject({ path: PROVISION_PATH, kind: 'drop', times: 4 });

    await harness.request('start');
    harness.scheduler.setOnline(false);
    await harness.run(10 * MINUTE);
    expect(harness.arrivals()).toHaveLength(1);

    const onlineAt = harness.clock.now();
    harness.scheduler.setOnline(true);
    await harness.run(0);
    expect(harness.arrivals()).toHaveLength(2);
    expect(harness.arrivals()[1]).toBe(onlineAt);
  });

  it('runs an overdue retry right after a resume from sleep', async () => {
    const harness = await createHarness({ random: () => 1 });
    harness.server.inject({ path: PROVISION_PATH, ...platformError(502, 'CMN-211', 'Bad Gateway'), times: 3 });

    await harness.request('start');
    await harness.run(20 * SECOND);
    const before = harness.arrivals().length;

    harness.clock.jump(10 * MINUTE);
    harness.scheduler.resumed();
    await harness.run(0);

    expect(harness.arrivals().length).toBe(before + 1);
  });
});

/** One scripted event of the property test: a platform fault or a trigger, after a pause. */
type ScriptStep =
  | { pauseMs: number; fault: PlatformFault }
  | { pauseMs: number; trigger: ProvisioningTrigger }
  | { pauseMs: number; burst: number; spacingMs: number }
  | { pauseMs: number; network: boolean };

const faultArbitrary: fc.Arbitrary<PlatformFault> = fc.oneof(
  fc.record({
    status: fc.constantFrom(500, 502, 503, 504),
    times: fc.integer({ min: 1, max: 20 }),
  }).map(({ status, times }) => ({ path: PROVISION_PATH, ...platformError(status, 'CMN-211', 'Unavailable'), times })),
  fc.integer({ min: 1, max: 120 }).map((retryAfter) => ({
    path: PROVISION_PATH,
    ...platformError(429, 'CMN-301', 'Request rate exceeded'),
    headers: { 'Retry-After': String(retryAfter) },
  })),
  fc.integer({ min: 1, max: 10 }).map((times) => ({ path: PROVISION_PATH, kind: 'drop' as const, times })),
  fc.constant({ path: PROVISION_PATH, ...provisionError('SPR-130') }),
  fc.constant({ path: PROVISION_PATH, status: 200, body: { sipInfo: [] } }),
);

const stepArbitrary: fc.Arbitrary<ScriptStep> = fc.oneof(
  fc.record({ pauseMs: fc.integer({ min: 0, max: 90 * SECOND }), fault: faultArbitrary }),
  fc.record({
    pauseMs: fc.integer({ min: 0, max: 5 * SECOND }),
    trigger: fc.constantFrom<ProvisioningTrigger>('user', 'check-sync', 'sip-auth-failure', 'start'),
  }),
  fc.record({
    pauseMs: fc.integer({ min: 0, max: 5 * SECOND }),
    burst: fc.integer({ min: 2, max: 15 }),
    spacingMs: fc.integer({ min: 0, max: 3 * SECOND }),
  }),
  fc.record({ pauseMs: fc.integer({ min: 0, max: 60 * SECOND }), network: fc.boolean() }),
);

describe('ProvisioningScheduler under generated faults', () => {
  it('stays within the Heavy limit and Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), async (script, jitter) => {
        const harness = await createHarness({ random: () => jitter });
        try {
          await harness.request('start');
          for (const step of script) {
            await harness.run(step.pauseMs);
            if ('fault' in step) harness.server.inject(step.fault);
            else if ('trigger' in step) await harness.request(step.trigger);
            else if ('burst' in step) {
              for (let index = 0; index < step.burst; index += 1) {
                await harness.request('user');
                await harness.run(step.spacingMs);
              }
            } else harness.scheduler.setOnline(step.network);
          }
          harness.scheduler.setOnline(true);
          await harness.run(10 * MINUTE);

          const requests = harness.server.requests.filter((request) => request.path === PROVISION_PATH);
          const arrivals = requests.map((request) => request.time);
          expect(maxInWindow(arrivals, RATE_LIMIT_GROUPS.heavy.windowSeconds * SECOND)).toBeLessThanOrEqual(
            SIP_PROVISION_RATE_LIMIT.requests,
          );
          // Every 429 came from the script: the platform's own limiter never fired.
          const rateLimited = requests.filter((request) => request.status === 429);
          expect(rateLimited.every((request) => request.fault === 'status')).toBe(true);

          // Requests go out one at a time, so the n-th response belongs to the n-th arrival.
          harness.retryAfterHeaders.forEach((retryAfter, index) => {
            const next = arrivals[index + 1];
            if (retryAfter !== null && next !== undefined) {
              expect(next - arrivals[index]!).toBeGreaterThanOrEqual(retryAfter * SECOND);
            }
          });
        } finally {
          await harness.server.close();
          server = undefined;
        }
      }),
      { numRuns: 25 },
    );
  });
});
