import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchBenchChromium, type BenchBrowser } from './chromium';
import { openPageMetrics } from './renderer-resources';

describe('heap snapshot sizes of a Chromium page', () => {
  let browser: BenchBrowser;

  beforeAll(async () => {
    browser = await launchBenchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('counts V8 number-to-string caches apart from the page objects', async () => {
    const page = await browser.context.newPage();
    await page.goto('about:blank');
    const metrics = await openPageMetrics(page);
    try {
      // Turning many small integers into strings fills V8's number-to-string cache.
      await page.evaluate(() => {
        let text = '';
        for (let value = 0; value < 20_000; value += 1) text = String(value);
        return text;
      });
      const before = await metrics.heapSnapshotSizes();

      // 50,000 objects the page keeps, over 500 kB: they count as page objects, not as a cache.
      await page.evaluate(() => {
        (window as unknown as { kept: object[] }).kept = Array.from({ length: 50_000 }, (_, index) => ({ index }));
      });
      const after = await metrics.heapSnapshotSizes();

      // In the bench's Chromium the small-integer cache alone takes 64 KiB once it has grown.
      expect(before.v8CacheBytes).toBeGreaterThanOrEqual(65_536);
      for (const sizes of [before, after]) {
        const byType = Object.values(sizes.bytesByType).reduce((sum, bytes) => sum + bytes, 0);
        expect(byType + sizes.v8CacheBytes).toBe(sizes.totalBytes);
      }
      expect((after.bytesByType.object ?? 0) - (before.bytesByType.object ?? 0)).toBeGreaterThan(500_000);
      expect(after.v8CacheBytes).toBe(before.v8CacheBytes);
    } finally {
      await metrics.detach();
      await page.close();
    }
  });
});
