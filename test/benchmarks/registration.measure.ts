import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import keytar from 'keytar';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CredentialAccount } from '../../src/main/credential-store';
import type { ProvisioningTrigger } from '../../src/main/provisioning-scheduler';
import { IpcEvent } from '../../src/shared/ipc';
import { platformError, provisionError, type PlatformFault } from '../bench/platform-server';
import { BENCH_DOMAIN, benchLine, platformUserFor, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { createProvisioningHarness } from '../main/provisioning-harness';
import { report, type Figure } from './figures';

const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
const REPETITIONS = 5;
const MINUTE = 60_000;

/**
 * Installed with `page.addInitScript`: records each status the registration
 * badge shows, with the page's `performance.now()`.
 */
function installStatusTimeline(): void {
  const timeline: Array<{ status: string; at: number }> = [];
  (window as unknown as { __benchStatusTimeline: typeof timeline }).__benchStatusTimeline = timeline;

  const record = () => {
    const status = document.querySelector('.registration')?.getAttribute('data-status');
    if (status && timeline[timeline.length - 1]?.status !== status) timeline.push({ status, at: performance.now() });
  };
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

/** Emits a main-process event in the page and returns the page time just before it. */
function emitAt(page: Page, event: IpcEvent): Promise<number> {
  return page.evaluate((name) => {
    const at = performance.now();
    (window as unknown as { __benchIpcEmit: (event: string, payload: unknown) => void }).__benchIpcEmit(name, undefined);
    return at;
  }, event);
}

function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** Waits for the badge to leave Registered after `since` and come back; returns the page time it came back. */
async function reregisteredAt(page: Page, since: number): Promise<number> {
  const read = () =>
    page.evaluate((after) => {
      const timeline = (window as unknown as { __benchStatusTimeline: Array<{ status: string; at: number }> }).__benchStatusTimeline;
      const later = timeline.filter((entry) => entry.at >= after);
      const left = later.findIndex((entry) => entry.status !== 'registered');
      if (left === -1) return null;
      return later.slice(left).find((entry) => entry.status === 'registered')?.at ?? null;
    }, since);

  await expect.poll(read, { timeout: 15_000 }).not.toBeNull();
  return (await read())!;
}

describe('registration recovery figures', () => {
  const line = benchLine(61, 'Recovery Figures');
  const wrongPassword = benchLine(62, 'Password Figures');
  const notified = benchLine(63, 'Notify Figures');
  let bench: SoftphoneBench;

  beforeAll(async () => {
    bench = await startSoftphoneBench([line, wrongPassword, notified]);
  });

  afterAll(async () => {
    await bench?.stop();
  });

  it('measures recovery times and provisioning counts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'softphone-recovery-figures-'));
    const keychainService = `rc-softphone-bench-recovery-${process.pid}`;
    const start = () =>
      startSoftphoneInstance({ name: 'recovery', rendererUrl: bench.renderer.url, dataDir, keychainService, initScripts: [installStatusTimeline] });

    let phone: SoftphoneInstance = await start();
    await signInWithJwt(phone.page, bench.platform.url, line.jwtCredential);
    await waitForRegistered(phone.page);
    expect(await phone.quit()).toBe(true);
    await phone.close();

    const kamailioBack: number[] = [];
    const onlineEvent: number[] = [];
    const resumeEvent: number[] = [];
    const provisionsPerStart: number[] = [];
    const provisionsDuringKamailioRestart: number[] = [];

    // Each repetition is a new start of the same installation, so that the
    // app's limit of 10 connection attempts per minute (about 6 go to one
    // Kamailio outage) does not hold back the next measurement.
    for (let run = 0; run < REPETITIONS; run += 1) {
      const provisionsAtStart = bench.platform.count(PROVISION_PATH);
      phone = await start();
      await waitForRegistered(phone.page);
      await expect.poll(() => bench.platform.count(PROVISION_PATH) - provisionsAtStart, { timeout: 5_000 }).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      provisionsPerStart.push(bench.platform.count(PROVISION_PATH) - provisionsAtStart);

      const provisionsBefore = bench.platform.count(PROVISION_PATH);
      const killedAt = await pageNow(phone.page);
      await bench.kamailio.kill();
      await phone.page.locator('.registration[data-status="failed"]').waitFor({ timeout: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await bench.kamailio.start();
      const backAt = await pageNow(phone.page);
      kamailioBack.push((await reregisteredAt(phone.page, killedAt)) - backAt);
      provisionsDuringKamailioRestart.push(bench.platform.count(PROVISION_PATH) - provisionsBefore);

      await emitAt(phone.page, IpcEvent.NetworkOffline);
      const onlineAt = await emitAt(phone.page, IpcEvent.NetworkOnline);
      onlineEvent.push((await reregisteredAt(phone.page, onlineAt)) - onlineAt);

      const resumedAt = await emitAt(phone.page, IpcEvent.PowerResumed);
      resumeEvent.push((await reregisteredAt(phone.page, resumedAt)) - resumedAt);

      expect(await phone.quit()).toBe(true);
      await phone.close();
    }
    for (const account of Object.values(CredentialAccount)) await keytar.deletePassword(keychainService, account);
    await rm(dataDir, { recursive: true, force: true });

    // A SIP password the registrar rejects: the sign-in's request and one more, then nothing.
    const entry = platformUserFor(wrongPassword, bench.kamailio).sipInfo[0]!;
    bench.platform.setUser(wrongPassword.ownerId, { sipInfo: [{ ...entry, password: 'not-the-password' }] });
    const beforeWrongPassword = bench.platform.count(PROVISION_PATH);
    phone = await startSoftphoneInstance({ name: 'password', rendererUrl: bench.renderer.url });
    await signInWithJwt(phone.page, bench.platform.url, wrongPassword.jwtCredential);
    await phone.page.locator('.registration[data-status="failed"]').waitFor({ timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const wrongPasswordProvisions = bench.platform.count(PROVISION_PATH) - beforeWrongPassword;
    await phone.close();

    // Twenty check-sync NOTIFYs in a row.
    phone = await startSoftphoneInstance({ name: 'notify', rendererUrl: bench.renderer.url });
    await signInWithJwt(phone.page, bench.platform.url, notified.jwtCredential);
    await waitForRegistered(phone.page);
    const beforeNotifies = bench.platform.count(PROVISION_PATH);
    for (let notify = 0; notify < 20; notify += 1) {
      await bench.kamailio.sendNotify(`sip:${notified.username}@${BENCH_DOMAIN}`, 'check-sync');
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const checkSyncProvisions = bench.platform.count(PROVISION_PATH) - beforeNotifies;
    await phone.close();

    report('Registration recovery (Kamailio over WSS, Chromium, 2-core machine)', [
      { name: 'Kamailio accepting connections again → Registered (ms)', samples: kamailioBack },
      { name: 'NetworkOnline event → Registered on a new WebSocket (ms)', samples: onlineEvent },
      { name: 'PowerResumed event → Registered on a new WebSocket (ms)', samples: resumeEvent },
      { name: 'sip-provision requests per start (cached profile)', samples: provisionsPerStart },
      { name: 'sip-provision requests per Kamailio restart', samples: provisionsDuringKamailioRestart },
      { name: 'sip-provision requests, wrong SIP password (sign-in included)', samples: [wrongPasswordProvisions] },
      { name: 'sip-provision requests for 20 check-sync NOTIFYs within 2 s', samples: [checkSyncProvisions] },
    ]);
  });

  it('counts sip-provision requests per platform fault', async () => {
    const scenarios: Array<{ name: string; fault?: PlatformFault; triggerEveryMs?: number; trigger?: ProvisioningTrigger }> = [
      { name: 'platform responds 503', fault: { path: PROVISION_PATH, ...platformError(503, 'CMN-211', 'Unavailable'), times: Infinity } },
      { name: 'connection dropped', fault: { path: PROVISION_PATH, kind: 'drop', times: Infinity } },
      {
        name: 'platform responds 429 with Retry-After 60',
        fault: { path: PROVISION_PATH, ...platformError(429, 'CMN-301', 'Request rate exceeded'), headers: { 'Retry-After': '60' }, times: Infinity },
      },
      { name: 'documented error SPR-130', fault: { path: PROVISION_PATH, ...provisionError('SPR-130'), times: Infinity } },
      { name: 'check-sync every 5 s, platform healthy', triggerEveryMs: 5_000, trigger: 'check-sync' },
      { name: '"Try again" every 2 s, platform responds 503', fault: { path: PROVISION_PATH, ...platformError(503, 'CMN-211', 'Unavailable'), times: Infinity }, triggerEveryMs: 2_000, trigger: 'user' },
    ];

    const figures: Figure[] = [];
    for (const scenario of scenarios) {
      const totals: number[] = [];
      const busiestMinutes: number[] = [];
      for (let run = 0; run < 3; run += 1) {
        const harness = await createProvisioningHarness({ random: Math.random });
        try {
          if (scenario.fault) harness.server.inject(scenario.fault);
          await harness.request('start');
          const end = harness.clock.now() + 10 * MINUTE;
          while (harness.clock.now() < end) {
            const step = scenario.triggerEveryMs ?? MINUTE;
            await harness.run(Math.min(step, end - harness.clock.now()));
            if (scenario.trigger) await harness.request(scenario.trigger);
          }
          const arrivals = harness.arrivals();
          totals.push(arrivals.length);
          busiestMinutes.push(Math.max(...arrivals.map((time) => arrivals.filter((other) => other >= time && other < time + MINUTE).length)));
        } finally {
          await harness.server.close();
        }
      }
      figures.push({ name: `${scenario.name}: requests in 10 min`, samples: totals });
      figures.push({ name: `${scenario.name}: busiest minute`, samples: busiestMinutes });
    }

    report('sip-provision requests per fault (scheduler against the local platform, virtual time, 3 runs)', figures);
  });
});
