/**
 * Drives a bench page with the DevTools Protocol's input events and short
 * `page.evaluate` calls only. Playwright's locators run its injected script inside
 * the page, so V8 compiles that script's hot functions into the page's heap as
 * the locators repeat. Heap readings taken while the page is driven this way
 * count the app's code and objects, without the injected script's.
 */
import type { Page } from 'playwright-core';

const POLL_INTERVAL_MS = 50;

/** Time `clickElement` waits for its element to become clickable. */
const CLICKABLE_TIMEOUT_MS = 5_000;

/**
 * Clicks the centre of the first element matching `selector` with a real
 * (trusted) mouse click, as a user would. It waits until the element is enabled,
 * has a size and is the topmost element at its centre, and throws after
 * `timeoutMs` when it does not become so.
 */
export async function clickElement(page: Page, selector: string, timeoutMs = CLICKABLE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;

  for (;;) {
    const target = await page.evaluate((css) => {
      const element = document.querySelector(css);
      if (!element) return { problem: 'is not on the page' };
      // :disabled also covers a control inside a disabled <fieldset>.
      if (element.matches(':disabled')) return { problem: 'is disabled' };

      element.scrollIntoView({ block: 'nearest' });
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) return { problem: 'is not visible' };

      const x = box.left + box.width / 2;
      const y = box.top + box.height / 2;
      const topmost = document.elementFromPoint(x, y);
      if (!topmost || !element.contains(topmost)) return { problem: 'is covered by another element' };
      return { problem: null, x, y };
    }, selector);

    if (target.problem === null) {
      await page.mouse.click(target.x, target.y);
      return;
    }
    if (Date.now() > deadline) throw new Error(`Cannot click ${selector} after ${timeoutMs} ms: it ${target.problem}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
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
