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

/** Milliseconds from DOMContentLoaded to the Registered mark. */
export async function pageReadyToRegisteredMs(page: Page): Promise<number> {
  await page.locator('.registration[data-status="registered"]').waitFor({ timeout: 15_000 });

  return page.evaluate(() => {
    const marks = (window as unknown as { __benchMarks: Record<string, number> }).__benchMarks;
    const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    if (marks.registered === undefined) throw new Error('The Registered mark was not recorded');
    return marks.registered - navigation.domContentLoadedEventEnd;
  });
}
