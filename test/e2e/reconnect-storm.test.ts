import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_CONNECTION_ATTEMPTS, RECONNECT_MAX_MS } from '../../src/renderer/sip/registration-policy';
import { IpcEvent } from '../../src/shared/ipc';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { installWebSocketProbe, maxAttemptsInWindow, readWebSocketAttempts } from '../bench/websocket-probe';

const MINUTE = 60_000;
/** Renderer time the storm runs for. */
const STORM_MS = 5 * MINUTE;

function fakeNow(page: Page): Promise<number> {
  return page.evaluate(() => Date.now());
}

/** Reads the time of the next attempt from the registration badge, or null when none is scheduled. */
async function retryAt(page: Page): Promise<number | null> {
  const value = await page.locator('.registration[data-status="failed"]').getAttribute('data-retry-at', { timeout: 5_000 });
  return value === null ? null : Number(value);
}

/**
 * Advances the paused renderer clock from one scheduled attempt to the next
 * until `untilTime`, waiting after each for the refused connection to be
 * reported, so attempts happen at the times the app chose.
 */
async function runAttempts(page: Page, untilTime: number, between?: () => Promise<void>): Promise<void> {
  for (;;) {
    const next = await retryAt(page);
    const now = await fakeNow(page);
    if (next === null || next > untilTime) {
      if (untilTime > now) await page.clock.runFor(untilTime - now);
      return;
    }

    const attemptsBefore = (await readWebSocketAttempts(page)).length;
    await page.clock.runFor(Math.max(1, next - now + 1));
    await expect.poll(async () => (await readWebSocketAttempts(page)).length, { timeout: 5_000 }).toBeGreaterThan(attemptsBefore);
    // The refused connection is reported and the next attempt planned.
    await expect.poll(() => retryAt(page), { timeout: 5_000 }).not.toBe(next);
    await between?.();
  }
}

/** Advances the paused renderer clock to each scheduled attempt until the line is registered. */
async function runUntilRegistered(page: Page): Promise<void> {
  const registered = page.locator('.registration[data-status="registered"]');
  for (let step = 0; step < 10 && (await registered.count()) === 0; step += 1) {
    const next = await page.locator('.registration').getAttribute('data-retry-at');
    const now = await fakeNow(page);
    await page.clock.runFor(next === null ? 1_000 : Math.max(1, Number(next) - now + 1));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await waitForRegistered(page, 5_000);
}

describe('reconnecting to a server that refuses connections', () => {
  const line = benchLine(41, 'Storm Bench');
  let bench: SoftphoneBench;
  let phone: SoftphoneInstance;

  beforeAll(async () => {
    bench = await startSoftphoneBench([line]);
    phone = await startSoftphoneInstance({
      name: 'storm',
      rendererUrl: bench.renderer.url,
      initScripts: [installWebSocketProbe],
      beforeLoad: (page) => page.clock.install(),
    });
    await signInWithJwt(phone.page, bench.platform.url, line.jwtCredential);
    await waitForRegistered(phone.page);
    // pauseAt cannot go back, and renderer time keeps running until it applies.
    await phone.page.clock.pauseAt((await fakeNow(phone.page)) + 5_000);
  });

  afterAll(async () => {
    await phone?.close();
    await bench?.stop();
  });

  it('keeps attempts per minute under the cap', async () => {
    const attemptsBefore = (await readWebSocketAttempts(phone.page)).length;
    await bench.kamailio.kill();
    await phone.page.locator('.registration[data-status="failed"]').waitFor({ timeout: 5_000 });
    const stormStart = await fakeNow(phone.page);

    await runAttempts(phone.page, stormStart + STORM_MS);

    const attempts = (await readWebSocketAttempts(phone.page)).slice(attemptsBefore);
    const perMinute = Array.from({ length: STORM_MS / MINUTE }, (_, minute) =>
      attempts.filter((attempt) => attempt.at >= stormStart + minute * MINUTE && attempt.at < stormStart + (minute + 1) * MINUTE).length,
    );
    console.log(`[bench] connection attempts per minute against a refusing server: ${perMinute.join(', ')}`);

    expect(maxAttemptsInWindow(attempts, MINUTE)).toBeLessThanOrEqual(MAX_CONNECTION_ATTEMPTS.attempts);
    // After the first minute the backoff sits at its cap: 2 to 4 attempts a minute, never none.
    for (const count of perMinute.slice(2)) {
      expect(count).toBeGreaterThanOrEqual(MINUTE / RECONNECT_MAX_MS);
      expect(count).toBeLessThanOrEqual((2 * MINUTE) / RECONNECT_MAX_MS);
    }

    await bench.kamailio.start();
    await runUntilRegistered(phone.page);
  });

  it('keeps the cap when network-online events flap', async () => {
    const attemptsBefore = (await readWebSocketAttempts(phone.page)).length;
    await bench.kamailio.kill();
    await phone.page.locator('.registration[data-status="failed"]').waitFor({ timeout: 5_000 });
    const stormStart = await fakeNow(phone.page);

    // An online event every 2 s for two minutes, each one requesting a new connection at once.
    for (let flap = 0; flap < 60; flap += 1) {
      await phone.emit(IpcEvent.NetworkOnline);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await phone.page.clock.runFor(2_000);
    }

    const attempts = (await readWebSocketAttempts(phone.page)).slice(attemptsBefore);
    expect(attempts[attempts.length - 1]!.at - stormStart).toBeGreaterThan(MINUTE);
    expect(maxAttemptsInWindow(attempts, MINUTE)).toBeLessThanOrEqual(MAX_CONNECTION_ATTEMPTS.attempts);

    await bench.kamailio.start();
    await phone.emit(IpcEvent.NetworkOnline);
    await runUntilRegistered(phone.page);
  });
});
