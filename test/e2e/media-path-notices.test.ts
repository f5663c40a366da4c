import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freezeNetwork } from '../bench/network-freeze';
import { readConnectionStates, waitForAudioPackets } from '../bench/peer-connection-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, dial, signInAndRegister, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';

const GIVE_UP_TEXT = 'could not be restored';
/** Audio packets that prove audio flows: about half a second of Opus. */
const MIN_AUDIO_PACKETS = 25;

/**
 * Shortens the media path watch's waits (15, 30 and 60 s) tenfold on the page,
 * so the last restart attempt runs out while the network is still frozen.
 */
async function shortenRestartWaits(page: Page): Promise<void> {
  await page.evaluate(() => {
    const original = window.setTimeout.bind(window);
    const shortened = new Set([15_000, 30_000, 60_000]);
    const patched = (handler: TimerHandler, timeout?: number, ...rest: unknown[]) =>
      original(handler, timeout !== undefined && shortened.has(timeout) ? timeout / 10 : timeout, ...rest);
    (window as unknown as { setTimeout: typeof patched }).setTimeout = patched;
  });
}

function noticeText(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('[aria-label="Call notice"]')?.textContent ?? '');
}

describe('call notices after the media path recovers', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    [a, b] = await Promise.all([
      startSoftphoneInstance({ name: 'alice', rendererUrl: bench.renderer.url }),
      startSoftphoneInstance({ name: 'bob', rendererUrl: bench.renderer.url }),
    ]);
    await signInAndRegister(bench.platform.url, [
      { page: a.page, line: alice },
      { page: b.page, line: bob },
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
  });

  it('clears the give-up notice', { timeout: 180_000 }, async () => {
    await dial(a.page, `+${bob.username}`);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS);
    await shortenRestartWaits(a.page);

    const frozen = freezeNetwork(b.chromiumProfileDir, 100_000);
    try {
      await expect.poll(() => noticeText(a.page), { timeout: 90_000, interval: 200 }).toContain(GIVE_UP_TEXT);
    } finally {
      frozen.resume();
    }

    // The queued restart, or Bob's own, mends the path once Bob's network runs again.
    await expect.poll(() => readConnectionStates(a.page), { timeout: 60_000, interval: 200 }).toEqual(['connected']);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS, 20_000);
    await waitForAudioPackets(b.page, MIN_AUDIO_PACKETS, 20_000);
    await expect(callCard(a.page).getAttribute('data-call-status')).resolves.toBe('established');

    const notice = await noticeText(a.page);
    await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    expect(notice).not.toContain(GIVE_UP_TEXT);
  });

  it('clears a failed restart notice', { timeout: 180_000 }, async () => {
    // Bob is a far end that never restarts ICE itself, as a media server. His app's
    // watch gets no state events, while sip.js's own handlers still run.
    await b.page.evaluate(() => {
      const original = RTCPeerConnection.prototype.addEventListener;
      RTCPeerConnection.prototype.addEventListener = function (this: RTCPeerConnection, type: string, ...rest: unknown[]) {
        if (type === 'iceconnectionstatechange' || type === 'connectionstatechange') return;
        return (original as (...args: unknown[]) => void).call(this, type, ...rest);
      } as typeof original;
    });

    await dial(a.page, `+${bob.username}`);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS);
    await shortenRestartWaits(a.page);

    const frozen = freezeNetwork(b.chromiumProfileDir, 100_000);
    try {
      await expect.poll(() => noticeText(a.page), { timeout: 90_000, interval: 200 }).toContain('Reconnecting the audio failed');
    } finally {
      frozen.resume();
    }

    await expect.poll(() => readConnectionStates(a.page), { timeout: 60_000, interval: 200 }).toEqual(['connected']);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS, 20_000);
    await waitForAudioPackets(b.page, MIN_AUDIO_PACKETS, 20_000);

    const notice = await noticeText(a.page);
    await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    expect(notice).not.toContain('Reconnecting the audio failed');
    expect(notice).not.toContain(GIVE_UP_TEXT);
  });
});
