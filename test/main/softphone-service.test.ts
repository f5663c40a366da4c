// Runs against the real OS keychain through keytar. Start it inside a private
// Secret Service: `dbus-run-session -- bash test/with-secret-service.sh
// node_modules/.bin/vitest run test/main`.
import { randomUUID } from 'node:crypto';

import keytar from 'keytar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AppState } from '../../src/shared/app-state';
import { CredentialAccount, createKeytarCredentialStore } from '../../src/main/credential-store';
import { silentLogger } from '../../src/main/logger';
import { createSoftphoneService, type SoftphoneService } from '../../src/main/softphone-service';
import { clearKeychain, keychainAccounts as listKeychainAccounts } from '../bench/keychain-entries';
import type { PlatformServer } from '../bench/platform-server';
import {
  ALICE,
  CLIENT_ID,
  createClock,
  createTempDir,
  EXTENSION_PATH,
  PROVISION_PATH,
  readAllFiles,
  removeDir,
  REVOKE_PATH,
  startTestPlatform,
  TOKEN_PATH,
  WSS_ENTRY,
} from './helpers';

let server: PlatformServer;
let settingsDir: string;
let keychainService: string;
let clock: ReturnType<typeof createClock>;

beforeEach(async () => {
  clock = createClock();
  server = await startTestPlatform({ now: clock.now });
  settingsDir = await createTempDir('service');
  keychainService = `rc-softphone-main-test-${randomUUID()}`;
});

afterEach(async () => {
  await clearKeychain(keychainService);
  await server.close();
  await removeDir(settingsDir);
});

function createService(options: { provisionOnStart?: boolean } = {}): SoftphoneService {
  return createSoftphoneService({
    fetch,
    credentialStore: createKeytarCredentialStore(keytar, keychainService),
    settingsDir,
    appName: 'RCSoftphone',
    appVersion: '0.1.0',
    now: clock.now,
    logger: silentLogger,
    provisionOnStart: options.provisionOnStart,
  });
}

async function signIn(service: SoftphoneService, jwt = ALICE.jwtCredential): Promise<AppState> {
  await service.saveSettings({ server: 'custom', customServerUrl: server.url, clientId: CLIENT_ID });
  return service.signInWithJwt(jwt);
}

async function keychainAccounts(): Promise<string[]> {
  return listKeychainAccounts(keychainService);
}

/** Returns every secret the platform or the test handed out; none may reach the settings folder. */
function allSecrets(): string[] {
  return [
    ...server.tokens.issuedAccess(),
    ...server.tokens.issuedRefresh(),
    WSS_ENTRY.password,
    ALICE.jwtCredential,
  ];
}

describe('softphone service with the OS keychain', () => {
  it('signs in, loads the user and provisions the line', async () => {
    const service = createService();
    await service.saveSettings({ server: 'custom', customServerUrl: server.url, clientId: CLIENT_ID });
    const states: AppState[] = [];
    service.subscribe((state) => states.push(state));

    const state = await service.signInWithJwt(ALICE.jwtCredential);

    expect(state.session).toEqual({
      status: 'signed-in',
      user: { name: ALICE.name, extensionNumber: ALICE.extensionNumber },
    });
    expect(state.provisioning.status).toBe('ready');
    if (state.provisioning.status === 'ready') {
      expect(state.provisioning.profile.password).toBe(WSS_ENTRY.password);
      expect(state.provisioning.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(states.map((s) => `${s.session.status}/${s.provisioning.status}`)).toEqual([
      'signing-in/idle',
      'signed-in/idle',
      'signed-in/provisioning',
      'signed-in/ready',
    ]);
    expect(server.count(TOKEN_PATH)).toBe(1);
    expect(server.count(EXTENSION_PATH)).toBe(1);
    expect(server.count(PROVISION_PATH)).toBe(1);
    expect(JSON.stringify(state)).not.toContain(server.tokens.issuedAccess()[0]);
  });

  it('keeps tokens out of the settings folder', async () => {
    const service = createService();
    await signIn(service);

    expect(await keychainAccounts()).toEqual([
      CredentialAccount.OAuthTokens,
      CredentialAccount.SignedInUser,
      CredentialAccount.SipProfile,
    ]);
    const stored = await keytar.getPassword(keychainService, CredentialAccount.OAuthTokens);
    expect(stored).toContain(server.tokens.issuedAccess()[0]);

    // Force a refresh, then provision with the new token.
    clock.advance(3600 * 1000);
    const state = await service.provision();
    expect(state.provisioning.status).toBe('ready');
    expect(server.count(TOKEN_PATH)).toBe(2);
    expect(await keytar.getPassword(keychainService, CredentialAccount.OAuthTokens)).toContain(
      server.tokens.issuedAccess()[1],
    );

    const files = await readAllFiles(settingsDir);
    expect([...files.keys()].sort()).toEqual(['instance-id', 'provisioning-requests.json', 'settings.json']);
    for (const [path, text] of files) {
      for (const secret of allSecrets()) {
        expect(text.includes(secret), `${path} contains a secret`).toBe(false);
      }
    }
  });

  it('shows the cached profile after restart', async () => {
    const first = createService();
    const signedIn = await signIn(first);
    const requestsBefore = server.requests.length;

    const restarted = createService({ provisionOnStart: false });
    const state = await restarted.getState();

    expect(state.settings.customServerUrl).toBe(server.url);
    expect(state.session).toEqual(signedIn.session);
    expect(state.provisioning).toEqual(signedIn.provisioning);
    expect(server.requests.length).toBe(requestsBefore);
  });

  it('provisions again on start after a restore', async () => {
    await signIn(createService());

    const restarted = createService();
    await restarted.ready;
    await expect.poll(() => server.count(PROVISION_PATH)).toBe(2);
    await expect.poll(async () => (await restarted.getState()).provisioning.status).toBe('ready');
    expect(server.count(TOKEN_PATH)).toBe(1);
  });

  it('signs out, revokes and leaves no keychain entry', async () => {
    const service = createService();
    await signIn(service);
    const refreshToken = server.tokens.issuedRefresh()[0];

    const state = await service.signOut();

    expect(state.session).toEqual({ status: 'signed-out', error: null });
    expect(state.provisioning).toEqual({ status: 'idle' });
    expect(server.count(REVOKE_PATH)).toBe(1);
    expect(server.tokens.revoked()).toContain(refreshToken);
    expect(await keychainAccounts()).toEqual([]);
    expect((await createService().getState()).session.status).toBe('signed-out');
  });

  it('signs out on a rejected refresh', async () => {
    const service = createService();
    await signIn(service);
    server.revokeSessions(ALICE.ownerId);
    clock.advance(3600 * 1000);

    const state = await service.provision();

    expect(state.session).toEqual({
      status: 'signed-out',
      error: { code: 'invalid_grant', message: 'Your RingCentral session has expired or was revoked.', action: 'Sign in again.' },
    });
    expect(state.provisioning).toEqual({ status: 'idle' });
    expect(server.count(TOKEN_PATH)).toBe(2);
    await expect.poll(keychainAccounts).toEqual([]);
  });

  it('reports a rejected JWT and stores nothing', async () => {
    const service = createService();

    const state = await signIn(service, 'not-a-known-jwt');

    expect(state.session.status).toBe('signed-out');
    if (state.session.status === 'signed-out') {
      expect(state.session.error?.code).toBe('OAU-140');
    }
    expect(server.count(PROVISION_PATH)).toBe(0);
    expect(await keychainAccounts()).toEqual([]);
  });

  it('refuses to sign in without a client id', async () => {
    const service = createService();
    await service.saveSettings({ server: 'custom', customServerUrl: server.url, clientId: '' });

    const state = await service.signInWithJwt(ALICE.jwtCredential);

    expect(state.session).toMatchObject({ status: 'signed-out', error: { code: 'MISSING_CLIENT_ID' } });
    expect(server.requests).toEqual([]);
  });

  it('shares one provisioning request among concurrent calls', async () => {
    const service = createService();
    await signIn(service);

    const states = await Promise.all([service.provision(), service.provision(), service.provision()]);

    expect(states.map((state) => state.provisioning.status)).toEqual(['ready', 'ready', 'ready']);
    expect(server.count(PROVISION_PATH)).toBe(2);
  });

  it('provisions despite a stale pending request', async () => {
    await signIn(createService());
    server.inject({ path: PROVISION_PATH, kind: 'delay', ms: 300 });
    const restarted = createService();
    await restarted.ready;
    await expect.poll(() => server.count(PROVISION_PATH)).toBe(2);

    await restarted.signOut();
    const state = await restarted.signInWithJwt(ALICE.jwtCredential);

    expect(state.session.status).toBe('signed-in');
    expect(state.provisioning.status).toBe('ready');
    expect(server.count(PROVISION_PATH)).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await restarted.getState()).provisioning.status).toBe('ready');
  });

  it('shows a documented provisioning error in the state', async () => {
    const service = createService();
    server.setUser(ALICE.ownerId, { provisionError: 'BIL-103' });

    const state = await signIn(service);

    expect(state.session.status).toBe('signed-in');
    expect(state.provisioning).toMatchObject({ status: 'failed', error: { code: 'BIL-103' } });
  });

  it('signs out when the server changes while signed in', async () => {
    const service = createService();
    await signIn(service);

    const state = await service.saveSettings({ server: 'sandbox', customServerUrl: server.url, clientId: CLIENT_ID });

    expect(state.settings.server).toBe('sandbox');
    expect(state.session).toEqual({ status: 'signed-out', error: null });
    expect(server.count(REVOKE_PATH)).toBe(1);
    expect(await keychainAccounts()).toEqual([]);
  });

  it('rejects an invalid URL with a readable reason', async () => {
    const service = createService();

    await expect(
      service.saveSettings({ server: 'custom', customServerUrl: 'ftp://example.test', clientId: CLIENT_ID }),
    ).rejects.toThrow(/^Invalid custom server URL "ftp:\/\/example.test": the scheme must be http or https/);
  });

  it('names the field of an invalid client id', async () => {
    const service = createService();

    await expect(
      service.saveSettings({ server: 'production', customServerUrl: '', clientId: 'bad id!' }),
    ).rejects.toThrow(/^Client ID: the client id may contain only letters/);
  });
});
