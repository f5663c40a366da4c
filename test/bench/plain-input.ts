/**
 * Drives a bench page with the DevTools Protocol's input events and short
 * `page.evaluate` calls only. Playwright's locators run its injected script inside
 * the page, so V8 compiles that script's hot functions into the page's heap as
 * the locators repeat. Heap readings taken while the page is driven this way
 * count the app's code and objects, without the injected script's.
 */
import type { Page } from 'playwright-core';

const POLL_INTERVAL_MS = 50;

/** Clicks the centre of the first element matching `selector`, with a real (trusted) mouse click. */
export async function clickElement(page: Page, selector: string): Promise<void> {
  const centre = await page.evaluate((css) => {
    const element = document.querySelector(css);
    if (!element) return null;
    element.scrollIntoView({ block: 'nearest' });
    const box = element.getBoundingClientRect();
    return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
  }, selector);
  if (centre === null) throw new Error(`Nothing on the page matches ${selector}`);
  await page.mouse.click(centre.x, centre.y);
}

/** Focuses the text field matching `selector`, clears it, and types `text` as the keyboard would insert it. */
export async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  const found = await page.evaluate((css) => {
    const field = document.querySelector(css);
    if (!(field instanceof HTMLInputElement)) return false;
    field.focus();
    field.select();
    return true;
  }, selector);
  if (!found) throw new Error(`No text field on the page matches ${selector}`);
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/**
 * Waits until `selector` matches an element (`present`) or matches none
 * (`absent`). It throws once `timeoutMs` has passed.
 */
export async function waitForSelector(
  page: Page,
  selector: string,
  state: 'present' | 'absent',
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const present = await page.evaluate((css) => document.querySelector(css) !== null, selector);
    if (present === (state === 'present')) return;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${selector} to be ${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
