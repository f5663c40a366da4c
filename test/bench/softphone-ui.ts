import type { Page } from 'playwright-core';

import { BENCH_CLIENT_ID } from './softphone-bench';

/** Waits for a visible element with longer timeouts than Playwright's default. */
const UI_TIMEOUT_MS = 10_000;

/** Fills the sign-in form the way a user does: custom server, client id, JWT credential. */
export async function signInWithJwt(page: Page, platformUrl: string, jwtCredential: string): Promise<void> {
  await page.getByLabel('Server', { exact: true }).selectOption('custom');
  await page.getByLabel('Server URL').fill(platformUrl);
  await page.getByLabel('Client ID').fill(BENCH_CLIENT_ID);
  await page.getByLabel('JWT credential').fill(jwtCredential);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export function registrationStatus(page: Page) {
  return page.getByRole('status', { name: 'Registration' });
}

/** Resolves when the registration badge reads Registered. */
export async function waitForRegistered(page: Page, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  await page.locator('.registration[data-status="registered"]').waitFor({ timeout: timeoutMs });
}

export async function dial(page: Page, number: string): Promise<void> {
  await page.getByLabel('Number to call').fill(number);
  await page.getByRole('button', { name: 'Call', exact: true }).click();
}

export function callCard(page: Page) {
  return page.getByRole('region', { name: 'Call' });
}

export async function waitForCallStatus(page: Page, status: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  await page.locator(`.call-card[data-call-status="${status}"]`).waitFor({ timeout: timeoutMs });
}

/** Resolves when no call card is left and the dial pad is back. */
export async function waitForIdle(page: Page, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  await page.locator('.call-card').waitFor({ state: 'detached', timeout: timeoutMs });
  await page.getByLabel('Number to call').waitFor({ timeout: timeoutMs });
}
