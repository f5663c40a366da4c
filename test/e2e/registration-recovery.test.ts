import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { IpcEvent } from '../../src/shared/ipc';
import { startKamailio, type KamailioServer } from '../bench/kamailio';
import { aorOf, BENCH_DOMAIN, benchLine, platformUserFor, startSoftphoneBench, type BenchLine, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { dial, registrationStatus, signInWithJwt, waitForCallStatus, waitForIdle, waitForRegistered } from '../bench/softphone-ui';
import { installWebSocketProbe, readWebSocketAttempts } from '../bench/websocket-probe';

const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
/** The required bound from the server's return to Registered again. */
const REREGISTER_BOUND_MS = 2_000;
/** Seconds on the backup proxy before switching back, short for the test. */
const SWITCH_BACK_INTERVAL_S = 2;

const lines = {
  restart: benchLine(11, 'Restart Bench'),
  failover: benchLine(12, 'Failover Bench'),
  rejectFailover: benchLine(13, 'Reject Bench'),
  stale: benchLine(14, 'Stale Bench'),
  wrongPassword: benchLine(15, 'Password Bench'),
  notify: benchLine(16, 'Notify Bench'),
  resume: benchLine(17, 'Resume Bench'),
  signOut: benchLine(18, 'Sign-out Bench'),
  callerOnBackup: benchLine(19, 'Caller Bench'),
  calleeOnBackup: benchLine(20, 'Callee Bench'),
};

function registeredOn(phone: SoftphoneInstance, proxy: 'primary' | 'backup') {
  return phone.page.locator(`.registration[data-status="registered"][data-proxy="${proxy}"]`);
}

describe('registration recovery on the bench', () => {
  let bench: SoftphoneBench;
  let backup: KamailioServer | null = null;
  let phone: SoftphoneInstance | null = null;
  let secondPhone: SoftphoneInstance | null = null;

  beforeAll(async () => {
    bench = await startSoftphoneBench(Object.values(lines));
  });

  afterEach(async () => {
    await phone?.close();
    phone = null;
    await secondPhone?.close();
    secondPhone = null;
    await backup?.stop();
    backup = null;
    await bench.kamailio.start().catch(() => undefined);
    await bench.kamailio.setRegisterFault(null);
  });

  afterAll(async () => {
    await bench?.stop();
  });

  async function startPhone(line: BenchLine): Promise<SoftphoneInstance> {
    const started = await startSoftphoneInstance({
      name: line.name.split(' ')[0]!.toLowerCase(),
      rendererUrl: bench.renderer.url,
      initScripts: [installWebSocketProbe],
    });
    if (phone === null) phone = started;
    else secondPhone = started;
    await signInWithJwt(started.page, bench.platform.url, line.jwtCredential);
    return started;
  }

  /** Points the lines' profiles at a second Kamailio as outboundProxyBackup. */
  async function withBackup(...backupLines: BenchLine[]): Promise<KamailioServer> {
    backup = await startKamailio({
      domain: BENCH_DOMAIN,
      users: Object.values(lines).map(({ authorizationId, password, username }) => ({ authorizationId, password, username })),
    });
    for (const line of backupLines) {
      const entry = platformUserFor(line, bench.kamailio).sipInfo[0]!;
      bench.platform.setUser(line.ownerId, {
        sipInfo: [{ ...entry, outboundProxyBackup: backup.wssHostPort, switchBackInterval: SWITCH_BACK_INTERVAL_S }],
      });
    }
    return backup;
  }

  it('registers within 2 s of Kamailio returning', async () => {
    const line = lines.restart;
    const softphone = await startPhone(line);
    await waitForRegistered(softphone.page);

    await bench.kamailio.kill();
    await softphone.page.locator('.registration[data-status="failed"]').waitFor({ timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await bench.kamailio.start();
    const returnedAt = Date.now();

    await waitForRegistered(softphone.page, REREGISTER_BOUND_MS);
    console.log(`[bench] Kamailio back → Registered: ${Date.now() - returnedAt} ms`);
    expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);
  });

  it('recovers a REGISTER pending at a kill', async () => {
    const line = lines.restart;
    const softphone = await startPhone(line);
    await waitForRegistered(softphone.page);

    await bench.kamailio.setRegisterFault({ drop: true });
    const registersBefore = bench.kamailio.registerCount();
    await softphone.emit(IpcEvent.PowerResumed);
    await expect.poll(() => bench.kamailio.registerCount(), { timeout: 5_000 }).toBeGreaterThan(registersBefore);
    await bench.kamailio.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await bench.kamailio.start();
    const returnedAt = Date.now();

    await waitForRegistered(softphone.page, REREGISTER_BOUND_MS);
    console.log(`[bench] Kamailio back (REGISTER pending at the kill) → Registered: ${Date.now() - returnedAt} ms`);
    expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);
  });

  it('fails over to the backup and back', async () => {
    const line = lines.failover;
    const backupServer = await withBackup(line);
    const softphone = await startPhone(line);
    await registeredOn(softphone, 'primary').waitFor({ timeout: 10_000 });

    await bench.kamailio.stop();
    await registeredOn(softphone, 'backup').waitFor({ timeout: 5_000 });
    expect(await backupServer.contacts(aorOf(line))).toHaveLength(1);
    await expect(registrationStatus(softphone.page).getByLabel('Switch back').textContent()).resolves.toMatch(/primary proxy in \d+ s/);

    await bench.kamailio.start();
    const primaryBackAt = Date.now();
    await registeredOn(softphone, 'primary').waitFor({ timeout: 10_000 });
    const switchedAfterMs = Date.now() - primaryBackAt;

    expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);
    // The backup registration was removed on the way back.
    expect(await backupServer.contacts(aorOf(line))).toEqual([]);
    const attempts = await readWebSocketAttempts(softphone.page);
    expect(attempts.filter((attempt) => attempt.url.includes(backupServer.wssHostPort)).length).toBeGreaterThanOrEqual(1);
    console.log(`[bench] primary back → switched back: ${switchedAfterMs} ms (interval ${SWITCH_BACK_INTERVAL_S} s + jitter)`);
  });

  it('does not switch back during a call', async () => {
    const backupServer = await withBackup(lines.callerOnBackup, lines.calleeOnBackup);
    const caller = await startPhone(lines.callerOnBackup);
    const callee = await startPhone(lines.calleeOnBackup);
    await Promise.all([registeredOn(caller, 'primary').waitFor({ timeout: 10_000 }), registeredOn(callee, 'primary').waitFor({ timeout: 10_000 })]);

    await bench.kamailio.stop();
    await Promise.all([registeredOn(caller, 'backup').waitFor({ timeout: 5_000 }), registeredOn(callee, 'backup').waitFor({ timeout: 5_000 })]);
    await dial(caller.page, lines.calleeOnBackup.username);
    await waitForCallStatus(callee.page, 'ringing');
    await callee.page.getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(caller.page, 'established'), waitForCallStatus(callee.page, 'established')]);
    await bench.kamailio.start();

    // Twice the switch-back interval and its largest jitter pass during the call.
    await new Promise((resolve) => setTimeout(resolve, 2 * SWITCH_BACK_INTERVAL_S * 1.2 * 1000));
    expect(await registeredOn(caller, 'backup').count()).toBe(1);
    expect(await registeredOn(callee, 'backup').count()).toBe(1);
    await waitForCallStatus(caller.page, 'established', 1_000);
    expect(await backupServer.contacts(aorOf(lines.calleeOnBackup))).toHaveLength(1);

    await caller.page.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(caller.page), waitForIdle(callee.page)]);
    await Promise.all([registeredOn(caller, 'primary').waitFor({ timeout: 5_000 }), registeredOn(callee, 'primary').waitFor({ timeout: 5_000 })]);
    expect(await bench.kamailio.contacts(aorOf(lines.calleeOnBackup))).toHaveLength(1);
  });

  it('fails over on a REGISTER 503', async () => {
    const line = lines.rejectFailover;
    const backupServer = await withBackup(line);
    const softphone = await startPhone(line);
    await registeredOn(softphone, 'primary').waitFor({ timeout: 10_000 });

    await bench.kamailio.setRegisterFault({ reply: 503 });
    await softphone.emit(IpcEvent.NetworkOnline);

    await registeredOn(softphone, 'backup').waitFor({ timeout: 5_000 });
    expect(await backupServer.contacts(aorOf(line))).toHaveLength(1);

    await bench.kamailio.setRegisterFault(null);
    await registeredOn(softphone, 'primary').waitFor({ timeout: 10_000 });
    expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);
  });

  it('retries once on a stale nonce', async () => {
    const line = lines.stale;
    await bench.kamailio.staleNonceOnce();
    const registersBefore = bench.kamailio.registerCount();
    const softphone = await startPhone(line);

    await waitForRegistered(softphone.page);

    // Without credentials, with the first nonce, then with the stale-marked new one.
    expect(bench.kamailio.registerCount() - registersBefore).toBe(3);
    expect(bench.kamailio.log()).toContain('challenging REGISTER');
  });

  it('stops after a wrong SIP password', async () => {
    const line = lines.wrongPassword;
    const entry = platformUserFor(line, bench.kamailio).sipInfo[0]!;
    bench.platform.setUser(line.ownerId, { sipInfo: [{ ...entry, password: 'not-the-password' }] });
    const registersBefore = bench.kamailio.registerCount();
    const provisionsBefore = bench.platform.count(PROVISION_PATH);
    const softphone = await startPhone(line);

    const status = registrationStatus(softphone.page);
    await softphone.page.locator('.registration[data-status="failed"]').waitFor({ timeout: 10_000 });
    // The sign-in's request, then one more after the registrar rejected the password.
    await expect.poll(() => bench.platform.count(PROVISION_PATH) - provisionsBefore, { timeout: 5_000 }).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    expect(bench.platform.count(PROVISION_PATH) - provisionsBefore).toBe(2);
    // One REGISTER and its digest retry; the platform returned the same
    // password again, so nothing more was sent.
    expect(bench.kamailio.registerCount() - registersBefore).toBe(2);
    await expect(status.textContent()).resolves.toContain('SIP-401');
    await expect(status.textContent()).resolves.toContain('Sign out and sign in again');
    await expect(status.getByLabel('Next attempt').textContent()).resolves.toContain('No automatic attempt');
  });

  it('provisions again on check-sync NOTIFY', async () => {
    const line = lines.notify;
    const softphone = await startPhone(line);
    await waitForRegistered(softphone.page);
    const before = bench.platform.count(PROVISION_PATH);

    const statuses = await bench.kamailio.sendNotify(aorOf(line), 'check-sync');

    expect(statuses).toEqual([200]);
    await expect.poll(() => bench.platform.count(PROVISION_PATH), { timeout: 5_000 }).toBe(before + 1);
    expect(await bench.kamailio.sendNotify(aorOf(line), 'presence')).toEqual([489]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bench.platform.count(PROVISION_PATH)).toBe(before + 1);
  });

  it('reconnects on resume and network return', async () => {
    const line = lines.resume;
    const softphone = await startPhone(line);
    await waitForRegistered(softphone.page);

    for (const event of [IpcEvent.PowerResumed, IpcEvent.NetworkOnline]) {
      const attemptsBefore = (await readWebSocketAttempts(softphone.page)).length;
      const registersBefore = bench.kamailio.registerCount();

      await softphone.emit(event);

      await expect.poll(async () => (await readWebSocketAttempts(softphone.page)).length, { timeout: 5_000 }).toBe(attemptsBefore + 1);
      await expect.poll(() => bench.kamailio.registerCount(), { timeout: 5_000 }).toBeGreaterThan(registersBefore);
      await waitForRegistered(softphone.page);
      expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);
    }
  });

  it('waits for the network while offline', async () => {
    const line = lines.resume;
    const softphone = await startPhone(line);
    await waitForRegistered(softphone.page);

    await softphone.emit(IpcEvent.NetworkOffline);
    await bench.kamailio.kill();
    const status = registrationStatus(softphone.page);
    await expect.poll(async () => status.textContent(), { timeout: 5_000 }).toContain('Waiting for the network');
    const attemptsWhileOffline = (await readWebSocketAttempts(softphone.page)).length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await readWebSocketAttempts(softphone.page)).length).toBe(attemptsWhileOffline);

    await bench.kamailio.start();
    await softphone.emit(IpcEvent.NetworkOnline);
    await waitForRegistered(softphone.page, REREGISTER_BOUND_MS);
  });

  it('unregisters on sign-out', async () => {
    const line = lines.signOut;
    const softphone = await startPhone(line);
    await waitForRegistered(softphone.page);
    expect(await bench.kamailio.contacts(aorOf(line))).toHaveLength(1);

    await softphone.page.getByRole('button', { name: 'Sign out' }).click();

    await expect.poll(() => bench.kamailio.contacts(aorOf(line)), { timeout: 5_000 }).toEqual([]);
  });
});
