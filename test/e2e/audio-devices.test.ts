import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  deviceIdByLabel,
  installDeviceRemovalProbe,
  readAudioElement,
  readSentMicrophone,
  setDevicesPresent,
} from '../bench/audio-probe';
import { readAudioPackets } from '../bench/peer-connection-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import {
  dial,
  signInAndRegister,
  waitForCallStatus,
  waitForIdle,
  waitForRegistered,
} from '../bench/softphone-ui';

/** Chromium's fake devices (`--use-fake-device-for-media-stream`). */
const INPUT_1 = 'Fake Audio Input 1';
const INPUT_2 = 'Fake Audio Input 2';
const OUTPUT_1 = 'Fake Audio Output 1';
const OUTPUT_2 = 'Fake Audio Output 2';

/** RMS above this is sound, not silence: the tones the app plays peak far above it. */
const AUDIBLE_RMS = 0.01;
/** About half a second of Opus packets at 50 per second. */
const PACKETS_IN_HALF_A_SECOND = 25;
const POLL = { timeout: 10_000 };

async function openView(page: Page, view: 'Phone' | 'History' | 'Settings'): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${view}`) }).click();
}

async function chooseDevice(page: Page, role: 'Microphone' | 'Speaker' | 'Ringer', label: string): Promise<void> {
  await page.getByLabel(role, { exact: true }).selectOption({ label });
}

describe('audio devices', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;
  let bobDataDir: string;

  const startBob = (keychainService?: string) =>
    startSoftphoneInstance({
      name: 'bob',
      rendererUrl: bench.renderer.url,
      dataDir: bobDataDir,
      keychainService,
      initScripts: [installDeviceRemovalProbe],
    });

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    bobDataDir = await mkdtemp(join(tmpdir(), 'softphone-audio-bob-'));
    [a, b] = await Promise.all([
      startSoftphoneInstance({ name: 'alice', rendererUrl: bench.renderer.url }),
      startBob(),
    ]);
    await signInAndRegister(bench.platform.url, [
      { page: a.page, line: alice },
      { page: b.page, line: bob },
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
    if (bobDataDir) await rm(bobDataDir, { recursive: true, force: true });
  });

  it('saves devices, meters and plays a tone', async () => {
    await openView(b.page, 'Settings');
    await chooseDevice(b.page, 'Microphone', INPUT_1);
    await chooseDevice(b.page, 'Speaker', OUTPUT_1);
    await chooseDevice(b.page, 'Ringer', OUTPUT_2);

    await expect
      .poll(async () => (await b.callServices.preferences.load()).audio, POLL)
      .toMatchObject({ microphone: { label: INPUT_1 }, speaker: { label: OUTPUT_1 }, ringer: { label: OUTPUT_2 } });

    await b.page.getByRole('button', { name: 'Test microphone' }).click();
    const meter = b.page.getByLabel('Microphone level');
    await expect.poll(async () => Number((await meter.getAttribute('data-level')) || 0), POLL).toBeGreaterThan(0.05);
    await b.page.getByRole('button', { name: 'Stop microphone test' }).click();
    expect(await meter.getAttribute('data-level')).toBe('');

    const speakerId = await deviceIdByLabel(b.page, 'audiooutput', OUTPUT_1);
    await b.page.getByRole('button', { name: 'Play test tone' }).click();
    const tone = await readAudioElement(b.page, 'audio[data-role="test-tone"]');
    expect(tone?.sinkId).toBe(speakerId);
    expect(tone?.paused).toBe(false);
    expect(tone?.peakRms).toBeGreaterThan(AUDIBLE_RMS);
    await b.page.getByRole('button', { name: 'Play test tone' }).waitFor(POLL);
  });

  it('rings on the saved ringer after a restart', async () => {
    const keychainService = b.keychainService;
    expect(await b.quit()).toBe(true);
    await b.close();
    b = await startBob(keychainService);
    await waitForRegistered(b.page);

    // The restarted page gets no click before the call rings, as after a reboot.

    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');

    // A new browser profile gives the devices new ids, so the label finds them.
    const ringerId = await deviceIdByLabel(b.page, 'audiooutput', OUTPUT_2);
    await expect
      .poll(async () => readAudioElement(b.page, 'audio[data-role="ringer"]', 500), POLL)
      .toMatchObject({ sinkId: ringerId, paused: false, peakRms: expect.any(Number) });
    await expect
      .poll(async () => (await readAudioElement(b.page, 'audio[data-role="ringer"]', 500))?.peakRms ?? 0, POLL)
      .toBeGreaterThan(AUDIBLE_RMS);

    await b.page.getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    await b.page.locator('audio[data-role="ringer"]').waitFor({ state: 'detached', ...POLL });

    const microphoneId = await deviceIdByLabel(b.page, 'audioinput', INPUT_1);
    expect(await readSentMicrophone(b.page)).toEqual([
      { deviceId: microphoneId, echoCancellation: true, noiseSuppression: true, autoGainControl: true, readyState: 'live' },
    ]);
    const speakerId = await deviceIdByLabel(b.page, 'audiooutput', OUTPUT_1);
    await expect.poll(async () => (await readAudioElement(b.page, 'audio[data-call-id]'))?.sinkId, POLL).toBe(speakerId);
  });

  it('switches devices during a call', async () => {
    await openView(b.page, 'Settings');
    const sentBefore = (await readAudioPackets(b.page)).packetsSent;

    await chooseDevice(b.page, 'Microphone', INPUT_2);
    await chooseDevice(b.page, 'Speaker', OUTPUT_2);

    const microphoneId = await deviceIdByLabel(b.page, 'audioinput', INPUT_2);
    const speakerId = await deviceIdByLabel(b.page, 'audiooutput', OUTPUT_2);
    await expect.poll(async () => (await readSentMicrophone(b.page))[0]?.deviceId, POLL).toBe(microphoneId);
    await expect.poll(async () => (await readAudioElement(b.page, 'audio[data-call-id]'))?.sinkId, POLL).toBe(speakerId);

    expect(await readSentMicrophone(b.page)).toHaveLength(1);
    await waitForCallStatus(b.page, 'established');
    await expect
      .poll(async () => (await readAudioPackets(b.page)).packetsSent, POLL)
      .toBeGreaterThan(sentBefore + PACKETS_IN_HALF_A_SECOND);
    await expect
      .poll(async () => (await readAudioPackets(a.page)).packetsReceived, POLL)
      .toBeGreaterThan(PACKETS_IN_HALF_A_SECOND);
  });

  it('falls back while devices are unplugged', async () => {
    await setDevicesPresent(b.page, [INPUT_2, OUTPUT_2], false);

    const notices = b.page.getByRole('status', { name: 'Audio device notice' });
    await expect.poll(() => notices.allTextContents(), POLL).toEqual([
      `The microphone "${INPUT_2}" is not connected, so the system default is used until it is back.`,
      `The speaker "${OUTPUT_2}" is not connected, so the system default is used until it is back.`,
      `The ringer "${OUTPUT_2}" is not connected, so the system default is used until it is back.`,
    ]);
    await expect.poll(async () => (await readSentMicrophone(b.page))[0]?.deviceId, POLL).toBe('default');
    await expect.poll(async () => (await readAudioElement(b.page, 'audio[data-call-id]'))?.sinkId, POLL).toBe('');

    const sentBefore = (await readAudioPackets(b.page)).packetsSent;
    await waitForCallStatus(b.page, 'established');
    await expect
      .poll(async () => (await readAudioPackets(b.page)).packetsSent, POLL)
      .toBeGreaterThan(sentBefore + PACKETS_IN_HALF_A_SECOND);
    expect((await b.callServices.preferences.load()).audio.microphone?.label).toBe(INPUT_2);

    await setDevicesPresent(b.page, [INPUT_2, OUTPUT_2], true);
    const microphoneId = await deviceIdByLabel(b.page, 'audioinput', INPUT_2);
    await expect.poll(async () => (await readSentMicrophone(b.page))[0]?.deviceId, POLL).toBe(microphoneId);
    await expect.poll(() => notices.count(), POLL).toBe(0);

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), b.page.locator('.call-card').waitFor({ state: 'detached', ...POLL })]);
  });
});
