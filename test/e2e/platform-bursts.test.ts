/**
 * The RingCentral platform responds with 429 and 500 in bursts while two softphones
 * are registered: their lines keep working, they provision again once the
 * platform recovers, and they stay within the platform's request limits.
 */
import keytar from 'keytar';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CredentialAccount } from '../../src/main/credential-store';
import { bearerOwner, platformError, type RecordedRequest } from '../bench/platform-server';
import { aorOf, benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { dial, signInAndRegister, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';
import { storedData } from '../bench/stored-data';

const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
const TOKEN_PATH = '/restapi/oauth/token';
/** sip-provision is in the Heavy group: 10 requests per 60 s per user. The app keeps at most 9. */
const PROVISION_LIMIT_PER_MINUTE = 9;
/** Maximum time for both phones to provision again after the burst; the app's backoff after failures starts at 5 s and doubles. */
const RECOVERY_TIMEOUT_MS = 90_000;
const SAMPLE_INTERVAL_MS = 200;
/** Retry-After of the injected 429s, in seconds. */
const RETRY_AFTER_S = 2;
/** Shortest first backoff after a failed sip-provision request: half of the 5 s step. */
const FIRST_BACKOFF_MIN_MS = 2_500;

const lines = {
  caller: benchLine(51, 'Burst Caller'),
  callee: benchLine(52, 'Burst Callee'),
};

function provisioningAlert(page: Page) {
  return page.getByRole('alert', { name: 'Provisioning error' });
}

/** Calls `number` from one page, answers on the other, and hangs up from the first once established. */
async function callAndHangUp(from: Page, to: Page, number: string): Promise<void> {
  await dial(from, number);
  await waitForCallStatus(to, 'ringing');
  await to.getByRole('button', { name: 'Answer' }).click();
  await waitForCallStatus(from, 'established');
  await from.getByRole('button', { name: 'Hang up' }).click();
  await Promise.all([waitForIdle(from), waitForIdle(to)]);
}

/** Largest number of `requests` inside any 60 s window. */
function busiestMinute(requests: RecordedRequest[]): number {
  let busiest = 0;
  for (const [index, first] of requests.entries()) {
    const inWindow = requests.slice(index).filter((request) => request.time - first.time < 60_000).length;
    busiest = Math.max(busiest, inWindow);
  }
  return busiest;
}

describe('platform 429 and 500 bursts with two softphones', () => {
  let bench: SoftphoneBench;
  const phones: SoftphoneInstance[] = [];

  beforeAll(async () => {
    bench = await startSoftphoneBench(Object.values(lines));
  });

  afterAll(async () => {
    await Promise.all(phones.map((phone) => phone.close()));
    await bench?.stop();
  });

  function ownerOfRequest(request: RecordedRequest): string | null {
    return bearerOwner(bench.platform, request);
  }

  it('keeps both lines and provisions again after the burst', { timeout: RECOVERY_TIMEOUT_MS + 60_000 }, async () => {
    const caller = await startSoftphoneInstance({ name: 'caller', rendererUrl: bench.renderer.url });
    const callee = await startSoftphoneInstance({ name: 'callee', rendererUrl: bench.renderer.url });
    phones.push(caller, callee);
    const both = [
      { phone: caller, line: lines.caller },
      { phone: callee, line: lines.callee },
    ];
    await signInAndRegister(
      bench.platform.url,
      both.map(({ phone, line }) => ({ page: phone.page, line })),
    );

    await callAndHangUp(caller.page, callee.page, lines.callee.username);
    const dataBefore = await Promise.all(both.map(({ phone }) => storedData(phone)));
    const requestsBefore = bench.platform.requests.length;

    // The burst: sip-provision responds with 429 twice, 500 twice and then an
    // expired-token 401 twice. The first token refresh those 401s start gets a
    // 500, and the second one succeeds.
    const rateLimitHeaders = { 'Retry-After': String(RETRY_AFTER_S), 'X-Rate-Limit-Group': 'Heavy' };
    bench.platform.inject({ path: PROVISION_PATH, ...platformError(429, 'CMN-301', 'Request rate exceeded'), headers: rateLimitHeaders, times: 2 });
    bench.platform.inject({ path: PROVISION_PATH, ...platformError(500, 'CMN-102', 'Internal Server Error'), times: 2 });
    bench.platform.inject({ path: PROVISION_PATH, ...platformError(401, 'OAU-213', 'Token expired'), times: 2 });
    bench.platform.inject({ path: TOKEN_PATH, ...platformError(500, 'CMN-102', 'Internal Server Error') });

    for (const { line } of both) {
      expect(await bench.kamailio.sendNotify(aorOf(line), 'check-sync'), line.name).toEqual([200]);
    }

    // While the platform fails, both lines stay registered with the SIP profile they
    // have, the window shows what failed, and a call still connects.
    const registrationSamples: string[] = [];
    const alertSeen = [false, false];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [index, { phone }] of both.entries()) {
          registrationSamples.push((await phone.page.locator('.registration').getAttribute('data-status')) ?? 'missing');
          if ((await provisioningAlert(phone.page).count()) > 0) alertSeen[index] = true;
        }
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
      }
    })().catch((error: unknown) => {
      // A page that closed under the sampler (the test failed or timed out) ends the sampling.
      registrationSamples.push(`sampler failed: ${String(error)}`);
    });

    const burstRequests = () => bench.platform.requests.slice(requestsBefore);
    const provisionedAfterBurst = (ownerId: string) =>
      burstRequests().some((request) => request.path === PROVISION_PATH && request.status === 200 && ownerOfRequest(request) === ownerId);
    try {
      await callAndHangUp(callee.page, caller.page, lines.caller.username);

      await expect
        .poll(() => both.every(({ line }) => provisionedAfterBurst(line.ownerId)), { timeout: RECOVERY_TIMEOUT_MS, interval: 500 })
        .toBe(true);
      for (const { phone } of both) {
        await expect.poll(() => provisioningAlert(phone.page).count(), { timeout: 10_000 }).toBe(0);
      }
    } finally {
      // The sampler stops before the pages can close, so a failure above is the one reported.
      sampling = false;
      await sampler;
    }

    expect(registrationSamples.length).toBeGreaterThan(0);
    expect(new Set(registrationSamples)).toEqual(new Set(['registered']));
    expect(alertSeen).toEqual([true, true]);

    // Every fault was served, and every 429 was an injected one: the platform's own
    // rate limiter never had to stop either app.
    const served = burstRequests();
    const injected = served.filter((request) => request.fault === 'status');
    expect(injected.filter((request) => request.path === PROVISION_PATH)).toHaveLength(6);
    expect(injected.filter((request) => request.path === TOKEN_PATH)).toHaveLength(1);
    expect(served.filter((request) => request.status === 429 && request.fault === undefined)).toEqual([]);
    const tokenStatuses = served.filter((request) => request.path === TOKEN_PATH).map((request) => request.status);
    console.log(`[bursts] token endpoint statuses for both phones: ${tokenStatuses.join(' ')}`);
    // The refresh after the failed one got new tokens.
    expect(tokenStatuses.slice(1)).toContain(200);
    const refreshTokensOf = (ownerId: string) =>
      bench.platform.tokens.issuedRefresh().filter((token) => bench.platform.tokens.ownerOf(token) === ownerId);
    expect(Math.max(...both.map(({ line }) => refreshTokensOf(line.ownerId).length))).toBeGreaterThanOrEqual(2);

    for (const { phone, line } of both) {
      const provisions = served.filter((request) => request.path === PROVISION_PATH && ownerOfRequest(request) === line.ownerId);
      console.log(
        `[bursts] ${line.name}: ${provisions.length} sip-provision requests (${busiestMinute(provisions)} in the busiest minute), ` +
          `statuses ${provisions.map((request) => request.status).join(' ')}`,
      );
      expect(busiestMinute(provisions), line.name).toBeLessThanOrEqual(PROVISION_LIMIT_PER_MINUTE);
      // After a 429 the next request waits for Retry-After, and after a 5xx for the
      // first backoff step, which is 5 s with jitter down to half of it.
      for (const [index, request] of provisions.slice(0, -1).entries()) {
        const gap = provisions[index + 1]!.time - request.time;
        if (request.status === 429) expect(gap, `${line.name}: wait after 429`).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000);
        if ((request.status ?? 0) >= 500) expect(gap, `${line.name}: wait after ${request.status}`).toBeGreaterThanOrEqual(FIRST_BACKOFF_MIN_MS);
      }

      // The keychain contains this user's newest refresh token, still valid on the platform.
      const stored = (await keytar.getPassword(phone.keychainService, CredentialAccount.OAuthTokens)) ?? '';
      const newestRefresh = bench.platform.tokens.issuedRefresh().findLast((token) => bench.platform.tokens.ownerOf(token) === line.ownerId);
      expect(newestRefresh, line.name).toBeDefined();
      expect(stored, line.name).toContain(newestRefresh);
      expect(bench.platform.tokens.revoked(), line.name).not.toContain(newestRefresh);

      expect(await bench.kamailio.contacts(aorOf(line)), line.name).toHaveLength(1);
    }

    // Settings and keychain entries are as before; the history gained the call made during the burst.
    const dataAfter = await Promise.all(both.map(({ phone }) => storedData(phone)));
    for (const [index, before] of dataBefore.entries()) {
      const after = dataAfter[index]!;
      expect(after.settings).toBe(before.settings);
      expect(after.keychain).toEqual(before.keychain);
      const entryCount = (history: string | null) => (JSON.parse(history ?? '{"entries":[]}') as { entries: unknown[] }).entries.length;
      expect(entryCount(after.history)).toBe(entryCount(before.history) + 1);
    }
  });
});
