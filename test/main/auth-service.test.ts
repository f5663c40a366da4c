// Sign-in, refresh and sign-out through the service with the real OS keychain
// (keytar on gnome-keyring). Start it inside a private Secret Service:
// `dbus-run-session -- bash test/with-secret-service.sh node_modules/.bin/vitest run test/main/auth-service.test.ts`.
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import keytar from 'keytar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CredentialAccount, type CredentialStore, createKeytarCredentialStore } from '../../src/main/credential-store';
import { createLogger, type LogSink } from '../../src/main/logger';
import { createSoftphoneService, type SoftphoneService } from '../../src/main/softphone-service';
import type { AppState } from '../../src/shared/app-state';
import { clearKeychain, keychainAccounts as listKeychainAccounts } from '../bench/keychain-entries';
import type { PlatformServer } from '../bench/platform-server';
import { connectionErrorCode, createFetchBrowser, type FetchBrowser, visibleText } from './fetch-browser';
import {
  ALICE,
  CLIENT_ID,
  createClock,
  createMemoryCredentialStore,
  createTempDir,
  readAllFiles,
  removeDir,
  REVOKE_PATH,
  startTestPlatform,
  TOKEN_PATH,
  WSS_ENTRY,
} from './helpers';

const CLIENT_SECRET = 'auth-service-client-secret-4f1c';

let server: PlatformServer;
let dataDir: string;
let keychainService: string;
let clock: ReturnType<typeof createClock>;

beforeEach(async () => {
  clock = createClock();
  dataDir = await createTempDir('auth-service');
  keychainService = `rc-softphone-auth-test-${randomUUID()}`;
});

afterEach(async () => {
  await clearKeychain(keychainService);
  await server?.close();
  await removeDir(dataDir);
});

/** Creates a log sink that appends every line to `logs/main.log` in the data folder, as a file logger would. */
function createFileLogSink(): LogSink & { path: string } {
  const directory = join(dataDir, 'logs');
  mkdirSync(directory, { recursive: true });
  const path = join(directory, 'main.log');
  const write = (level: string) => (...data: unknown[]) =>
    appendFileSync(path, `${level} ${data.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ')}\n`);
  return { path, info: write('info'), warn: write('warn'), error: write('error') };
}

function createService(
  browser: FetchBrowser,
  options: { browserSignInTimeoutMs?: number; credentialStore?: CredentialStore } = {},
): SoftphoneService {
  return createSoftphoneService({
    fetch,
    credentialStore: options.credentialStore ?? createKeytarCredentialStore(keytar, keychainService),
    settingsDir: dataDir,
    appName: 'RCSoftphone',
    appVersion: '0.1.0',
    now: clock.now,
    logger: createLogger('main', createFileLogSink()),
    openExternal: (url) => browser.openExternal(url),
    browserSignInTimeoutMs: options.browserSignInTimeoutMs,
    provisionOnStart: false,
  });
}

function readLog(): string {
  return existsSync(join(dataDir, 'logs/main.log')) ? readFileSync(join(dataDir, 'logs/main.log'), 'utf8') : '';
}

async function saveSettings(service: SoftphoneService, clientId = CLIENT_ID): Promise<AppState> {
  return service.saveSettings({ server: 'custom', customServerUrl: server.url, clientId });
}

async function keychainAccounts(): Promise<string[]> {
  return listKeychainAccounts(keychainService);
}

async function waitForSession(service: SoftphoneService, status: AppState['session']['status']): Promise<void> {
  await expect.poll(async () => (await service.getState()).session.status).toBe(status);
}

/** Returns every secret of the OAuth exchange and the SIP line; none may reach a file. */
function allSecrets(): string[] {
  const tokenRequests = server.requests.filter((request) => request.path === TOKEN_PATH);
  const exchangeSecrets = tokenRequests.flatMap((request) => {
    const body = request.body as Record<string, string>;
    return [body['code'], body['code_verifier'], body['refresh_token']].filter((value) => value !== undefined);
  });
  return [
    ...server.tokens.issuedAccess(),
    ...server.tokens.issuedRefresh(),
    ...exchangeSecrets,
    WSS_ENTRY.password,
    CLIENT_SECRET,
  ];
}

async function expectNoSecretInFiles(): Promise<void> {
  const files = await readAllFiles(dataDir);
  expect(files.get('logs/main.log')).toContain('Signed in');
  for (const [path, text] of files) {
    for (const secret of allSecrets()) {
      expect(text.includes(secret), `${path} contains a secret of ${secret.length} characters`).toBe(false);
    }
  }
}

describe('browser sign-in with the OS keychain', () => {
  it('keeps tokens in the keychain only', async () => {
    server = await startTestPlatform({ now: clock.now });
    const browser = createFetchBrowser();
    const service = createService(browser);
    await saveSettings(service);
    const states: string[] = [];
    service.subscribe((state) => states.push(state.session.status));

    const state = await service.signInWithBrowser();

    expect(state.session).toEqual({
      status: 'signed-in',
      user: { name: ALICE.name, extensionNumber: ALICE.extensionNumber },
    });
    expect(state.provisioning.status).toBe('ready');
    expect(states.slice(0, 3)).toEqual(['waiting-for-browser', 'signing-in', 'signed-in']);
    expect((await browser.page()).text).toContain('You are signed in as Alice Example (extension 101).');
    expect(server.requests.find((request) => request.path === TOKEN_PATH)?.body).toMatchObject({
      grant_type: 'authorization_code',
    });

    const stored = JSON.parse((await keytar.getPassword(keychainService, CredentialAccount.OAuthTokens)) ?? '{}');
    expect(stored.tokens).toEqual({
      accessToken: server.tokens.issuedAccess()[0],
      accessTokenExpiresAt: clock.now() + 3600 * 1000,
      refreshToken: server.tokens.issuedRefresh()[0],
      refreshTokenExpiresAt: clock.now() + 604_800 * 1000,
      ownerId: ALICE.ownerId,
    });
    await expectNoSecretInFiles();

    // Past expiry the next platform request refreshes first.
    clock.advance(3600 * 1000);
    expect((await service.provision()).provisioning.status).toBe('ready');
    expect(server.count(TOKEN_PATH)).toBe(2);
    expect(await keytar.getPassword(keychainService, CredentialAccount.OAuthTokens)).toContain(
      server.tokens.issuedAccess()[1],
    );
    await expectNoSecretInFiles();
    expect(JSON.stringify(await service.getState())).not.toContain(server.tokens.issuedAccess()[1]);
  });

  it('warns while refreshed tokens cannot be stored', async () => {
    server = await startTestPlatform({ now: clock.now });
    const keychain = createKeytarCredentialStore(keytar, keychainService);
    let refuseWrites = false;
    const refusingKeychain: CredentialStore = {
      get: (account) => keychain.get(account),
      delete: (account) => keychain.delete(account),
      async set(account, secret) {
        if (refuseWrites) throw new Error('The session wrapping the secret does not exist');
        await keychain.set(account, secret);
      },
    };
    const browser = createFetchBrowser();
    const service = createService(browser, { credentialStore: refusingKeychain });
    await saveSettings(service);
    expect((await service.signInWithBrowser()).session.status).toBe('signed-in');

    refuseWrites = true;
    clock.advance(3600 * 1000);
    const during = (await service.provision()).session;

    expect(during).toMatchObject({ status: 'signed-in' });
    expect(during).toMatchObject({ keychainWarning: { message: expect.stringMatching(/only until the app quits/) } });
    await expectNoSecretInFiles();

    refuseWrites = false;
    clock.advance(3600 * 1000);
    const after = (await service.provision()).session;

    expect(after).toEqual({ status: 'signed-in', user: { name: ALICE.name, extensionNumber: ALICE.extensionNumber } });
  });

  it('signs out, revokes and leaves no entry', async () => {
    server = await startTestPlatform({ now: clock.now });
    const service = createService(createFetchBrowser());
    await saveSettings(service);
    await service.signInWithBrowser();
    expect(await keychainAccounts()).toEqual([
      CredentialAccount.OAuthTokens,
      CredentialAccount.SignedInUser,
      CredentialAccount.SipProfile,
    ]);
    const refreshToken = server.tokens.issuedRefresh()[0];

    const state = await service.signOut();

    expect(state.session).toEqual({ status: 'signed-out', error: null });
    expect(state.provisioning).toEqual({ status: 'idle' });
    expect(server.count(REVOKE_PATH)).toBe(1);
    expect(server.tokens.revoked()).toContain(refreshToken);
    expect(await keychainAccounts()).toEqual([]);
  });

  it('rejects a wrong state and stores nothing', async () => {
    server = await startTestPlatform({ now: clock.now });
    const browser = createFetchBrowser({ tamper: (redirect) => redirect.searchParams.set('state', 'forged') });
    const service = createService(browser);
    await saveSettings(service);

    const state = await service.signInWithBrowser();

    expect(state.session).toMatchObject({ status: 'signed-out', error: { code: 'OAUTH_STATE_MISMATCH' } });
    expect(server.count(TOKEN_PATH)).toBe(0);
    expect(await keychainAccounts()).toEqual([]);
  });

  it('cancels while waiting for the browser', async () => {
    server = await startTestPlatform({ now: clock.now });
    const browser = createFetchBrowser({ visit: false });
    const service = createService(browser);
    await saveSettings(service);

    const signingIn = service.signInWithBrowser();
    await browser.openedOnce;
    await waitForSession(service, 'waiting-for-browser');
    const cancelled = await service.cancelSignIn();

    expect(cancelled.session).toEqual({ status: 'signed-out', error: null });
    expect((await signingIn).session).toEqual({ status: 'signed-out', error: null });
    expect(await connectionErrorCode(browser.redirectUri())).toBe('ECONNREFUSED');
    expect(server.count(TOKEN_PATH)).toBe(0);
  });

  it('cancels after the redirect, before the exchange', async () => {
    server = await startTestPlatform({ now: clock.now });
    const browser = createFetchBrowser({ visit: false });
    // A client-secret write that waits for `releaseWrite` keeps the operation queue busy.
    const memory = createMemoryCredentialStore();
    let releaseWrite: () => void = () => {};
    const writeGate = new Promise<void>((resolve) => {
      releaseWrite = resolve;
    });
    const credentialStore: CredentialStore = {
      ...memory,
      set: async (account, secret) => {
        if (account === CredentialAccount.ClientSecret) await writeGate;
        await memory.set(account, secret);
      },
    };
    const service = createService(browser, { credentialStore });
    await saveSettings(service);

    const signingIn = service.signInWithBrowser();
    await browser.openedOnce;
    await waitForSession(service, 'waiting-for-browser');
    const secretSaved = service.saveClientSecret(CLIENT_SECRET);
    const authorizePage = await fetch(browser.opened[0]!, { redirect: 'manual' });
    const tab = fetch(authorizePage.headers.get('location')!).then(async (page) => ({
      status: page.status,
      text: await page.text(),
    }));
    await expect.poll(() => readLog()).toContain('Received an authorization code from the browser');
    const cancelled = service.cancelSignIn();
    releaseWrite();
    await secretSaved;

    expect((await cancelled).session).toEqual({ status: 'signed-out', error: null });
    expect((await signingIn).session).toEqual({ status: 'signed-out', error: null });
    expect(visibleText(await tab)).toContain('The browser sign-in was cancelled.');
    expect(server.count(TOKEN_PATH)).toBe(0);
    expect(memory.entries.has(CredentialAccount.OAuthTokens)).toBe(false);
  });

  it('signs out while waiting for the browser', async () => {
    server = await startTestPlatform({ now: clock.now });
    const browser = createFetchBrowser({ visit: false });
    const service = createService(browser);
    await saveSettings(service);

    const signingIn = service.signInWithBrowser();
    await browser.openedOnce;
    await service.signOut();

    expect((await signingIn).session).toEqual({ status: 'signed-out', error: null });
    expect(await connectionErrorCode(browser.redirectUri())).toBe('ECONNREFUSED');
  });

  it('shows a timeout in the state', async () => {
    server = await startTestPlatform({ now: clock.now });
    const browser = createFetchBrowser({ visit: false });
    const service = createService(browser, { browserSignInTimeoutMs: 1000 });
    await saveSettings(service);

    const state = await service.signInWithBrowser();

    expect(state.session).toEqual({
      status: 'signed-out',
      error: {
        code: 'BROWSER_SIGN_IN_TIMEOUT',
        message: 'The browser did not return to the app within 1 second, so the sign-in was stopped.',
        action: 'Click "Sign in with browser" again and finish the sign-in in the browser tab that opens.',
      },
    });
    expect(await connectionErrorCode(browser.redirectUri())).toBe('ECONNREFUSED');
    expect(await keychainAccounts()).toEqual([]);
  });
});

describe('client secret in the keychain', () => {
  it('authenticates with it and never returns it', async () => {
    server = await startTestPlatform({ now: clock.now, clientSecret: CLIENT_SECRET });
    const service = createService(createFetchBrowser());
    await saveSettings(service);

    const saved = await service.saveClientSecret(CLIENT_SECRET);
    const state = await service.signInWithBrowser();

    expect(saved.clientSecretStored).toBe(true);
    expect(JSON.stringify(saved)).not.toContain(CLIENT_SECRET);
    expect(state.session.status).toBe('signed-in');
    const tokenRequest = server.requests.find((request) => request.path === TOKEN_PATH);
    expect(tokenRequest?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    );
    expect(tokenRequest?.body).not.toHaveProperty('client_secret');
    expect(await keytar.getPassword(keychainService, CredentialAccount.ClientSecret)).toBe(CLIENT_SECRET);
    await expectNoSecretInFiles();

    const restarted = createService(createFetchBrowser());
    expect((await restarted.getState()).clientSecretStored).toBe(true);

    // The secret is part of the settings, not of the session.
    await restarted.signOut();
    expect(await keychainAccounts()).toEqual([CredentialAccount.ClientSecret]);
  });

  it('deletes it when the client id changes', async () => {
    server = await startTestPlatform({ now: clock.now });
    const service = createService(createFetchBrowser());
    await saveSettings(service);
    await service.saveClientSecret(CLIENT_SECRET);

    const state = await saveSettings(service, 'anotherClientId');

    expect(state.clientSecretStored).toBe(false);
    expect(await keychainAccounts()).toEqual([]);
  });

  it('deletes it on request', async () => {
    server = await startTestPlatform({ now: clock.now });
    const service = createService(createFetchBrowser());
    await saveSettings(service);
    await service.saveClientSecret(CLIENT_SECRET);

    const state = await service.saveClientSecret(null);

    expect(state.clientSecretStored).toBe(false);
    expect(await keychainAccounts()).toEqual([]);
  });
});
