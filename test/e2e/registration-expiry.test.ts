import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startKamailio, type KamailioServer } from '../bench/kamailio';
import { startPlatformServer, type PlatformServer } from '../bench/platform-server';
import { aorOf, BENCH_CLIENT_ID, BENCH_DOMAIN, benchLine, platformUserFor, RENDERER_DIR, type BenchLine } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { registrationStatus, signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { startStaticServer, type StaticServer } from '../bench/static-server';

/** sip.js refreshes at 80 % of the granted expiry; see registration-controller.ts. */
const REFRESH_SHARE = 0.8;

/**
 * Installed with `page.addInitScript`: records every status the registration
 * badge shows, so a test can prove it never left Registered.
 */
function installRegistrationStatusLog(): void {
  const seen: string[] = [];
  const page = window as unknown as { __benchRegistrationStatuses: string[]; __benchRegisteredAt?: number };
  page.__benchRegistrationStatuses = seen;

  const record = () => {
    const status = document.querySelector('.registration')?.getAttribute('data-status');
    if (status && seen[seen.length - 1] !== status) {
      seen.push(status);
      if (status === 'registered') page.__benchRegisteredAt ??= Date.now();
    }
  };
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

function registrationStatuses(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __benchRegistrationStatuses: string[] }).__benchRegistrationStatuses);
}

function fakeNow(page: Page): Promise<number> {
  return page.evaluate(() => Date.now());
}

/** Advances the paused page clock to `time`, firing every timer due on the way. */
async function runClockTo(page: Page, time: number): Promise<void> {
  const now = await fakeNow(page);
  if (time > now) await page.clock.runFor(time - now);
}

interface ExpiryBench {
  kamailio: KamailioServer;
  platform: PlatformServer;
  renderer: StaticServer;
  stop(): Promise<void>;
}

async function startExpiryBench(line: BenchLine, limits: { minExpires: number; maxExpires: number }): Promise<ExpiryBench> {
  const kamailio = await startKamailio({ domain: BENCH_DOMAIN, users: [line], ...limits, defaultExpires: limits.maxExpires });
  const platform = await startPlatformServer({ clientId: BENCH_CLIENT_ID, users: [platformUserFor(line, kamailio)] });
  const renderer = await startStaticServer(RENDERER_DIR);
  return {
    kamailio,
    platform,
    renderer,
    async stop() {
      await renderer.close();
      await platform.close();
      await kamailio.stop();
    },
  };
}

/**
 * Starts a softphone whose renderer runs on Playwright's fake clock, signs it
 * in, and pauses the clock once it is registered. From then on, renderer time
 * moves only through `runClockTo`, while network round trips take real time.
 * Returns the phone and the renderer time of the registration.
 */
async function startPhoneOnFakeClock(bench: ExpiryBench, line: BenchLine): Promise<{ phone: SoftphoneInstance; registeredAt: number }> {
  const phone = await startSoftphoneInstance({
    name: line.name.split(' ')[0]!.toLowerCase(),
    rendererUrl: bench.renderer.url,
    initScripts: [installRegistrationStatusLog],
    beforeLoad: (page) => page.clock.install(),
  });
  await signInWithJwt(phone.page, bench.platform.url, line.jwtCredential);
  await waitForRegistered(phone.page);

  // pauseAt cannot go back, and renderer time keeps running until it applies.
  await phone.page.clock.pauseAt((await fakeNow(phone.page)) + 5_000);
  const registeredAt = await phone.page.evaluate(() => (window as unknown as { __benchRegisteredAt: number }).__benchRegisteredAt);
  return { phone, registeredAt };
}

/** Returns the CSeq of the line's single binding at the registrar. */
async function bindingCSeq(kamailio: KamailioServer, line: BenchLine): Promise<number> {
  const records = await kamailio.contactRecords(aorOf(line));
  expect(records).toHaveLength(1);
  return records[0]!.cseq;
}

/**
 * Moves the renderer's clock to 1 s before the refresh is due and checks that
 * no REGISTER went out early. Then it moves the clock just past that time and
 * waits, in real time, until the registrar has stored the refresh, which
 * raises the binding's CSeq. Returns the renderer time of the new registration.
 */
async function runThroughRefresh(
  phone: SoftphoneInstance,
  kamailio: KamailioServer,
  line: BenchLine,
  expiresS: number,
  registeredAt: number,
): Promise<number> {
  const registersBefore = kamailio.registerCount();
  const cseqBefore = await bindingCSeq(kamailio, line);
  const refreshAt = registeredAt + expiresS * 1000 * REFRESH_SHARE;

  await runClockTo(phone.page, refreshAt - 1_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(kamailio.registerCount()).toBe(registersBefore);

  await runClockTo(phone.page, refreshAt + 100);
  await expect.poll(() => bindingCSeq(kamailio, line), { timeout: 5_000 }).toBeGreaterThan(cseqBefore);
  return fakeNow(phone.page);
}

describe('REGISTER refresh with a 60 s registrar expiry', () => {
  const line = benchLine(21, 'Expiry Bench');
  let bench: ExpiryBench;
  let phone: SoftphoneInstance | null = null;

  beforeAll(async () => {
    bench = await startExpiryBench(line, { minExpires: 60, maxExpires: 60 });
  });

  afterEach(async () => {
    await phone?.close();
    phone = null;
    await bench.kamailio.setRegisterFault(null);
  });

  afterAll(async () => {
    await bench?.stop();
  });

  it('refreshes three times in a row before expiry', async () => {
    const started = await startPhoneOnFakeClock(bench, line);
    phone = started.phone;
    expect((await bench.kamailio.contactRecords(aorOf(line)))[0]!.expires).toBeLessThanOrEqual(60);

    let registeredAt = started.registeredAt;
    for (let refresh = 1; refresh <= 3; refresh += 1) {
      registeredAt = await runThroughRefresh(phone, bench.kamailio, line, 60, registeredAt);
    }

    expect(await registrationStatuses(phone.page)).toEqual(['unregistered', 'connecting', 'registering', 'registered']);
    await waitForRegistered(phone.page, 1_000);
  });

  it('recovers from an unanswered refresh', async () => {
    const started = await startPhoneOnFakeClock(bench, line);
    phone = started.phone;
    const registersBefore = bench.kamailio.registerCount();

    await bench.kamailio.setRegisterFault({ drop: true });
    await runClockTo(phone.page, started.registeredAt + 60_000 * REFRESH_SHARE + 100);
    await expect.poll(() => bench.kamailio.registerCount(), { timeout: 5_000 }).toBe(registersBefore + 1);
    await bench.kamailio.setRegisterFault(null);

    // The registration runs out while the refresh is unanswered; the next
    // REGISTER goes out at once on a new WebSocket with a new Registerer.
    const [bindingBefore] = await bench.kamailio.contactRecords(aorOf(line));
    await runClockTo(phone.page, started.registeredAt + 60_000 + 100);
    await expect
      .poll(async () => (await bench.kamailio.contactRecords(aorOf(line)))[0]?.callId, { timeout: 5_000 })
      .not.toBe(bindingBefore!.callId);
    await waitForRegistered(phone.page, 5_000);
    expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);

    expect(await registrationStatuses(phone.page)).toContain('failed');
    await runThroughRefresh(phone, bench.kamailio, line, 60, await fakeNow(phone.page));
    await waitForRegistered(phone.page, 1_000);
  });

  it('retries after a REGISTER timeout', async () => {
    const started = await startPhoneOnFakeClock(bench, line);
    phone = started.phone;
    const registersBefore = bench.kamailio.registerCount();

    await bench.kamailio.setRegisterFault({ drop: true });
    await runClockTo(phone.page, started.registeredAt + 60_000 * REFRESH_SHARE + 100);
    const expiredAt = started.registeredAt + 60_000 + 100;
    await runClockTo(phone.page, expiredAt);
    // The refresh, then a REGISTER on a new WebSocket after the expiry.
    await expect.poll(() => bench.kamailio.registerCount(), { timeout: 5_000 }).toBe(registersBefore + 2);

    // sip.js ends an unanswered REGISTER with its own 408 after 64 × T1 = 32 s.
    await runClockTo(phone.page, expiredAt + 32_100);
    const status = registrationStatus(phone.page);
    await expect.poll(() => status.textContent(), { timeout: 5_000 }).toContain('SIP-408');

    await bench.kamailio.setRegisterFault(null);
    await runClockTo(phone.page, (await fakeNow(phone.page)) + 1_000);
    await waitForRegistered(phone.page, 5_000);
    await runThroughRefresh(phone, bench.kamailio, line, 60, await fakeNow(phone.page));
  });
});

describe('REGISTER answered with 423 Interval Too Brief', () => {
  const line = benchLine(22, 'MinExpires Bench');
  let bench: ExpiryBench;
  let phone: SoftphoneInstance | null = null;

  beforeAll(async () => {
    bench = await startExpiryBench(line, { minExpires: 900, maxExpires: 1200 });
  });

  afterAll(async () => {
    await phone?.close();
    await bench?.stop();
  });

  it('registers with Min-Expires after 423', async () => {
    const started = await startPhoneOnFakeClock(bench, line);
    phone = started.phone;

    // 600 s requested, 423 with Min-Expires 900, registered for 900 s.
    const [record] = await bench.kamailio.contactRecords(aorOf(line));
    expect(record!.expires).toBeGreaterThan(600);
    expect(record!.expires).toBeLessThanOrEqual(900);

    await runThroughRefresh(phone, bench.kamailio, line, 900, started.registeredAt);
    await waitForRegistered(phone.page, 1_000);
  });
});
