/**
 * The ringtone's samples, rendered by the renderer's ringer module in the
 * bench's Chromium.
 */
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchBenchChromium, type BenchBrowser } from '../bench/chromium';

interface RingPeriodFigures {
  durationSeconds: number;
  peak: number;
  /** RMS between 0.1 s and 1.9 s, inside the tone. */
  toneRms: number;
  /** Peak from 2.0 s to the end, during the cadence's pause. */
  pausePeak: number;
  /** Peak over the first 1 ms, inside the fade-in. */
  fadeInPeak: number;
  /** Amplitude during the tone, keyed by frequency in Hz. */
  amplitudeAt: Record<number, number>;
}

/** The cadence's two tones, and three frequencies around them that must be absent. */
const PROBED_FREQUENCIES_HZ = [400, 440, 460, 480, 520];

async function bundleRinger(): Promise<string> {
  const result = await build({
    entryPoints: ['src/renderer/audio/ringer.ts'],
    bundle: true,
    format: 'iife',
    globalName: 'ringerModule',
    write: false,
  });
  return result.outputFiles[0]!.text;
}

function measureRingPeriod(page: Page, sampleRate: number): Promise<RingPeriodFigures> {
  return page.evaluate(async ([rate, frequencies]) => {
    const { renderRingPeriod } = (window as unknown as { ringerModule: typeof import('../../src/renderer/audio/ringer') })
      .ringerModule;
    const buffer = await renderRingPeriod(rate);
    const samples = buffer.getChannelData(0);
    const at = (seconds: number) => Math.round(seconds * rate);
    const peakOf = (from: number, to: number) => samples.subarray(from, to).reduce((peak, value) => Math.max(peak, Math.abs(value)), 0);

    const tone = samples.subarray(at(0.1), at(1.9));
    const rms = Math.sqrt(tone.reduce((sum, value) => sum + value * value, 0) / tone.length);
    // The amplitude of one frequency: the tone's correlation with a sine and a cosine of it.
    const amplitudeOf = (frequency: number) => {
      let inPhase = 0;
      let quadrature = 0;
      for (let index = 0; index < tone.length; index += 1) {
        const phase = (2 * Math.PI * frequency * index) / rate;
        inPhase += tone[index]! * Math.cos(phase);
        quadrature += tone[index]! * Math.sin(phase);
      }
      return (2 * Math.hypot(inPhase, quadrature)) / tone.length;
    };
    return {
      durationSeconds: buffer.duration,
      peak: peakOf(0, samples.length),
      toneRms: rms,
      pausePeak: peakOf(at(2.0), samples.length),
      fadeInPeak: peakOf(0, at(0.001)),
      amplitudeAt: Object.fromEntries(frequencies.map((frequency) => [frequency, amplitudeOf(frequency)])),
    };
  }, [sampleRate, PROBED_FREQUENCIES_HZ] as const);
}

describe('ringtone', () => {
  let browser: BenchBrowser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBenchChromium();
    page = await browser.context.newPage();
    await page.goto('about:blank');
    await page.addScriptTag({ content: await bundleRinger() });
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const sampleRate of [44_100, 48_000]) {
    it(`renders the cadence at ${sampleRate} Hz`, async () => {
      const figures = await measureRingPeriod(page, sampleRate);

      expect(figures.durationSeconds).toBeCloseTo(6, 3);
      // Two tones of amplitude 0.2 peak together below 0.4, with an RMS of 0.2.
      expect(figures.peak).toBeLessThanOrEqual(0.4);
      expect(figures.peak).toBeGreaterThan(0.35);
      expect(figures.toneRms).toBeCloseTo(0.2, 2);
      expect(figures.pausePeak).toBeLessThan(1e-3);
      // The 10 ms fade-in is at a tenth of its gain after 1 ms.
      expect(figures.fadeInPeak).toBeLessThan(0.05);
      expect(figures.amplitudeAt[440]).toBeCloseTo(0.2, 2);
      expect(figures.amplitudeAt[480]).toBeCloseTo(0.2, 2);
      for (const absent of [400, 460, 520]) {
        expect(figures.amplitudeAt[absent], `${absent} Hz`).toBeLessThan(0.005);
      }
    });
  }
});
