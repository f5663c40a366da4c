import { describe, expect, it } from 'vitest';

import {
  AttemptWindow,
  isCredentialRejection,
  MAX_CONNECTION_ATTEMPTS,
  RECONNECT_BASE_MS,
  RECONNECT_MAX_MS,
  switchBackDelayMs,
} from '../../src/renderer/sip/registration-policy';
import { Backoff } from '../../src/shared/backoff';

describe('AttemptWindow', () => {
  it('allows attempts up to the limit', () => {
    const window = new AttemptWindow(3, 60_000);

    for (const time of [0, 1_000, 2_000]) {
      expect(window.nextSlot(time)).toBe(time);
      window.record(time);
    }

    expect(window.nextSlot(3_000)).toBe(60_000);
  });

  it('frees a slot when the oldest attempt leaves the window', () => {
    const window = new AttemptWindow(2, 60_000);
    window.record(0);
    window.record(30_000);

    expect(window.nextSlot(59_999)).toBe(60_000);
    expect(window.nextSlot(60_000)).toBe(60_000);
    window.record(60_000);
    expect(window.nextSlot(60_001)).toBe(90_000);
  });
});

describe('reconnect backoff', () => {
  it('stays under the attempt window in the first minute', () => {
    // The busiest case: every delay at the low end of its range.
    const backoff = new Backoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS, () => 0);
    let time = 0;
    let attempts = 1;
    while (time < 60_000) {
      time += backoff.nextDelayMs();
      if (time < 60_000) attempts += 1;
    }

    // One immediate retry comes on top of the backoff delays.
    expect(attempts + 1).toBeLessThanOrEqual(MAX_CONNECTION_ATTEMPTS.attempts);
  });
});

describe('switchBackDelayMs', () => {
  it('adds up to 20 % of the interval', () => {
    expect(switchBackDelayMs(3600, () => 0)).toBe(3_600_000);
    expect(switchBackDelayMs(3600, () => 1)).toBe(3_600_000 + 300_000);
    expect(switchBackDelayMs(10, () => 1)).toBe(12_000);
  });

  it('caps the jitter at 5 minutes', () => {
    expect(switchBackDelayMs(86_400, () => 1)).toBe(86_400_000 + 300_000);
  });

  it('treats a negative interval as zero', () => {
    expect(switchBackDelayMs(-5, () => 1)).toBe(0);
  });
});

describe('isCredentialRejection', () => {
  it('covers 401, 403 and 407 only', () => {
    expect([401, 403, 407].every(isCredentialRejection)).toBe(true);
    expect([400, 404, 408, 423, 500, 503].some(isCredentialRejection)).toBe(false);
  });
});
