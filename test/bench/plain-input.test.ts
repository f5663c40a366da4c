import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchBenchChromium, type BenchBrowser } from './chromium';
import { clickElement, typeInto, waitForSelector } from './plain-input';

/** How long a click on an element that cannot be clicked waits before it fails. */
const SHORT_TIMEOUT_MS = 300;

let browser: BenchBrowser;
let page: Page;

beforeAll(async () => {
  browser = await launchBenchChromium();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

/** Shows `html` and counts the trusted clicks each button receives, by class, in `window.clicks`. */
async function show(html: string): Promise<void> {
  await page.setContent(html);
  await page.evaluate(() => {
    const clicks: Record<string, number> = {};
    (window as unknown as { clicks: Record<string, number> }).clicks = clicks;
    for (const button of document.querySelectorAll('button')) {
      button.addEventListener('click', (event) => {
        if (event.isTrusted) clicks[button.className] = (clicks[button.className] ?? 0) + 1;
      });
    }
  });
}

function clicks(): Promise<Record<string, number>> {
  return page.evaluate(() => (window as unknown as { clicks: Record<string, number> }).clicks);
}

describe('plain input helpers', () => {
  it('clicks a button with a trusted event', async () => {
    await show('<button class="call">Call</button>');

    await clickElement(page, 'button.call');

    expect(await clicks()).toEqual({ call: 1 });
  });

  it('waits for a button to be enabled', async () => {
    await show('<button class="call" disabled>Call</button>');
    await page.evaluate(() => setTimeout(() => document.querySelector('button')!.removeAttribute('disabled'), 200));

    await clickElement(page, 'button.call', 5_000);

    expect(await clicks()).toEqual({ call: 1 });
  });

  it.each([
    ['disabled', '<button class="call" disabled>Call</button>', 'is disabled'],
    [
      'covered',
      '<button class="call">Call</button><button class="cover" style="position:fixed;inset:0;opacity:0.01">cover</button>',
      'is covered by another element',
    ],
    [
      'hidden',
      '<button class="corner" style="position:fixed;left:0;top:0">corner</button><button class="call" style="display:none">Call</button>',
      'is not visible',
    ],
    ['missing', '<button class="corner">corner</button>', 'is not on the page'],
    ['fieldset-disabled', '<fieldset disabled><button class="call">Call</button></fieldset>', 'is disabled'],
  ])('refuses a %s button', async (_case, html, problem) => {
    await show(html);

    await expect(clickElement(page, 'button.call', SHORT_TIMEOUT_MS)).rejects.toThrow(
      `Cannot click button.call after ${SHORT_TIMEOUT_MS} ms: it ${problem}`,
    );
    expect(await clicks()).toEqual({});
  });

  it('replaces the text of a field with trusted input', async () => {
    await page.setContent('<input type="tel" aria-label="Number to call" value="999">');
    await page.evaluate(() => {
      const probe = window as unknown as { inputs: boolean[] };
      probe.inputs = [];
      document.querySelector('input')!.addEventListener('input', (event) => probe.inputs.push(event.isTrusted));
    });

    await typeInto(page, 'input', '+16505550102');

    expect(await page.inputValue('input')).toBe('+16505550102');
    const inputs = await page.evaluate(() => (window as unknown as { inputs: boolean[] }).inputs);
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.every(Boolean)).toBe(true);
  });

  it('waits for an element to appear and to go', async () => {
    await page.setContent('<main></main>');
    await page.evaluate(() =>
      setTimeout(() => document.querySelector('main')!.insertAdjacentHTML('beforeend', '<p class="card">x</p>'), 200),
    );

    await waitForSelector(page, 'p.card', 'present', 5_000);
    await page.evaluate(() => document.querySelector('p.card')!.remove());
    await waitForSelector(page, 'p.card', 'absent', 5_000);
    await expect(waitForSelector(page, 'p.card', 'present', SHORT_TIMEOUT_MS)).rejects.toThrow(
      `Timed out after ${SHORT_TIMEOUT_MS} ms waiting for p.card to be present`,
    );
  });
});
