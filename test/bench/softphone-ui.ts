import type { Page } from 'playwright-core';

import { BENCH_CLIENT_ID } from './softphone-bench';

/** Waits for a visible element with longer timeouts than Playwright's default. */
const UI_TIMEOUT_MS = 10_000;

/** Fills the server and client id of the sign-in form: a custom server URL and the bench's client id. */
export async function fillSignInSettings(page: Page, platformUrl: string): Promise<void> {
  await page.getByLabel('Server', { exact: true }).selectOption('custom');
  await page.getByLabel('Server URL').fill(platformUrl);
  await page.getByLabel('Client ID').fill(BENCH_CLIENT_ID);
}

/** Fills the sign-in form the way a user does: custom server, client id, JWT credential. */
export async function signInWithJwt(page: Page, platformUrl: string, jwtCredential: string): Promise<void> {
  await fillSignInSettings(page, platformUrl);
  const jwtField = page.getByLabel('JWT credential');
  if (!(await jwtField.isVisible())) {
    await page.getByText('Sign in with a JWT credential').click();
  }
  await jwtField.fill(jwtCredential);
  await page.getByRole('button', { name: 'Sign in with JWT', exact: true }).click();
}

/** Fills the sign-in form and clicks "Sign in with browser"; the app then opens the authorize page. */
export async function signInWithBrowser(page: Page, platformUrl: string): Promise<void> {
  await fillSignInSettings(page, platformUrl);
  await page.getByRole('button', { name: 'Sign in with browser', exact: true }).click();
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
  // `first()` keeps the wait valid while several call cards are still shown.
  await page.locator('.call-card').first().waitFor({ state: 'detached', timeout: timeoutMs });
  await page.getByLabel('Number to call').waitFor({ timeout: timeoutMs });
}

/** Signs each phone in with its line's JWT credential, then waits until every one shows Registered. */
export async function signInAndRegister(
  platformUrl: string,
  phones: Array<{ page: Page; line: { jwtCredential: string } }>,
): Promise<void> {
  await Promise.all(phones.map(({ page, line }) => signInWithJwt(page, platformUrl, line.jwtCredential)));
  await Promise.all(phones.map(({ page }) => waitForRegistered(page)));
}
