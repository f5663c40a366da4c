// The browser part of the PKCE sign-in against the local platform. A "browser"
// made of fetch (./fetch-browser.ts) loads the authorize page and follows its 302
// to the app's loopback listener, as the system browser would.
import { generateRandomCodeVerifier } from 'oauth4webapi';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { describeSignInFailure } from '../../src/main/auth-errors';
import { AuthSession } from '../../src/main/auth-session';
import {
  AUTHORIZE_PATH,
  authorizeInBrowser,
  type BrowserAuthorization,
  type BrowserAuthorizationOptions,
  BrowserSignInError,
  REDIRECT_PATH,
} from '../../src/main/browser-sign-in';
import { CredentialAccount } from '../../src/main/credential-store';
import { silentLogger } from '../../src/main/logger';
import { createPlatformClient, PlatformError } from '../../src/main/platform-client';
import { fetchSignedInUser } from '../../src/main/signed-in-user';
import { pkceChallenge, type PlatformServer } from '../bench/platform-server';
import { connectionErrorCode, createFetchBrowser, type FetchBrowser } from './fetch-browser';
import {
  ALICE,
  APP_NAME,
  APP_VERSION,
  CLIENT_ID,
  createMemoryCredentialStore,
  startTestPlatform,
  TOKEN_PATH,
} from './helpers';

const TIMEOUT_MS = 5 * 60_000;

let server: PlatformServer | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

async function startPlatform(): Promise<PlatformServer> {
  server = await startTestPlatform();
  return server;
}

function authorize(
  platform: PlatformServer,
  browser: FetchBrowser,
  overrides: Partial<BrowserAuthorizationOptions> = {},
): Promise<BrowserAuthorization> {
  return authorizeInBrowser({
    baseUrl: platform.url,
    clientId: CLIENT_ID,
    openExternal: browser.openExternal,
    timeoutMs: TIMEOUT_MS,
    signal: new AbortController().signal,
    productName: 'RC Softphone',
    logger: silentLogger,
    ...overrides,
  });
}

function createAuthSession(platform: PlatformServer) {
  const store = createMemoryCredentialStore();
  const client = createPlatformClient({
    fetch,
    baseUrl: () => platform.url,
    appName: APP_NAME,
    appVersion: APP_VERSION,
    now: Date.now,
    logger: silentLogger,
  });
  const auth = new AuthSession({
    client,
    credentialStore: store,
    clientCredentials: () => ({ clientId: CLIENT_ID, clientSecret: null }),
    baseUrl: () => platform.url,
    now: Date.now,
    logger: silentLogger,
  });
  return { store, client, auth };
}

describe('browser sign-in with PKCE', () => {
  it('signs in through authorize page and redirect', async () => {
    const platform = await startPlatform();
    const browser = createFetchBrowser();
    const { store, client, auth } = createAuthSession(platform);

    const authorization = await authorize(platform, browser);

    const authorizeRequest = platform.requests.find((request) => request.path === AUTHORIZE_PATH);
    const { grant } = authorization;
    expect(authorizeRequest?.query).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      code_challenge_method: 'S256',
      redirect_uri: grant.redirect_uri,
    });
    expect(authorizeRequest?.query['code_challenge']).toBe(pkceChallenge(grant.code_verifier));
    expect(authorizeRequest?.query['state']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(grant.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(grant.redirect_uri).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${REDIRECT_PATH}$`));
    expect(grant.code).not.toBe('');

    await auth.signInWithGrant(grant);
    const user = await fetchSignedInUser(client, auth);
    authorization.finish({ ok: true, user });
    const page = await browser.page();

    const tokenRequest = platform.requests.find((request) => request.path === TOKEN_PATH);
    expect(tokenRequest?.body).toEqual({
      grant_type: 'authorization_code',
      code: grant.code,
      redirect_uri: grant.redirect_uri,
      code_verifier: grant.code_verifier,
      client_id: CLIENT_ID,
    });
    expect(tokenRequest?.status).toBe(200);
    expect(auth.ownerId).toBe(ALICE.ownerId);
    expect(store.entries.get(CredentialAccount.OAuthTokens)).toContain(platform.tokens.issuedAccess()[0]);
    expect(page.status).toBe(200);
    expect(page.text).toContain('You are signed in as Alice Example (extension 101).');
    expect(page.text).toContain('You can close this tab and return to RC Softphone.');
    expect(await connectionErrorCode(grant.redirect_uri)).toBe('ECONNREFUSED');
  });

  it('rejects a code sent with another verifier', async () => {
    const platform = await startPlatform();
    const browser = createFetchBrowser();
    const { store, auth } = createAuthSession(platform);
    const authorization = await authorize(platform, browser);

    const error = await auth
      .signInWithGrant({ ...authorization.grant, code_verifier: generateRandomCodeVerifier() })
      .catch((caught: unknown) => caught);
    const userError = describeSignInFailure(error, 'browser');
    authorization.finish({ ok: false, error: userError });

    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).oauthError).toBe('invalid_grant');
    expect(userError.message).toContain('rejected the authorization code');
    expect(store.entries.size).toBe(0);
    expect(auth.isSignedIn).toBe(false);
    const page = await browser.page();
    expect(page.status).toBe(400);
    expect(page.text).toContain('rejected the authorization code');
  });

  it('rejects a redirect with a wrong state', async () => {
    const platform = await startPlatform();
    const browser = createFetchBrowser({
      tamper: (redirect) => redirect.searchParams.set('state', 'forged-state-value'),
    });

    const error = await authorize(platform, browser).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BrowserSignInError);
    expect((error as BrowserSignInError).reason).toBe('state-mismatch');
    expect((error as BrowserSignInError).userError.code).toBe('OAUTH_STATE_MISMATCH');
    const page = await browser.page();
    expect(page.status).toBe(400);
    expect(page.text).toContain('the OAuth state value did not match');
    expect(platform.count(TOKEN_PATH)).toBe(0);
    expect(await connectionErrorCode(browser.redirectUri())).toBe('ECONNREFUSED');
  });

  it('reports a denied authorization', async () => {
    const platform = await startPlatform();
    platform.setAuthorizeAs(null);
    const browser = createFetchBrowser();

    const error = await authorize(platform, browser).catch((caught: unknown) => caught);

    expect((error as BrowserSignInError).reason).toBe('access-denied');
    expect(describeSignInFailure(error, 'browser')).toMatchObject({
      code: 'access_denied',
      message: expect.stringContaining('The user denied the authorization request'),
    });
    expect((await browser.page()).text).toContain('Access was denied');
    expect(platform.count(TOKEN_PATH)).toBe(0);
  });

  it('ignores other paths until the redirect', async () => {
    const platform = await startPlatform();
    const browser = createFetchBrowser({ visit: false });
    const pending = authorize(platform, browser);
    await browser.openedOnce;
    const authorizeUrl = browser.opened[0]!;
    const redirectUri = new URL(authorizeUrl.searchParams.get('redirect_uri')!);

    const favicon = await fetch(new URL('/favicon.ico', redirectUri));
    const post = await fetch(redirectUri, { method: 'POST' });
    const authorizePage = await fetch(authorizeUrl, { redirect: 'manual' });
    const callback = fetch(authorizePage.headers.get('location')!);
    const authorization = await pending;
    authorization.finish({ ok: true, user: { name: ALICE.name, extensionNumber: ALICE.extensionNumber } });

    expect(favicon.status).toBe(404);
    expect(post.status).toBe(404);
    expect((await callback).status).toBe(200);
    expect(authorization.grant.code).not.toBe('');
  });

  it('times out and closes the listener', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const platform = await startPlatform();
    const browser = createFetchBrowser({ visit: false });
    let settled = false;
    const pending = authorize(platform, browser).finally(() => {
      settled = true;
    });
    pending.catch(() => undefined);
    await browser.openedOnce;
    const redirectUri = browser.redirectUri();

    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1000);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);

    const error = await pending.catch((caught: unknown) => caught);
    expect((error as BrowserSignInError).reason).toBe('timeout');
    expect((error as BrowserSignInError).userError).toMatchObject({
      code: 'BROWSER_SIGN_IN_TIMEOUT',
      message: 'The browser did not return to the app within 5 minutes, so the sign-in was stopped.',
    });
    expect(await connectionErrorCode(redirectUri)).toBe('ECONNREFUSED');
    expect(platform.count(TOKEN_PATH)).toBe(0);
  });

  it('stops waiting when cancelled', async () => {
    const platform = await startPlatform();
    const browser = createFetchBrowser({ visit: false });
    const controller = new AbortController();
    const pending = authorize(platform, browser, { signal: controller.signal });
    await browser.openedOnce;
    const redirectUri = browser.redirectUri();

    controller.abort();

    const error = await pending.catch((caught: unknown) => caught);
    expect((error as BrowserSignInError).reason).toBe('cancelled');
    expect(await connectionErrorCode(redirectUri)).toBe('ECONNREFUSED');
  });

  it('reports a browser that cannot be opened', async () => {
    const platform = await startPlatform();
    let redirectUri = '';

    const error = await authorize(platform, createFetchBrowser(), {
      openExternal: async (url) => {
        redirectUri = new URL(url).searchParams.get('redirect_uri') ?? '';
        throw new Error('no handler for https URLs');
      },
    }).catch((caught: unknown) => caught);

    expect((error as BrowserSignInError).reason).toBe('browser-not-opened');
    expect((error as BrowserSignInError).userError.message).toBe(
      'The app could not open the system browser (no handler for https URLs).',
    );
    expect(await connectionErrorCode(redirectUri)).toBe('ECONNREFUSED');
  });
});
