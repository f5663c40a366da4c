import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nodeNow, recordSipFrames, type SipFrameRecorder } from '../bench/call-timing';
import { iceUfragOf, readDescriptions } from '../bench/call-probe';
import { freezeNetwork } from '../bench/network-freeze';
import { readConnectionStates, waitForAudioPackets } from '../bench/peer-connection-probe';
import { startRegisteredPhones } from '../bench/registered-phones';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import type { SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, dial, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';

/** Audio packets that prove audio flows: about half a second of Opus. */
const MIN_AUDIO_PACKETS = 25;
/**
 * Wait for the caller's ICE restart while the callee's network is frozen. On
 * the bench, Chromium reported ICE `disconnected` about 8 s after the freeze,
 * and the app restarts ICE 5 s later.
 */
const RESTART_TIMEOUT_MS = 45_000;

const GIVE_UP_TEXT = 'could not be restored';
/** Wait for a notice while the callee's network is frozen, with the restart waits shortened tenfold. */
const NOTICE_TIMEOUT_MS = 90_000;

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

describe('a media path that fails during a call', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;
  let aliceFrames: SipFrameRecorder;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    // recordSipFrames captures only WebSockets opened after it starts.
    [a, b] = await startRegisteredPhones(bench, [alice, bob], ([alicePhone]) => {
      aliceFrames = recordSipFrames(alicePhone!.page);
    });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
  });

  /** Alice calls Bob, Bob answers, and audio reaches Alice. */
  async function connectCall(): Promise<void> {
    await dial(a.page, `+${bob.username}`);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS);
  }

  async function hangUp(): Promise<void> {
    await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
  }

  it('restarts ICE and gets the audio back', { timeout: RESTART_TIMEOUT_MS + 60_000 }, async () => {
    await connectCall();

    const [before] = await readDescriptions(a.page);
    const localUfrag = iceUfragOf(before!.local);
    const remoteUfrag = iceUfragOf(before!.remote);
    const since = nodeNow();
    // Re-INVITEs Alice sent since the freeze: INVITEs whose To has a tag.
    const reinvites = () =>
      aliceFrames.frames.filter(
        (frame) =>
          frame.direction === 'sent' &&
          frame.at >= since &&
          frame.payload.startsWith('INVITE ') &&
          /\r\nTo:[^\r\n]*;tag=/i.test(frame.payload),
      );

    // No packet reaches or leaves Bob's browser until Alice restarts ICE;
    // neither side gets a network change event.
    const frozen = freezeNetwork(b.chromiumProfileDir, RESTART_TIMEOUT_MS + 5_000);
    try {
      await expect.poll(() => reinvites().length, { timeout: RESTART_TIMEOUT_MS, interval: 100 }).toBeGreaterThan(0);
    } finally {
      frozen.resume();
    }

    // Alice's re-INVITE offers new ICE credentials.
    const offeredUfrag = iceUfragOf(reinvites()[0]!.payload);
    expect(offeredUfrag).not.toBeNull();
    expect(offeredUfrag).not.toBe(localUfrag);

    // Both ends apply new ICE credentials, and audio flows both ways again.
    const current = async () => (await readDescriptions(a.page))[0] ?? { local: '', remote: '' };
    await expect.poll(async () => iceUfragOf((await current()).local), { timeout: 15_000 }).not.toBe(localUfrag);
    await expect.poll(async () => iceUfragOf((await current()).remote), { timeout: 15_000 }).not.toBe(remoteUfrag);
    await expect.poll(() => readConnectionStates(a.page), { timeout: 15_000 }).toEqual(['connected']);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS);
    await waitForAudioPackets(b.page, MIN_AUDIO_PACKETS);
    await expect(callCard(a.page).getAttribute('data-call-status')).resolves.toBe('established');
    await expect(callCard(b.page).getAttribute('data-call-status')).resolves.toBe('established');

    await hangUp();
  });

  it('clears the give-up notice', { timeout: NOTICE_TIMEOUT_MS + 90_000 }, async () => {
    await connectCall();
    await shortenRestartWaits(a.page);

    const frozen = freezeNetwork(b.chromiumProfileDir, NOTICE_TIMEOUT_MS + 10_000);
    try {
      await expect.poll(() => noticeText(a.page), { timeout: NOTICE_TIMEOUT_MS, interval: 200 }).toContain(GIVE_UP_TEXT);
    } finally {
      frozen.resume();
    }

    // The queued restart, or Bob's own, mends the path once Bob's network runs again.
    await expect.poll(() => readConnectionStates(a.page), { timeout: 60_000, interval: 200 }).toEqual(['connected']);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS, 20_000);
    await waitForAudioPackets(b.page, MIN_AUDIO_PACKETS, 20_000);
    await expect(callCard(a.page).getAttribute('data-call-status')).resolves.toBe('established');

    const notice = await noticeText(a.page);
    await hangUp();

    expect(notice).not.toContain(GIVE_UP_TEXT);
  });

  it('clears a failed restart notice', { timeout: NOTICE_TIMEOUT_MS + 90_000 }, async () => {
    // Bob is a far end that never restarts ICE itself, as a media server. His app's
    // watch gets no state events, while sip.js's own handlers still run.
    await b.page.evaluate(() => {
      const original = RTCPeerConnection.prototype.addEventListener;
      RTCPeerConnection.prototype.addEventListener = function (this: RTCPeerConnection, type: string, ...rest: unknown[]) {
        if (type === 'iceconnectionstatechange' || type === 'connectionstatechange') return;
        return (original as (...args: unknown[]) => void).call(this, type, ...rest);
      } as typeof original;
    });

    await connectCall();
    await shortenRestartWaits(a.page);

    const frozen = freezeNetwork(b.chromiumProfileDir, NOTICE_TIMEOUT_MS + 10_000);
    try {
      await expect.poll(() => noticeText(a.page), { timeout: NOTICE_TIMEOUT_MS, interval: 200 }).toContain('Reconnecting the audio failed');
    } finally {
      frozen.resume();
    }

    await expect.poll(() => readConnectionStates(a.page), { timeout: 60_000, interval: 200 }).toEqual(['connected']);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS, 20_000);
    await waitForAudioPackets(b.page, MIN_AUDIO_PACKETS, 20_000);

    const notice = await noticeText(a.page);
    await hangUp();

    expect(notice).not.toContain('Reconnecting the audio failed');
    expect(notice).not.toContain(GIVE_UP_TEXT);
  });
});
