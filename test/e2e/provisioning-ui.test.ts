import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { parsePlatformError } from '../../src/main/platform-client';
import { describeProvisioningFailure } from '../../src/main/provisioning-errors';
import type { UserFacingError } from '../../src/shared/errors';
import {
  platformError,
  PROVISION_ERRORS,
  provisionError,
  type ErrorResponse,
  type PlatformFault,
  type ProvisionErrorCode,
} from '../bench/platform-server';
import { benchLine, platformUserFor, startSoftphoneBench, type BenchLine, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { dial, signInWithJwt, waitForCallStatus, waitForRegistered } from '../bench/softphone-ui';

const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
const CODES = Object.keys(PROVISION_ERRORS) as ProvisionErrorCode[];

/** What the app must show for a platform error response, computed by the app's own mapping. */
function expectedError(response: ErrorResponse<unknown>, headers: Record<string, string> = {}): UserFacingError {
  const error = parsePlatformError(
    'POST',
    PROVISION_PATH,
    { status: response.status, statusText: '', headers: new Headers(headers) },
    JSON.stringify(response.body),
    Date.now(),
  );
  return describeProvisioningFailure(error);
}

function provisioningAlert(page: Page) {
  return page.getByRole('alert', { name: 'Provisioning error' });
}

/** Waits until the provisioning alert shows `code`, and returns its text. */
async function alertTextFor(page: Page, code: string): Promise<string> {
  const alert = provisioningAlert(page);
  await expect.poll(async () => ((await alert.count()) > 0 ? alert.textContent() : ''), { timeout: 10_000 }).toContain(`Code: ${code}`);
  return (await alert.textContent()) ?? '';
}

describe('provisioning errors and sipFlags in the UI', () => {
  const lines = {
    first: benchLine(51, 'Codes One'),
    second: benchLine(52, 'Codes Two'),
    flags: benchLine(53, 'Flags Bench'),
    caller: benchLine(54, 'Caller Bench'),
  };
  let bench: SoftphoneBench;
  const phones: SoftphoneInstance[] = [];

  beforeAll(async () => {
    bench = await startSoftphoneBench(Object.values(lines));
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((phone) => phone.close()));
  });

  afterAll(async () => {
    await bench?.stop();
  });

  async function startPhone(line: BenchLine, firstFault?: PlatformFault): Promise<SoftphoneInstance> {
    const phone = await startSoftphoneInstance({ name: line.name.split(' ')[1]!.toLowerCase(), rendererUrl: bench.renderer.url });
    phones.push(phone);
    if (firstFault !== undefined) bench.platform.inject(firstFault);
    await signInWithJwt(phone.page, bench.platform.url, line.jwtCredential);
    return phone;
  }

  /** Shows each code in turn: the first through sign-in, the others through "Try again". */
  async function showCodes(line: BenchLine, codes: ProvisionErrorCode[]): Promise<SoftphoneInstance> {
    const phone = await startPhone(line, { path: PROVISION_PATH, ...provisionError(codes[0]!) });

    for (const [index, code] of codes.entries()) {
      if (index > 0) {
        bench.platform.inject({ path: PROVISION_PATH, ...provisionError(code) });
        await provisioningAlert(phone.page).getByRole('button', { name: 'Try again' }).click();
      }

      const text = await alertTextFor(phone.page, code);
      const expected = expectedError(provisionError(code));
      expect(text, code).toContain(expected.message);
      expect(text, code).toContain(expected.action);
      expect(await phone.page.getByRole('button', { name: 'Call', exact: true }).isDisabled(), code).toBe(true);
    }
    return phone;
  }

  it('explains the first five documented error codes', async () => {
    await showCodes(lines.first, CODES.slice(0, 5));
  });

  it('explains five codes, an unknown code and 429', async () => {
    const phone = await showCodes(lines.second, CODES.slice(5));

    const unknown = platformError(403, 'SPR-999', 'The softphone line is parked in a maintenance window');
    bench.platform.inject({ path: PROVISION_PATH, ...unknown });
    await provisioningAlert(phone.page).getByRole('button', { name: 'Try again' }).click();
    const unknownText = await alertTextFor(phone.page, 'SPR-999');
    expect(unknownText).toContain('The softphone line is parked in a maintenance window');
    expect(unknownText).toContain(expectedError(unknown).action);

    const rateLimitHeaders = { 'Retry-After': '3', 'X-Rate-Limit-Group': 'Heavy' };
    const rateLimited = platformError(429, 'CMN-301', 'Request rate exceeded');
    bench.platform.inject({ path: PROVISION_PATH, ...rateLimited, headers: rateLimitHeaders });
    await provisioningAlert(phone.page).getByRole('button', { name: 'Try again' }).click();
    const rateLimitText = await alertTextFor(phone.page, 'CMN-301');
    const expected = expectedError(rateLimited, rateLimitHeaders);
    expect(rateLimitText).toContain(expected.message);
    expect(rateLimitText).toContain('Wait 3 seconds');
    expect(rateLimitText).toMatch(/Next attempt in [1-3] s/);

    // The app retries by itself once Retry-After has passed, and not before.
    await waitForRegistered(phone.page, 10_000);
    expect(await provisioningAlert(phone.page).count()).toBe(0);
    const requests = bench.platform.requests.filter((request) => request.path === PROVISION_PATH);
    const limited = requests.findLast((request) => request.status === 429)!;
    const retried = requests[requests.indexOf(limited) + 1]!;
    expect(retried.status).toBe(200);
    expect(retried.time - limited.time).toBeGreaterThanOrEqual(3_000);
  });

  it('explains sipFlags and still takes calls', async () => {
    const entry = platformUserFor(lines.flags, bench.kamailio);
    bench.platform.setUser(lines.flags.ownerId, {
      sipFlags: { voipFeatureEnabled: false, voipCountryBlocked: false, outboundCallsEnabled: true },
    });
    const phone = await startPhone(lines.flags);
    const unavailable = phone.page.getByRole('alert', { name: 'Calling unavailable' });
    await expect.poll(() => unavailable.textContent(), { timeout: 10_000 }).toContain('VoIP) is turned off for this RingCentral account');

    bench.platform.setUser(lines.flags.ownerId, {
      sipFlags: { voipFeatureEnabled: true, voipCountryBlocked: true, outboundCallsEnabled: true },
    });
    await phone.service.provision();
    await expect.poll(() => unavailable.textContent(), { timeout: 10_000 }).toContain('blocks internet calling (VoIP) from the country');

    bench.platform.setUser(lines.flags.ownerId, {
      sipInfo: entry.sipInfo,
      sipFlags: { voipFeatureEnabled: true, voipCountryBlocked: false, outboundCallsEnabled: false },
    });
    await phone.service.provision();
    const note = phone.page.getByRole('note', { name: 'Outbound calls disabled' });
    await expect.poll(() => note.textContent(), { timeout: 10_000 }).toContain('can receive calls but cannot place them');
    expect(await unavailable.count()).toBe(0);
    await waitForRegistered(phone.page);
    expect(await phone.page.getByRole('button', { name: 'Call', exact: true }).isDisabled()).toBe(true);

    // Incoming calls still ring and can be answered.
    const caller = await startPhone(lines.caller);
    await waitForRegistered(caller.page);
    await dial(caller.page, lines.flags.username);
    await waitForCallStatus(phone.page, 'ringing');
    await phone.page.getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(phone.page, 'established'), waitForCallStatus(caller.page, 'established')]);
    await caller.page.getByRole('button', { name: 'Hang up' }).click();
  });
});
