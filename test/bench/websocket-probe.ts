import type { Page } from 'playwright-core';

/** One `new WebSocket(...)` in the page: the URL and the page's `Date.now()` at that moment. */
export interface WebSocketAttempt {
  url: string;
  at: number;
}

/**
 * Installed with `page.addInitScript`: records every WebSocket the page
 * creates. Times come from the page's `Date.now()`, which `page.clock`
 * controls, so attempts per virtual minute can be counted.
 */
export function installWebSocketProbe(): void {
  const NativeWebSocket = window.WebSocket;
  const attempts: Array<{ url: string; at: number }> = [];
  (window as unknown as { __benchWebSocketAttempts: typeof attempts }).__benchWebSocketAttempts = attempts;

  class CountingWebSocket extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      attempts.push({ url: String(url), at: Date.now() });
    }
  }
  window.WebSocket = CountingWebSocket;
}

export async function readWebSocketAttempts(page: Page): Promise<WebSocketAttempt[]> {
  return page.evaluate(
    () => (window as unknown as { __benchWebSocketAttempts?: Array<{ url: string; at: number }> }).__benchWebSocketAttempts ?? [],
  );
}

/** Returns the largest number of attempts within any window of `windowMs`. */
export function maxAttemptsInWindow(attempts: WebSocketAttempt[], windowMs: number): number {
  const times = attempts.map((attempt) => attempt.at).sort((a, b) => a - b);
  let max = 0;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while (times[last]! - times[first]! >= windowMs) first += 1;
    max = Math.max(max, last - first + 1);
  }
  return max;
}
