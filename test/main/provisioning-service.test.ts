import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/main/logger';
import { createSoftphoneService, type SoftphoneService } from '../../src/main/softphone-service';
import type { AppState } from '../../src/shared/app-state';
import { platformError, type PlatformServer } from '../bench/platform-server';
import {
  ALICE,
  CLIENT_ID,
  createMemoryCredentialStore,
  createTempDir,
  PROVISION_PATH,
  removeDir,
  startTestPlatform,
  WSS_ENTRY,
} from './helpers';
import { createVirtualTimers } from './virtual-timers';

const SECOND = 1000;

let server: PlatformServer;
let settingsDir: string;
let clock: ReturnType<typeof createVirtualTimers>;
let credentialStore: ReturnType<typeof createMemoryCredentialStore>;

beforeEach(async () => {
  clock = createVirtualTimers();
  server = await startTestPlatform({ now: clock.now, users: [{ ...structuredClone(ALICE), pollingInterval: 600 }] });
  settingsDir = await createTempDir('provisioning-service');
  credentialStore = createMemoryCredentialStore();
});

afterEach(async () => {
  await server.close();
  await removeDir(settingsDir);
});

function createService(): { service: SoftphoneService; states: AppState[] } {
  const service = createSoftphoneService({
    fetch,
    credentialStore,
    settingsDir,
    appName: 'RCSoftphone',
    appVersion: '0.1.0',
    now: clock.now,
    logger: silentLogger,
    timers: clock.timers,
    random: () => 1,
  });
  const states: AppState[] = [];
  service.subscribe((state) => states.push(state));
  return { service, states };
}

async function signIn(service: SoftphoneService): Promise<AppState> {
  await service.saveSettings({ server: 'custom', customServerUrl: server.url, clientId: CLIENT_ID });
  return service.signInWithJwt(ALICE.jwtCredential);
}

/** Lets real network round trips finish between virtual timer firings. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function run(ms: number): Promise<void> {
  return clock.runUntil(clock.now() + ms, settle);
}

describe('provisioning schedule in the service', () => {
  it('shows the wait of a 429 and provisions when it is over', async () => {
    const { service } = createService();
    server.inject({
      path: PROVISION_PATH,
      ...platformError(429, 'CMN-301', 'Request rate exceeded'),
      headers: { 'Retry-After': '30', 'X-Rate-Limit-Group': 'Heavy' },
    });

    const state = await signIn(service);

    expect(state.provisioning).toMatchObject({ status: 'failed', error: { code: 'CMN-301' }, retryAt: clock.now() + 30 * SECOND });
    if (state.provisioning.status === 'failed') {
      expect(state.provisioning.error.message).toContain('too many requests');
      expect(state.provisioning.error.message).toContain('Heavy');
      expect(state.provisioning.error.action).toContain('30 seconds');
    }

    await run(29 * SECOND);
    expect(server.count(PROVISION_PATH)).toBe(1);
    await run(2 * SECOND);
    expect(server.count(PROVISION_PATH)).toBe(2);
    expect((await service.getState()).provisioning.status).toBe('ready');
  });

  it('keeps the line in use while a refresh fails', async () => {
    const { service } = createService();
    await signIn(service);
    server.inject({ path: PROVISION_PATH, ...platformError(503, 'CMN-211', 'Service Temporarily Unavailable') });

    const state = await service.provision();

    expect(state.provisioning).toMatchObject({
      status: 'failed',
      error: { code: 'CMN-211' },
      retryAt: clock.now() + 5 * SECOND,
      line: { profile: { password: WSS_ENTRY.password } },
    });
    await run(5 * SECOND);
    expect((await service.getState()).provisioning.status).toBe('ready');
  });

  it('reports the cached line while the start-up refresh runs', async () => {
    const first = createService();
    await signIn(first.service);
    server.inject({ path: PROVISION_PATH, kind: 'delay', ms: 300 });

    const restarted = createService();
    const early = await restarted.service.getState();

    expect(early.provisioning.status === 'ready' || early.provisioning.status === 'provisioning').toBe(true);
    let profile = null;
    if (early.provisioning.status === 'ready') profile = early.provisioning.profile;
    if (early.provisioning.status === 'provisioning') profile = early.provisioning.line?.profile ?? null;
    expect(profile?.password).toBe(WSS_ENTRY.password);
    await expect.poll(() => server.count(PROVISION_PATH), { timeout: 5_000 }).toBe(2);
    await expect.poll(async () => (await restarted.service.getState()).provisioning.status, { timeout: 5_000 }).toBe('ready');
    expect(restarted.states.every((state) => state.provisioning.status !== 'provisioning' || state.provisioning.line !== null)).toBe(true);
  });

  it('provisions again on request of the SIP engine', async () => {
    const { service } = createService();
    await signIn(service);

    service.requestProvisioning('check-sync');
    await run(0);
    expect(server.count(PROVISION_PATH)).toBe(2);

    service.requestProvisioning('sip-auth-failure');
    await run(0);
    expect(server.count(PROVISION_PATH)).toBe(3);
  });

  it('provisions again after pollingInterval', async () => {
    const { service } = createService();
    await signIn(service);

    await run(599 * SECOND);
    expect(server.count(PROVISION_PATH)).toBe(1);
    await run(SECOND);
    expect(server.count(PROVISION_PATH)).toBe(2);
  });

  it('stops the schedule on sign-out', async () => {
    const { service } = createService();
    await signIn(service);

    await service.signOut();
    await run(3600 * SECOND);

    expect(server.count(PROVISION_PATH)).toBe(1);
  });

  it('runs a waiting retry when the network returns', async () => {
    const { service } = createService();
    await signIn(service);
    server.inject({ path: PROVISION_PATH, kind: 'drop', times: 2 });
    service.notifyNetworkChange(false);

    const state = await service.provision();
    expect(state.provisioning).toMatchObject({ status: 'failed', error: { code: 'NETWORK_ERROR' } });
    await run(600 * SECOND);
    expect(server.count(PROVISION_PATH)).toBe(2);

    service.notifyNetworkChange(true);
    await run(0);
    expect(server.count(PROVISION_PATH)).toBe(3);
  });
});
