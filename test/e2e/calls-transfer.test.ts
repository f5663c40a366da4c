import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { nodeNow, recordSipFrames, type SipFrameRecorder } from '../bench/call-timing';
import { readAudioPackets } from '../bench/peer-connection-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { dial, signInWithJwt, waitForCallStatus, waitForIdle, waitForRegistered } from '../bench/softphone-ui';

/** Opus at 20 ms frames sends about 50 packets per second; 25 more proves audio flows. */
const MIN_AUDIO_PACKETS = 25;

/**
 * Transfers and call waiting between three softphones on the bench registrar:
 * Alice, Bob and Carol, each a full app instance in its own Chromium.
 */
describe('transfers and call waiting between three softphones', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  const carol = benchLine(3, 'Carol Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;
  let c: SoftphoneInstance;
  let bobFrames: SipFrameRecorder;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob, carol]);
    [a, b, c] = await Promise.all([
      startSoftphoneInstance({ name: 'alice', rendererUrl: bench.renderer.url }),
      startSoftphoneInstance({ name: 'bob', rendererUrl: bench.renderer.url }),
      startSoftphoneInstance({ name: 'carol', rendererUrl: bench.renderer.url }),
    ]);
    bobFrames = recordSipFrames(b.page);
    await Promise.all([
      signInWithJwt(a.page, bench.platform.url, alice.jwtCredential),
      signInWithJwt(b.page, bench.platform.url, bob.jwtCredential),
      signInWithJwt(c.page, bench.platform.url, carol.jwtCredential),
    ]);
    await Promise.all([waitForRegistered(a.page), waitForRegistered(b.page), waitForRegistered(c.page)]);
  });

  afterEach(async () => {
    // A failed test may leave calls up; the next test starts from idle phones.
    for (const page of [a.page, b.page, c.page]) {
      for (const button of await page.getByRole('button', { name: 'Hang up' }).all()) await button.click().catch(() => undefined);
      for (const button of await page.getByRole('button', { name: 'Decline' }).all()) await button.click().catch(() => undefined);
    }
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page), waitForIdle(c.page)]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), c?.close()]);
    await bench?.stop();
  });

  function card(page: Page, status: string) {
    return page.locator(`.call-card[data-call-status="${status}"]`);
  }

  /** `from` calls `to`, who answers; resolves when both cards show established. */
  async function connect(from: Page, to: Page, toNumber: string): Promise<void> {
    await dial(from, toNumber);
    await waitForCallStatus(to, 'ringing');
    await card(to, 'ringing').getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(from, 'established'), waitForCallStatus(to, 'established')]);
  }

  async function expectAudioBetween(first: Page, second: Page): Promise<void> {
    for (const page of [first, second]) {
      const before = (await readAudioPackets(page)).packetsReceived;
      await expect
        .poll(async () => (await readAudioPackets(page)).packetsReceived - before, { timeout: 10_000 })
        .toBeGreaterThan(MIN_AUDIO_PACKETS);
    }
  }

  async function openTransfer(page: Page, target: string): Promise<void> {
    await card(page, 'established').getByRole('button', { name: 'Transfer' }).click();
    await page.getByLabel('Transfer to').fill(target);
  }

  it('blind-transfers Alice from Bob to Carol with REFER', async () => {
    await connect(a.page, b.page, bob.username);
    const since = nodeNow();

    await openTransfer(b.page, carol.username);
    await b.page.getByRole('button', { name: 'Transfer now' }).click();

    await waitForCallStatus(c.page, 'ringing');
    await expect(card(c.page, 'ringing').getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);
    await expect(card(b.page, 'transferring').count()).resolves.toBe(1);
    await card(c.page, 'ringing').getByRole('button', { name: 'Answer' }).click();

    await waitForIdle(b.page);
    await expect(b.page.getByLabel('Last call').textContent()).resolves.toContain('transferred');
    await expect.poll(() => a.page.locator('.call-card').count()).toBe(1);
    await waitForCallStatus(a.page, 'established');
    await expectAudioBetween(a.page, c.page);

    const refer = bobFrames.frames.find((frame) => frame.direction === 'sent' && frame.at >= since && frame.payload.startsWith('REFER '));
    expect(refer?.payload).toMatch(new RegExp(`\\r\\nRefer-To: <?sip:\\+?${carol.username}@`, 'i'));
    const notifies = bobFrames.frames.filter((frame) => frame.direction === 'received' && frame.at >= since && frame.payload.startsWith('NOTIFY '));
    expect(notifies.map((frame) => /\r\n\r\n(SIP\/2\.0 \d{3})/.exec(frame.payload)?.[1])).toEqual(['SIP/2.0 100', 'SIP/2.0 200']);
    // RFC 5589 §6: the transferor ends its call once the NOTIFY reports success.
    const byes = bobFrames.frames.filter((frame) => frame.at >= since && frame.payload.startsWith('BYE '));
    expect(byes.map((frame) => frame.direction)).toEqual(['sent']);
  });

  it('keeps the call and says why when the transfer target declines', async () => {
    await connect(a.page, b.page, bob.username);

    await openTransfer(b.page, carol.username);
    await b.page.getByRole('button', { name: 'Transfer now' }).click();
    await waitForCallStatus(c.page, 'ringing');
    await card(c.page, 'ringing').getByRole('button', { name: 'Decline' }).click();

    await waitForCallStatus(b.page, 'established');
    await expect
      .poll(() => card(b.page, 'established').getByLabel('Call notice').textContent())
      .toMatch(/^Transfer to .+ failed: the target answered 603 Decline\.$/);
    await expect(a.page.locator('.call-card').count()).resolves.toBe(1);
    await expect(card(a.page, 'established').getByLabel('Call notice').textContent()).resolves.toContain('603 Decline');
    await expectAudioBetween(a.page, b.page);

    // A REFER cannot carry an extension: the transfer is refused before it is sent.
    await openTransfer(b.page, `+${carol.username} x42`);
    await b.page.getByRole('button', { name: 'Transfer now' }).click();
    await expect
      .poll(() => b.page.getByRole('alert').filter({ hasText: 'transfer' }).textContent())
      .toMatch(/^A transfer cannot dial extension 42: transfer to .+ without it/);
    await expect(card(b.page, 'established').count()).resolves.toBe(1);
  });

  it('warm-transfers after a consultation call, with Replaces', async () => {
    await connect(a.page, b.page, bob.username);

    await openTransfer(b.page, carol.username);
    await b.page.getByRole('button', { name: 'Consult first' }).click();
    await waitForCallStatus(b.page, 'held');
    await waitForCallStatus(c.page, 'ringing');
    await expect(card(c.page, 'ringing').getByLabel('Remote party').textContent()).resolves.toContain(bob.nationalNumber);
    await card(c.page, 'ringing').getByRole('button', { name: 'Answer' }).click();
    await waitForCallStatus(b.page, 'established');
    await expect.poll(() => a.page.locator('.call-card').first().getByLabel('Call status').textContent()).toContain('On hold by the other party');
    await expectAudioBetween(b.page, c.page);

    const since = nodeNow();
    await card(b.page, 'established').getByRole('button', { name: 'Complete transfer' }).click();

    await waitForIdle(b.page);
    await expect.poll(() => c.page.locator('.call-card').count()).toBe(1);
    await expect(card(c.page, 'established').getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);
    await expect.poll(() => a.page.locator('.call-card').count()).toBe(1);
    await waitForCallStatus(a.page, 'established');
    await expectAudioBetween(a.page, c.page);

    const refer = bobFrames.frames.find((frame) => frame.direction === 'sent' && frame.at >= since && frame.payload.startsWith('REFER '));
    expect(refer?.payload).toMatch(/\r\nRefer-To: [^\r\n]*\?Replaces=[^\r\n]*to-tag%3D[^\r\n]*from-tag%3D/i);
  });

  it('answers a waiting call by holding the first, then swaps back', async () => {
    await connect(a.page, b.page, bob.username);

    await dial(c.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await expect(b.page.locator('.call-card').count()).resolves.toBe(2);
    await card(b.page, 'ringing').getByRole('button', { name: 'Answer' }).click();

    await waitForCallStatus(b.page, 'held');
    await waitForCallStatus(b.page, 'established');
    await expect(card(b.page, 'held').getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);
    await expect(card(b.page, 'established').getByLabel('Remote party').textContent()).resolves.toContain(carol.nationalNumber);
    await expectAudioBetween(b.page, c.page);

    await card(b.page, 'held').getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => card(b.page, 'held').getByLabel('Remote party').textContent()).toContain(carol.nationalNumber);
    await expect(card(b.page, 'established').getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);
    await expectAudioBetween(a.page, b.page);
  });
});
