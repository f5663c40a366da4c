// Browser sign-in through the UI: "Sign in with browser" opens the authorize page
// in a second tab of the bench's Chromium, which plays the system browser and
// follows the redirect back to the app's loopback listener.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { keychainAccounts as listKeychainAccounts } from '../bench/keychain-entries';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithBrowser, signInWithJwt, waitForRegistered } from '../bench/softphone-ui';

const AUTHORIZE_PATH = '/restapi/oauth/authorize';
const TOKEN_PATH = '/restapi/oauth/token';
const REVOKE_PATH = '/restapi/oauth/revoke';
const UI_TIMEOUT_MS = 10_000;

describe('browser sign-in in the UI', () => {
  const erin = benchLine(5, 'Erin Bench');
  let bench: SoftphoneBench;
  let phone: SoftphoneInstance;
  let aor: string;

  beforeAll(async () => {
    bench = await startSoftphoneBench([erin]);
    phone = await startSoftphoneInstance({ name: 'erin', rendererUrl: bench.renderer.url });
    aor = `sip:${erin.username}@${bench.kamailio.domain}`;
  });

  afterAll(async () => {
    await phone?.close();
    await bench?.stop();
  });

  async function keychainAccounts(): Promise<string[]> {
    return listKeychainAccounts(phone.keychainService);
  }

  it('cancels while the browser has not returned', async () => {
    // The authorize page responds only after 3 s, so the app is still waiting when Cancel is clicked.
    bench.platform.inject({ path: AUTHORIZE_PATH, kind: 'delay', ms: 3_000 });

    await signInWithBrowser(phone.page, bench.platform.url);
    const waiting = phone.page.getByRole('status', { name: 'Browser sign-in' });
    await waiting.waitFor({ timeout: UI_TIMEOUT_MS });
    await waiting.getByRole('button', { name: 'Cancel' }).click();

    await phone.page.getByRole('button', { name: 'Sign in with browser' }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await phone.page.getByRole('alert', { name: 'Sign-in error' }).count()).toBe(0);
    expect(phone.externalPages).toHaveLength(1);
    expect(bench.platform.count(TOKEN_PATH)).toBe(0);
    expect(await keychainAccounts()).toEqual([]);
  });

  it('signs in with the browser, registers and shows the user', async () => {
    await signInWithBrowser(phone.page, bench.platform.url);
    await waitForRegistered(phone.page);

    const account = (await phone.page.getByLabel('Account').textContent()) ?? '';
    expect(account).toContain('Erin Bench');
    expect(account).toContain('Ext. 105');

    const tab = phone.externalPages.at(-1)!;
    expect(phone.externalPages).toHaveLength(2);
    await tab.getByText('You can close this tab and return to RC Softphone.').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await tab.locator('body').textContent()).toContain('You are signed in as Erin Bench (extension 105).');
    expect(new URL(tab.url()).hostname).toBe('127.0.0.1');

    const exchange = bench.platform.requests.find((request) => request.path === TOKEN_PATH);
    expect(exchange?.body).toMatchObject({ grant_type: 'authorization_code', redirect_uri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
    expect(await bench.kamailio.contacts(aor)).toHaveLength(1);
    expect(await keychainAccounts()).toEqual(['oauth-tokens', 'signed-in-user', 'sip-profile']);
  });

  it('signs out, unregisters and empties the keychain', async () => {
    await phone.page.getByRole('button', { name: 'Sign out' }).click();

    await phone.page.getByRole('button', { name: 'Sign in with browser' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await expect.poll(() => bench.kamailio.contacts(aor), { timeout: UI_TIMEOUT_MS }).toEqual([]);
    expect(await keychainAccounts()).toEqual([]);
    expect(bench.platform.count(REVOKE_PATH)).toBe(1);
    expect(bench.platform.tokens.revoked()).toContain(bench.platform.tokens.issuedRefresh()[0]);
  });

  it('clears the last sign-in error on a new attempt', async () => {
    const signInError = phone.page.getByRole('alert', { name: 'Sign-in error' });
    const settingsError = phone.page.getByRole('alert').filter({ hasText: 'ftp' });

    await signInWithJwt(phone.page, bench.platform.url, 'not-a-bench-jwt');
    await signInError.waitFor({ timeout: UI_TIMEOUT_MS });

    // The second attempt fails in the settings check, before any token request.
    await phone.page.getByLabel('Server URL').fill('ftp://127.0.0.1/');
    await phone.page.getByRole('button', { name: 'Sign in with JWT', exact: true }).click();
    await settingsError.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await signInError.count()).toBe(0);

    // A third attempt that fails like the first shows its own error, without the settings error.
    await signInWithJwt(phone.page, bench.platform.url, 'not-a-bench-jwt');
    await signInError.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await settingsError.count()).toBe(0);
  });
});
