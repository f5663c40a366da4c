import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  nodeNow,
  recordSipFrames,
  startUnansweredStunServer,
  type SipFrameRecorder,
  type UnansweredStunServer,
} from '../bench/call-timing';
import { iceUfragOf, readDescriptions, readReceivedAudioEnergy, readSentDtmf, watchSentDtmf } from '../bench/call-probe';
import { readAudioPackets, waitForAudioPackets } from '../bench/peer-connection-probe';
import { startRegisteredPhones } from '../bench/registered-phones';
import { benchLine, platformUserFor, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import type { SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, dial, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';
import { IpcEvent } from '../../src/shared/ipc';

/** Opus at 20 ms frames sends about 50 packets per second; 25 more proves audio flows. */
const MIN_AUDIO_PACKETS = 25;
/** How long a direction that should be silent is watched. */
const QUIET_WINDOW_MS = 1500;
/** Packets already on their way when a hold takes effect. */
const IN_FLIGHT_PACKETS = 3;

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

describe('in-call controls between two softphones', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;
  let aliceFrames: SipFrameRecorder;
  let deadStun: UnansweredStunServer;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    // Alice's STUN server never answers, as when a firewall drops STUN: her
    // browser never finishes ICE gathering, and her calls must not wait for it.
    deadStun = await startUnansweredStunServer();
    const aliceUser = platformUserFor(alice, bench.kamailio);
    bench.platform.setUser(alice.ownerId, {
      sipInfo: aliceUser.sipInfo.map((entry) => ({ ...entry, stunServers: [deadStun.hostPort] })),
    });

    // recordSipFrames captures only WebSockets opened after it starts.
    [a, b] = await startRegisteredPhones(bench, [alice, bob], ([alicePhone]) => {
      aliceFrames = recordSipFrames(alicePhone!.page);
    });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deadStun?.close();
    await bench?.stop();
  });

  /** Alice calls Bob and Bob answers; resolves once audio flows both ways. */
  async function connect(): Promise<void> {
    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    for (const page of [a.page, b.page]) {
      await expect.poll(async () => (await readAudioPackets(page)).packetsReceived, { timeout: 10_000 }).toBeGreaterThan(MIN_AUDIO_PACKETS);
    }
  }

  async function hangUp(): Promise<void> {
    await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
  }

  /** Waits until the page has received at least `count` more audio packets. */
  function expectPacketsFlowing(page: typeof a.page, count = MIN_AUDIO_PACKETS): Promise<void> {
    return waitForAudioPackets(page, count);
  }

  it('sends the INVITE without waiting for an unanswered STUN server', async () => {
    const since = nodeNow();
    await connect();

    const invite = aliceFrames.frames.find((frame) => frame.direction === 'sent' && frame.at >= since && frame.payload.startsWith('INVITE '));
    expect(invite).toBeDefined();
    // Chromium reports UDP host candidates at once and TCP ones about 120 ms
    // later, before it can finish gathering. So an offer with the first and
    // without the second did not wait for gathering to complete.
    expect(invite!.payload).toMatch(/^a=candidate:\S+ 1 udp \d+ \S+ \d+ typ host/im);
    expect(invite!.payload).not.toMatch(/^a=candidate:\S+ 1 tcp /im);
    expect(deadStun.requests()).toBeGreaterThan(0);
    const [aliceSdp] = await readDescriptions(a.page);
    expect(aliceSdp!.local).not.toMatch(/typ srflx/);

    await hangUp();
  });

  it('declines an inbound call with 603', async () => {
    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await expect(callCard(b.page).getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);

    await callCard(b.page).getByRole('button', { name: 'Decline' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    const callerLine = await a.page.getByLabel('Last call').textContent();
    expect(callerLine).toContain('The person you called declined the call.');
    expect(callerLine).toContain('(SIP 603)');
    expect(callerLine).not.toContain('603 Decline');
    await expect(b.page.getByLabel('Last call').textContent()).resolves.toContain('declined');
  });

  it('holds and resumes: the held direction stops and resumes', async () => {
    await connect();

    await callCard(a.page).getByRole('button', { name: 'Hold' }).click();
    await waitForCallStatus(a.page, 'held');
    await expect.poll(() => callCard(b.page).getByLabel('Call status').textContent()).toContain('On hold by the other party');

    const heldStart = await readAudioPackets(a.page);
    const otherStart = await readAudioPackets(b.page);
    await pause(QUIET_WINDOW_MS);
    const heldEnd = await readAudioPackets(a.page);
    const otherEnd = await readAudioPackets(b.page);

    expect(heldEnd.packetsReceived - heldStart.packetsReceived).toBeLessThanOrEqual(IN_FLIGHT_PACKETS);
    expect(otherEnd.packetsReceived - otherStart.packetsReceived).toBeGreaterThan(MIN_AUDIO_PACKETS);
    const [aliceSdp] = await readDescriptions(a.page);
    expect(aliceSdp!.local).toMatch(/^a=sendonly/m);
    expect(aliceSdp!.remote).toMatch(/^a=recvonly/m);

    await callCard(a.page).getByRole('button', { name: 'Resume' }).click();
    await waitForCallStatus(a.page, 'established');
    await expectPacketsFlowing(a.page);
    await expect.poll(async () => (await callCard(b.page).getByLabel('Call status').textContent())?.trim()).toBe('Connected');
  });

  it('mutes the microphone: the other side hears silence', async () => {
    const energyOver = async (milliseconds: number) => {
      const before = await readReceivedAudioEnergy(b.page);
      await pause(milliseconds);
      return (await readReceivedAudioEnergy(b.page)) - before;
    };

    const audible = await energyOver(QUIET_WINDOW_MS);
    expect(audible).toBeGreaterThan(0);

    await callCard(a.page).getByRole('button', { name: 'Mute' }).click();
    await expect(callCard(a.page).getByRole('button', { name: 'Unmute' }).getAttribute('aria-pressed')).resolves.toBe('true');
    // Audio already in Bob's jitter buffer plays out first, so silence comes a little later.
    await expect.poll(() => energyOver(QUIET_WINDOW_MS / 3), { timeout: 10_000 }).toBeLessThan(audible / 1000);
    expect(await energyOver(QUIET_WINDOW_MS)).toBeLessThan(audible / 1000);
    await expectPacketsFlowing(b.page);

    await callCard(a.page).getByRole('button', { name: 'Unmute' }).click();
    await expect.poll(() => energyOver(QUIET_WINDOW_MS / 3), { timeout: 10_000 }).toBeGreaterThan(audible / 10);
  });

  it('sends DTMF from the keypad and the keyboard as RFC 4733 events', async () => {
    const [aliceSdp] = await readDescriptions(a.page);
    expect(aliceSdp!.local).toMatch(/^a=rtpmap:\d+ telephone-event\/8000/m);
    expect(aliceSdp!.remote).toMatch(/^a=rtpmap:\d+ telephone-event\/8000/m);
    await watchSentDtmf(a.page);

    await callCard(a.page).getByRole('button', { name: 'Keypad' }).click();
    await callCard(a.page).getByRole('button', { name: 'Tone 1' }).click();
    await callCard(a.page).getByRole('button', { name: 'Tone 2' }).click();
    await a.page.keyboard.press('#');
    await a.page.keyboard.press('5');

    await expect.poll(() => readSentDtmf(a.page), { timeout: 10_000 }).toBe('12#5');
    await expect(callCard(a.page).getByLabel('Tones sent').textContent()).resolves.toBe('12#5');
  });

  it('restarts ICE with a re-INVITE when the network comes back', async () => {
    const [before] = await readDescriptions(a.page);
    const oldUfrag = iceUfragOf(before!.local);
    const since = nodeNow();
    const sentSince = (method: string) =>
      aliceFrames.frames.filter((frame) => frame.direction === 'sent' && frame.at >= since && frame.payload.startsWith(`${method} `));

    await a.emit(IpcEvent.NetworkOnline);

    // A new WebSocket and REGISTER, then a re-INVITE (To has a tag) with new ICE credentials.
    await expect.poll(() => sentSince('REGISTER').length, { timeout: 10_000 }).toBeGreaterThan(0);
    const reinvites = () => sentSince('INVITE').filter((frame) => /\r\nTo:[^\r\n]*;tag=/i.test(frame.payload));
    await expect.poll(() => reinvites().length, { timeout: 10_000 }).toBeGreaterThan(0);
    const reinvite = reinvites()[0]!;
    const newUfrag = iceUfragOf(reinvite.payload);

    expect(newUfrag).not.toBeNull();
    expect(newUfrag).not.toBe(oldUfrag);
    await expect.poll(async () => iceUfragOf((await readDescriptions(b.page))[0]!.remote)).toBe(newUfrag);

    await expectPacketsFlowing(a.page);
    await expectPacketsFlowing(b.page);
    await expect(a.page.locator('.call-card[data-call-status="established"]').count()).resolves.toBe(1);

    await hangUp();
  });

  it('dials the extension of a number after it connects', async () => {
    const tonesBefore = await readSentDtmf(a.page);
    await dial(a.page, `+${bob.username} ext. 42`);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await waitForCallStatus(a.page, 'established');
    // The tones follow a 2 s pause, so the watch starts in time.
    await watchSentDtmf(a.page);

    const notice = () => callCard(a.page).getByLabel('Call notice').textContent();
    await expect.poll(notice, { timeout: 5_000 }).toBe('Dialing extension 42 in a moment.');
    await expect
      .poll(async () => (await readSentDtmf(a.page)).slice(tonesBefore.length).replaceAll(',', ''), { timeout: 10_000 })
      .toBe('42');
    await expect.poll(notice, { timeout: 5_000 }).toBe('Dialed extension 42.');

    await hangUp();
  });

  it('dials the extension of a call held during the pause once resumed', async () => {
    const tonesBefore = await readSentDtmf(a.page);
    await dial(a.page, `+${bob.username} x43`);
    await waitForCallStatus(b.page, 'ringing');
    await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
    await waitForCallStatus(a.page, 'established');
    await watchSentDtmf(a.page);

    await callCard(a.page).getByRole('button', { name: 'Hold' }).click();
    await waitForCallStatus(a.page, 'held');
    // Longer than the pause: the tones wait for the resume.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await readSentDtmf(a.page)).slice(tonesBefore.length)).toBe('');

    await callCard(a.page).getByRole('button', { name: 'Resume' }).click();
    await waitForCallStatus(a.page, 'established');
    await expect
      .poll(async () => (await readSentDtmf(a.page)).slice(tonesBefore.length).replaceAll(',', ''), { timeout: 10_000 })
      .toBe('43');
    await expect.poll(() => callCard(a.page).getByLabel('Call notice').textContent(), { timeout: 5_000 }).toBe('Dialed extension 43.');

    await hangUp();
  });
});
