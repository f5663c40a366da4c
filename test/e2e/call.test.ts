import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readAudioPackets } from '../bench/peer-connection-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, dial, signInAndRegister, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';

/** Opus at 20 ms frames sends about 50 packets per second; 25 proves audio flows. */
const MIN_AUDIO_PACKETS = 25;

describe('end-to-end call between two softphones', () => {
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
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
  });

  it('signs in, registers, calls with audio both ways and hangs up', async () => {
    await signInAndRegister(bench.platform.url, [
      { page: a.page, line: alice },
      { page: b.page, line: bob },
    ]);
    const registeredAt = Date.now();

    await expect(a.page.getByLabel('Account').textContent()).resolves.toContain('Alice Bench');
    expect(await bench.kamailio.contacts(`sip:${alice.username}@${bench.kamailio.domain}`)).toHaveLength(1);
    expect(await bench.kamailio.contacts(`sip:${bob.username}@${bench.kamailio.domain}`)).toHaveLength(1);

    const callClickedAt = Date.now();
    await dial(a.page, bob.username);

    await waitForCallStatus(b.page, 'ringing');
    await expect(callCard(b.page).getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);
    await b.page.getByRole('button', { name: 'Answer' }).click();

    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    const establishedAt = Date.now();
    await expect(callCard(a.page).getByLabel('Remote party').textContent()).resolves.toContain(bob.nationalNumber);

    await expect
      .poll(async () => (await readAudioPackets(a.page)).packetsReceived, { timeout: 10_000 })
      .toBeGreaterThan(MIN_AUDIO_PACKETS);
    await expect
      .poll(async () => (await readAudioPackets(b.page)).packetsReceived, { timeout: 10_000 })
      .toBeGreaterThan(MIN_AUDIO_PACKETS);
    expect((await readAudioPackets(a.page)).packetsSent).toBeGreaterThan(MIN_AUDIO_PACKETS);
    expect((await readAudioPackets(b.page)).packetsSent).toBeGreaterThan(MIN_AUDIO_PACKETS);

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    expect((await readAudioPackets(a.page)).openPeerConnections).toBe(0);
    expect((await readAudioPackets(b.page)).openPeerConnections).toBe(0);
    await expect(b.page.getByLabel('Last call').textContent()).resolves.toContain('hung up remotely');

    console.log(
      `[bench] renderer load → Registered: ${registeredAt - Math.max(a.loadedAt, b.loadedAt)} ms (includes sign-in and provisioning); ` +
        `Call → Established: ${establishedAt - callClickedAt} ms (includes answering)`,
    );
  });

  it('asks before signing out during a call', async () => {
    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await b.page.getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);

    const confirmation = b.page.getByRole('alertdialog', { name: 'Confirm sign out' });
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await expect(confirmation.textContent()).resolves.toContain('Signing out ends your current call.');
    await confirmation.getByRole('button', { name: 'Stay signed in' }).click();
    expect(await confirmation.count()).toBe(0);
    await waitForCallStatus(b.page, 'established');

    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await confirmation.getByRole('button', { name: 'End call and sign out' }).click();
    await waitForIdle(a.page);
    await expect(a.page.getByLabel('Last call').textContent()).resolves.toContain('hung up remotely');
    await b.page.getByRole('button', { name: 'Sign in with browser' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => bench.kamailio.contacts(`sip:${bob.username}@${bench.kamailio.domain}`)).toEqual([]);
  });

  it('unregisters on quit so the registrar keeps no stale contact', async () => {
    const aor = `sip:${alice.username}@${bench.kamailio.domain}`;
    expect(await bench.kamailio.contacts(aor)).toHaveLength(1);

    expect(await a.quit()).toBe(true);

    expect(await bench.kamailio.contacts(aor)).toEqual([]);
  });
});
