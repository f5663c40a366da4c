import type { Page } from 'playwright-core';

/**
 * Installed with `page.addInitScript`: records, on the page's own clock
 * (`performance.now()`), the first moment the registration badge shows
 * Registered. The bench reads it next to the navigation timing.
 */
export function installRegisteredMark(): void {
  const marks: Record<string, number> = {};
  (window as unknown as { __benchMarks: Record<string, number> }).__benchMarks = marks;

  const observer = new MutationObserver(() => {
    if (marks.registered !== undefined) return;
    if (document.querySelector('.registration[data-status="registered"]')) {
      marks.registered = performance.now();
      observer.disconnect();
    }
  });

  document.addEventListener('DOMContentLoaded', () => {
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

/** Interval between the bench's reads of the Registered mark. */
const REGISTERED_POLL_MS = 100;

/** Milliseconds to the Registered mark from two starting points of the page load. */
export interface RegisteredSpans {
  /** From the end of DOMContentLoaded ("page ready"). */
  fromPageReady: number;
  /** From the navigation's start (the page clock's zero): loading the page's scripts included. */
  fromNavigationStart: number;
}

/**
 * Reads the Registered mark of the page's current load, measured from page
 * ready and from the navigation start.
 *
 * The bench reads the mark with one small `page.evaluate` per poll. A Playwright
 * locator would load Playwright's injected script into the reloaded page and
 * poll the DOM from inside it. A Chromium trace showed 15-20 ms of the
 * renderer's main thread spent so inside the measured span.
 */
export async function registeredSpans(page: Page, timeoutMs = 15_000): Promise<RegisteredSpans> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await page.evaluate(() => {
      const marks = (window as unknown as { __benchMarks?: Record<string, number> }).__benchMarks;
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      if (marks?.registered === undefined || navigation === undefined) return null;
      return { fromPageReady: marks.registered - navigation.domContentLoadedEventEnd, fromNavigationStart: marks.registered };
    });
    if (spans !== null) return spans;
    if (Date.now() > deadline) throw new Error(`The page showed no Registered badge within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, REGISTERED_POLL_MS));
  }
}

/** Milliseconds from DOMContentLoaded to the Registered mark. */
export async function pageReadyToRegisteredMs(page: Page, timeoutMs = 15_000): Promise<number> {
  return (await registeredSpans(page, timeoutMs)).fromPageReady;
}
