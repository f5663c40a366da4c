/**
 * The renderer's V8 flags in the bench's Chromium. A page requests that V8
 * optimize a function, both with Chromium's defaults and with the flags that
 * the main process gives the renderer processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { rendererJsFlags } from '../../src/main/renderer-js-flags';
import { launchBenchChromium, type BenchBrowser } from '../bench/chromium';

interface CompilerTiers {
  turbofanEnabled: boolean;
  maglevEnabled: boolean;
  sparkplugEnabled: boolean;
  /** The function marked for optimization runs as Maglev or TurboFan code. */
  optimized: boolean;
}

/**
 * V8 natives syntax (`%Name(...)`, allowed by `--allow-natives-syntax`) is not
 * JavaScript, so the page compiles this from a string.
 */
const READ_COMPILER_TIERS = `(() => {
  const add = new Function('a', 'b', 'return a + b;');
  %PrepareFunctionForOptimization(add);
  add(1, 2);
  add(3, 4);
  %OptimizeFunctionOnNextCall(add);
  add(5, 6);
  return {
    turbofanEnabled: %IsTurbofanEnabled(),
    maglevEnabled: %IsMaglevEnabled(),
    sparkplugEnabled: %IsSparkplugEnabled(),
    optimized: %ActiveTierIsTurbofan(add) || %ActiveTierIsMaglev(add),
  };
})()`;

async function readCompilerTiers(browser: BenchBrowser): Promise<CompilerTiers> {
  const page = await browser.context.newPage();
  try {
    await page.goto('about:blank');
    return await page.evaluate<CompilerTiers>(READ_COMPILER_TIERS);
  } finally {
    await page.close();
  }
}

describe('renderer JS flags', () => {
  let usual: BenchBrowser;
  let flagged: BenchBrowser;
  let flaggedWithMaglev: BenchBrowser;

  beforeAll(async () => {
    [usual, flagged, flaggedWithMaglev] = await Promise.all([
      launchBenchChromium(['--js-flags=--allow-natives-syntax']),
      launchBenchChromium([`--js-flags=${rendererJsFlags('--allow-natives-syntax')}`]),
      launchBenchChromium([`--js-flags=${rendererJsFlags('--maglev --allow-natives-syntax')}`]),
    ]);
  });

  afterAll(async () => {
    await Promise.all([usual?.close(), flagged?.close(), flaggedWithMaglev?.close()]);
  });

  it('turn off the optimizing compilers', async () => {
    // With its defaults this Chromium optimizes the function, so the check below can fail.
    expect(await readCompilerTiers(usual)).toEqual({
      turbofanEnabled: true,
      maglevEnabled: true,
      sparkplugEnabled: true,
      optimized: true,
    });
    expect(await readCompilerTiers(flagged)).toEqual({
      turbofanEnabled: false,
      maglevEnabled: false,
      sparkplugEnabled: true,
      optimized: false,
    });
  });

  it('let flags from the command line win', async () => {
    const tiers = await readCompilerTiers(flaggedWithMaglev);

    expect(tiers.maglevEnabled).toBe(true);
    expect(tiers.turbofanEnabled).toBe(false);
  });
});
