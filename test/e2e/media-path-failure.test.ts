import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nodeNow, recordSipFrames, type SipFrameRecorder } from '../bench/call-timing';
import { iceUfragOf, readDescriptions } from '../bench/call-probe';
import { freezeNetwork } from '../bench/network-freeze';
import { readConnectionStates, waitForAudioPackets } from '../bench/peer-connection-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, dial, signInAndRegister, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';

/** Audio packets that prove audio flows: about half a second of Opus. */
const MIN_AUDIO_PACKETS = 25;
/**
 * Wait for the caller's ICE restart while the callee's network is frozen. On
 * the bench, Chromium reported ICE `disconnected` about 8 s after the freeze,
 * and the app restarts ICE 5 s later.
 */
const RESTART_TIMEOUT_MS = 45_000;

describe('a media path that fails during a call', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;
  let aliceFrames: SipFrameRecorder;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    [a, b] = await Promise.all([
      startSoftphoneInstance({ name: 'alice', rendererUrl: bench.renderer.url }),
      startSoftphoneInstance({ name: 'bob', rendererUrl: bench.renderer.url }),
    ]);
    // recordSipFrames captures only WebSockets opened after it starts.
    aliceFrames = recordSipFrames(a.page);
    await signInAndRegister(bench.platform.url, [
      { page: a.page, line: alice },
      { page: b.page, line: bob },
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
  });

  it('restarts ICE and gets the audio back', { timeout: RESTART_TIMEOUT_MS + 60_000 }, async () => {
    await dial(a.page, `+${bob.username}`);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    await waitForAudioPackets(a.page, MIN_AUDIO_PACKETS);

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

    await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
  });
});
