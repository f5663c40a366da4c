import { afterEach, describe, expect, it, vi } from 'vitest';

import { describeSignInFailure } from '../../src/main/auth-errors';
import {
  AuthSession,
  MAX_RATE_LIMIT_WAIT_MS,
  NotSignedInError,
  REFRESH_MARGIN_MS,
  SessionExpiredError,
} from '../../src/main/auth-session';
import { CredentialAccount } from '../../src/main/credential-store';
import { silentLogger } from '../../src/main/logger';
import { createPlatformClient, PlatformError, type PlatformClient } from '../../src/main/platform-client';
import { fetchSignedInUser } from '../../src/main/signed-in-user';
import type { PlatformServer } from '../bench/platform-server';
import {
  ALICE,
  APP_NAME,
  APP_VERSION,
  CLIENT_ID,
  createClock,
  createMemoryCredentialStore,
  createRecordingLogger,
  EXTENSION_PATH,
  REVOKE_PATH,
  startTestPlatform,
  TOKEN_PATH,
} from './helpers';

const ACCESS_TTL_MS = 3600 * 1000;

// Log lines the fake-timer tests wait for before moving time, so that a response
// has been processed when the clock jumps.
const WAITING_FOR_RETRY_AFTER = 'Token endpoint returned 429; waiting';
const REFRESHED = 'Refreshed the access token';
const BACKGROUND_FAILED = 'Background token refresh failed';

let server: PlatformServer | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

interface Harness {
  server: PlatformServer;
  clock: ReturnType<typeof createClock>;
  store: ReturnType<typeof createMemoryCredentialStore>;
  client: PlatformClient;
  auth: AuthSession;
  tokenRequests: () => number;
  /**
   * Token requests the app has started, counted when it calls fetch. Under fake
   * timers this is exact right after a timer fires, while the server sees the
   * request only after real I/O.
   */
  tokenAttempts: () => number;
  /** Number of log lines of the session whose message starts with `prefix`. */
  logCount: (prefix: string) => number;
  /** A second session over the same keychain, as after an app restart. */
  restart: (baseUrl?: string) => AuthSession;
}

/**
 * Starts the platform and a session on a shared clock. With `fakeTimers`, the
 * clock is vitest's fake `Date` and `setTimeout`, which
 * `vi.advanceTimersByTimeAsync` moves together; `clock.advance` is then unused.
 */
async function setUp(
  options: { clientSecret?: string; serverClientSecret?: string; fakeTimers?: boolean } = {},
): Promise<Harness> {
  if (options.fakeTimers) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  }
  const clock = options.fakeTimers ? { now: () => Date.now(), advance: () => {} } : createClock();
  server = await startTestPlatform({ now: clock.now, clientSecret: options.serverClientSecret ?? options.clientSecret });
  const started = server;
  const store = createMemoryCredentialStore();
  const logger = createRecordingLogger('auth');
  let tokenAttempts = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input).endsWith(TOKEN_PATH)) tokenAttempts += 1;
    return fetch(input, init);
  };

  const makeSession = (baseUrl: string) => {
    const client = createPlatformClient({
      fetch: countingFetch,
      baseUrl: () => baseUrl,
      appName: APP_NAME,
      appVersion: APP_VERSION,
      now: clock.now,
      logger: silentLogger,
    });
    const auth = new AuthSession({
      client,
      credentialStore: store,
      clientCredentials: () => ({ clientId: CLIENT_ID, clientSecret: options.clientSecret ?? null }),
      baseUrl: () => baseUrl,
      now: clock.now,
      logger,
    });
    return { client, auth };
  };

  const { client, auth } = makeSession(started.url);
  return {
    server: started,
    clock,
    store,
    client,
    auth,
    tokenRequests: () => started.count(TOKEN_PATH),
    tokenAttempts: () => tokenAttempts,
    logCount: (prefix) => logger.lines.filter((line) => line.message.startsWith(prefix)).length,
    restart: (baseUrl = started.url) => makeSession(baseUrl).auth,
  };
}

function storedTokens(harness: Harness): { accessToken: string; refreshToken: string } | null {
  const text = harness.store.entries.get(CredentialAccount.OAuthTokens);
  return text === undefined ? null : (JSON.parse(text) as { tokens: { accessToken: string; refreshToken: string } }).tokens;
}

function rateLimitFault(retryAfter: string) {
  return {
    path: TOKEN_PATH,
    status: 429,
    body: { errorCode: 'CMN-301', message: 'Request rate exceeded', errors: [] },
    headers: { 'Retry-After': retryAfter, 'X-Rate-Limit-Group': 'Auth' },
  };
}

describe('JWT sign-in', () => {
  it('stores JWT sign-in tokens in keychain', async () => {
    const harness = await setUp();

    await harness.auth.signInWithJwt(ALICE.jwtCredential);

    const [request] = harness.server.requests;
    expect(request?.path).toBe(TOKEN_PATH);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: ALICE.jwtCredential,
      client_id: CLIENT_ID,
    });
    expect(harness.auth.isSignedIn).toBe(true);
    expect(harness.auth.ownerId).toBe(ALICE.ownerId);
    expect(storedTokens(harness)?.accessToken).toBe(harness.server.tokens.issuedAccess()[0]);
    expect(storedTokens(harness)?.refreshToken).toBe(harness.server.tokens.issuedRefresh()[0]);
    expect(harness.store.writes).toEqual([CredentialAccount.OAuthTokens]);
  });

  it('authenticates a confidential client with HTTP Basic', async () => {
    const harness = await setUp({ clientSecret: 'main-test-secret' });

    await harness.auth.signInWithJwt(ALICE.jwtCredential);

    const request = harness.server.requests[0];
    const expected = `Basic ${Buffer.from(`${CLIENT_ID}:main-test-secret`).toString('base64')}`;
    expect(request?.headers.authorization).toBe(expected);
    expect(request?.body).not.toHaveProperty('client_id');
    expect(request?.status).toBe(200);
  });

  it('reports a rejected JWT and keeps nothing', async () => {
    const harness = await setUp();

    const error = await harness.auth.signInWithJwt('wrong-jwt').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).oauthError).toBe('invalid_grant');
    expect(harness.auth.isSignedIn).toBe(false);
    expect(harness.store.entries.size).toBe(0);
    const userError = describeSignInFailure(error);
    expect(userError.code).toBe('OAU-140');
    expect(userError.message).toContain('rejected the JWT credential');
    expect(userError.action).toContain('JWT credential');
  });

  it('reports a client the platform rejects', async () => {
    // The server expects HTTP Basic with a secret; this client sends client_id only.
    const harness = await setUp({ serverClientSecret: 'main-test-secret' });

    const error = await harness.auth.signInWithJwt(ALICE.jwtCredential).catch((caught: unknown) => caught);

    expect(describeSignInFailure(error).code).toBe('invalid_client');
    expect(describeSignInFailure(error).action).toContain('client id');
  });
});

describe('token refresh', () => {
  it('refreshes 60 s before expiry and not earlier', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const firstToken = harness.server.tokens.issuedAccess()[0];

    harness.clock.advance(ACCESS_TTL_MS - REFRESH_MARGIN_MS - 1000);
    expect(await harness.auth.getAccessToken()).toBe(firstToken);
    expect(harness.tokenRequests()).toBe(1);

    harness.clock.advance(2000);
    const refreshed = await harness.auth.getAccessToken();

    expect(refreshed).not.toBe(firstToken);
    expect(refreshed).toBe(harness.server.tokens.issuedAccess()[1]);
    expect(harness.tokenRequests()).toBe(2);
    expect(harness.server.requests.at(-1)?.body).toMatchObject({ grant_type: 'refresh_token', client_id: CLIENT_ID });
    expect(storedTokens(harness)?.accessToken).toBe(refreshed);
    expect(storedTokens(harness)?.refreshToken).toBe(harness.server.tokens.issuedRefresh()[1]);
  });

  it('shares one refresh among concurrent callers', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    harness.clock.advance(ACCESS_TTL_MS);

    const users = await Promise.all(
      Array.from({ length: 5 }, () => fetchSignedInUser(harness.client, harness.auth)),
    );

    expect(users.map((user) => user.name)).toEqual(Array(5).fill(ALICE.name));
    expect(harness.tokenRequests()).toBe(2);
    expect(harness.server.count(EXTENSION_PATH)).toBe(5);
    expect(harness.server.requests.filter((request) => request.status === 401)).toEqual([]);
  });

  it('refreshes once and retries once after a 401', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    harness.server.inject({
      path: EXTENSION_PATH,
      status: 401,
      body: { errorCode: 'TokenInvalid', message: 'Token not found', errors: [] },
    });

    const user = await fetchSignedInUser(harness.client, harness.auth);

    expect(user).toEqual({ name: ALICE.name, extensionNumber: ALICE.extensionNumber });
    expect(harness.tokenRequests()).toBe(2);
    expect(harness.server.count(EXTENSION_PATH)).toBe(2);
    const retried = harness.server.requests.filter((request) => request.path === EXTENSION_PATH);
    expect(retried[1]?.headers.authorization).toBe(`Bearer ${harness.server.tokens.issuedAccess()[1]}`);
  });

  it('reports a second 401 instead of looping', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    harness.server.inject({
      path: EXTENSION_PATH,
      status: 401,
      times: Infinity,
      body: { errorCode: 'TokenInvalid', message: 'Token not found', errors: [] },
    });

    const error = await fetchSignedInUser(harness.client, harness.auth).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).status).toBe(401);
    expect(harness.server.count(EXTENSION_PATH)).toBe(2);
    expect(harness.tokenRequests()).toBe(2);
  });

  it('expires the session on invalid_grant', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const expired: SessionExpiredError[] = [];
    harness.auth.onExpired((error) => expired.push(error));
    harness.server.revokeSessions(ALICE.ownerId);

    const error = await fetchSignedInUser(harness.client, harness.auth).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SessionExpiredError);
    expect((error as SessionExpiredError).userError).toEqual({
      code: 'invalid_grant',
      message: 'Your RingCentral session has expired or was revoked.',
      action: 'Sign in again.',
    });
    expect(expired).toHaveLength(1);
    expect(harness.auth.isSignedIn).toBe(false);
    expect(harness.store.entries.has(CredentialAccount.OAuthTokens)).toBe(false);
    expect(harness.tokenRequests()).toBe(2);

    // No further token requests once signed out.
    await expect(harness.auth.getAccessToken()).rejects.toBeInstanceOf(NotSignedInError);
    await expect(fetchSignedInUser(harness.client, harness.auth)).rejects.toBeInstanceOf(NotSignedInError);
    expect(harness.tokenRequests()).toBe(2);
  });

  it('expires without request after refresh expiry', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    harness.clock.advance(604_800 * 1000);

    await expect(harness.auth.getAccessToken()).rejects.toMatchObject({ reason: 'refresh-token-expired' });
    expect(harness.tokenRequests()).toBe(1);
    expect(harness.store.entries.size).toBe(0);
  });
});

describe('rate limit on the token endpoint', () => {
  it('surfaces Retry-After and sends exactly one request', async () => {
    const harness = await setUp();
    harness.server.inject(rateLimitFault('30'));

    const error = await harness.auth.signInWithJwt(ALICE.jwtCredential).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PlatformError);
    expect(error).toMatchObject({ status: 429, errorCode: 'CMN-301', retryAfterSeconds: 30, rateLimitGroup: 'Auth' });
    expect(harness.tokenRequests()).toBe(1);
    expect(describeSignInFailure(error).action).toBe('Wait 30 seconds, then sign in again.');

    // A second attempt inside the window fails without a request.
    harness.clock.advance(10_000);
    const again = await harness.auth.signInWithJwt(ALICE.jwtCredential).catch((caught: unknown) => caught);
    expect(again).toMatchObject({ status: 429, retryAfterSeconds: 20 });
    expect(harness.tokenRequests()).toBe(1);

    harness.clock.advance(21_000);
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    expect(harness.tokenRequests()).toBe(2);
  });

  it('keeps valid token when refresh rate-limited', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const firstToken = harness.server.tokens.issuedAccess()[0];
    vi.setSystemTime(Date.now() + ACCESS_TTL_MS - 30_000);
    harness.server.inject(rateLimitFault('60'));

    expect(await harness.auth.getAccessToken()).toBe(firstToken);
    expect(await harness.auth.getAccessToken()).toBe(firstToken);
    expect(harness.tokenRequests()).toBe(2);

    // The token has expired with 20 s of the window left: the caller waits them out.
    vi.setSystemTime(Date.now() + 40_000);
    let token: string | null = null;
    const waiting = harness.auth.getAccessToken().then((value) => {
      token = value;
    });
    await expect.poll(() => harness.logCount(WAITING_FOR_RETRY_AFTER)).toBe(1);
    await vi.advanceTimersByTimeAsync(19_000);
    expect(token).toBeNull();
    expect(harness.tokenAttempts()).toBe(2);

    await vi.advanceTimersByTimeAsync(1_000);
    await waiting;
    expect(token).toBe(harness.server.tokens.issuedAccess()[1]);
    expect(harness.tokenRequests()).toBe(3);
    expect(harness.auth.isSignedIn).toBe(true);
  });

  it('waits Retry-After after a 429, then refreshes once', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    vi.setSystemTime(Date.now() + ACCESS_TTL_MS);
    harness.server.inject(rateLimitFault('30'));

    const callers = Promise.all([
      harness.auth.getAccessToken(),
      harness.auth.getAccessToken(),
      fetchSignedInUser(harness.client, harness.auth),
    ]);
    await expect.poll(() => harness.logCount(WAITING_FOR_RETRY_AFTER)).toBe(3);
    expect(harness.tokenRequests()).toBe(2);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(harness.tokenAttempts()).toBe(2);

    await vi.advanceTimersByTimeAsync(1_000);
    const [first, second, user] = await callers;

    const fresh = harness.server.tokens.issuedAccess()[1];
    expect(first).toBe(fresh);
    expect(second).toBe(fresh);
    expect(user.name).toBe(ALICE.name);
    expect(harness.tokenRequests()).toBe(3);
    const tokenRequestTimes = harness.server.requests
      .filter((request) => request.path === TOKEN_PATH)
      .map((request) => request.time);
    expect(tokenRequestTimes[2]! - tokenRequestTimes[1]!).toBeGreaterThanOrEqual(30_000);
  });

  it('reports a second 429 instead of looping', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    vi.setSystemTime(Date.now() + ACCESS_TTL_MS);
    harness.server.inject({ ...rateLimitFault('30'), times: Infinity });

    const result = harness.auth.getAccessToken().catch((caught: unknown) => caught);
    await expect.poll(() => harness.logCount(WAITING_FOR_RETRY_AFTER)).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);

    expect(await result).toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(harness.tokenRequests()).toBe(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(harness.tokenAttempts()).toBe(3);
  });

  it('does not wait out a long Retry-After', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    vi.setSystemTime(Date.now() + ACCESS_TTL_MS);
    const retryAfterSeconds = MAX_RATE_LIMIT_WAIT_MS / 1000 + 1;
    harness.server.inject(rateLimitFault(String(retryAfterSeconds)));

    await expect(harness.auth.getAccessToken()).rejects.toMatchObject({ status: 429, retryAfterSeconds });
    expect(harness.tokenRequests()).toBe(2);
    expect(harness.logCount(WAITING_FOR_RETRY_AFTER)).toBe(0);
    expect(harness.auth.isSignedIn).toBe(true);
  });
});

describe('background refresh', () => {
  it('refreshes 60 s before expiry without a caller', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);

    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS - 1000);
    expect(harness.tokenAttempts()).toBe(1);

    await vi.advanceTimersByTimeAsync(1000);
    expect(harness.tokenAttempts()).toBe(2);
    await expect.poll(() => harness.logCount(REFRESHED)).toBe(1);
    const refreshed = harness.server.tokens.issuedAccess()[1];
    await expect.poll(() => storedTokens(harness)?.accessToken).toBe(refreshed);
    expect(harness.server.requests.at(-1)?.body).toMatchObject({ grant_type: 'refresh_token' });

    // The next refresh follows the new token's expiry, so the session renews itself.
    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    expect(harness.tokenAttempts()).toBe(3);
    await expect.poll(() => harness.logCount(REFRESHED)).toBe(2);
    expect(await harness.auth.getAccessToken()).toBe(harness.server.tokens.issuedAccess()[2]);
  });

  it('backs off after a failed background refresh', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    harness.server.inject({ path: TOKEN_PATH, status: 503, times: 2, body: { errorCode: 'CMN-211', message: 'down' } });

    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    await expect.poll(() => harness.logCount(BACKGROUND_FAILED)).toBe(1);

    await vi.advanceTimersByTimeAsync(59_000);
    expect(harness.tokenAttempts()).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(harness.tokenAttempts()).toBe(3);
    await expect.poll(() => harness.logCount(BACKGROUND_FAILED)).toBe(2);

    // The second failure doubles the wait to 2 minutes.
    await vi.advanceTimersByTimeAsync(119_000);
    expect(harness.tokenAttempts()).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(harness.tokenAttempts()).toBe(4);
    await expect.poll(() => harness.logCount(REFRESHED)).toBe(1);
    const refreshed = harness.server.tokens.issuedAccess()[1];
    await expect.poll(() => storedTokens(harness)?.accessToken).toBe(refreshed);
  });

  it('stops after sign-out', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    await harness.auth.signOut();

    await vi.advanceTimersByTimeAsync(2 * ACCESS_TTL_MS);

    expect(harness.tokenAttempts()).toBe(1);
  });

  it('ends the session once on invalid_grant', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const expired: SessionExpiredError[] = [];
    harness.auth.onExpired((error) => expired.push(error));
    harness.server.revokeSessions(ALICE.ownerId);

    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    await expect.poll(() => expired.length).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * ACCESS_TTL_MS);

    expect(expired[0]?.reason).toBe('refresh-rejected');
    expect(harness.tokenAttempts()).toBe(2);
    expect(harness.auth.isSignedIn).toBe(false);
    expect(harness.store.entries.size).toBe(0);
  });
});

describe('keychain write retry', () => {
  const STORE_FAILED = 'Could not store the refreshed tokens in the keychain';

  /** Makes the store reject token writes while `failing.value` is true; returns the write attempts. */
  function failTokenWrites(harness: Harness, failing: { value: boolean }): string[] {
    const attempts: string[] = [];
    const write = harness.store.set.bind(harness.store);
    harness.store.set = async (account, secret) => {
      attempts.push(account);
      if (failing.value) throw new Error('The session wrapping the secret does not exist');
      await write(account, secret);
    };
    return attempts;
  }

  it('retries a failed write with backoff', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const outcomes: unknown[] = [];
    harness.auth.onTokenStorage((error) => outcomes.push(error));
    const failing = { value: true };
    const attempts = failTokenWrites(harness, failing);

    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    await expect.poll(() => harness.logCount(STORE_FAILED)).toBe(1);
    expect(attempts).toEqual([CredentialAccount.OAuthTokens]);
    expect(storedTokens(harness)?.accessToken).toBe(harness.server.tokens.issuedAccess()[0]);

    // The first retry follows after 30 s, the second 60 s later.
    await vi.advanceTimersByTimeAsync(29_000);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(2);
    await expect.poll(() => harness.logCount(STORE_FAILED)).toBe(2);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(attempts).toHaveLength(2);

    failing.value = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(3);
    await expect.poll(() => outcomes.length).toBe(3);
    expect(outcomes[0]).toBeInstanceOf(Error);
    expect(outcomes[1]).toBeInstanceOf(Error);
    expect(outcomes[2]).toBeNull();
    expect(storedTokens(harness)?.accessToken).toBe(harness.server.tokens.issuedAccess()[1]);
    expect(harness.logCount('Stored the refreshed tokens in the keychain after failed writes')).toBe(1);

    // Nothing is retried once the write succeeded.
    await vi.advanceTimersByTimeAsync(20 * 60_000);
    expect(attempts).toHaveLength(3);
  });

  it('caps the retry interval at 15 minutes', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const attempts = failTokenWrites(harness, { value: true });

    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    await expect.poll(() => harness.logCount(STORE_FAILED)).toBe(1);
    // The waits double from 30 s and stop growing at 15 minutes.
    for (const [waitMinutes, expectedAttempts] of [
      [0.5, 2],
      [1, 3],
      [2, 4],
      [4, 5],
      [8, 6],
      [15, 7],
    ] as const) {
      await vi.advanceTimersByTimeAsync(waitMinutes * 60_000);
      await expect.poll(() => attempts.length, { message: `after a further ${waitMinutes} min` }).toBe(expectedAttempts);
    }
    await vi.advanceTimersByTimeAsync(15 * 60_000 - 1_000);
    expect(attempts).toHaveLength(7);
  });

  it('stops retrying after sign-out', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const attempts = failTokenWrites(harness, { value: true });
    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    await expect.poll(() => harness.logCount(STORE_FAILED)).toBe(1);

    await harness.auth.signOut();
    await vi.advanceTimersByTimeAsync(20 * 60_000);

    expect(attempts).toHaveLength(1);
    expect(harness.store.entries.size).toBe(0);
  });

  it('writes the newest tokens on retry', async () => {
    const harness = await setUp({ fakeTimers: true });
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const failing = { value: true };
    failTokenWrites(harness, failing);
    await vi.advanceTimersByTimeAsync(ACCESS_TTL_MS - REFRESH_MARGIN_MS);
    await expect.poll(() => harness.logCount(STORE_FAILED)).toBe(1);

    await harness.auth.refresh();
    await expect.poll(() => harness.logCount(STORE_FAILED)).toBe(2);
    failing.value = false;
    // The refresh's write is the second failure in a row, so its retry waits 60 s.
    await vi.advanceTimersByTimeAsync(60_000);

    await expect.poll(() => storedTokens(harness)?.accessToken).toBe(harness.server.tokens.issuedAccess()[2]);
  });
});

describe('sign-out', () => {
  it('revokes and deletes the entry', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    const refreshToken = harness.server.tokens.issuedRefresh()[0];

    await harness.auth.signOut();

    expect(harness.server.count(REVOKE_PATH)).toBe(1);
    expect(harness.server.requests.at(-1)?.body).toEqual({ token: refreshToken, client_id: CLIENT_ID });
    expect(harness.server.tokens.revoked()).toContain(refreshToken);
    expect(harness.store.entries.size).toBe(0);
    expect(harness.auth.isSignedIn).toBe(false);
  });

  it('deletes the entry when revoke fails', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);
    harness.server.inject({ path: REVOKE_PATH, kind: 'drop' });

    await harness.auth.signOut();

    expect(harness.store.entries.size).toBe(0);
  });
});

describe('restore', () => {
  it('restores the stored session after a restart', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);

    const restarted = harness.restart();

    expect(await restarted.restore()).toBe(true);
    expect(restarted.ownerId).toBe(ALICE.ownerId);
    expect(await restarted.getAccessToken()).toBe(harness.server.tokens.issuedAccess()[0]);
    expect(harness.tokenRequests()).toBe(1);
  });

  it('discards a session stored for another server', async () => {
    const harness = await setUp();
    await harness.auth.signInWithJwt(ALICE.jwtCredential);

    const restarted = harness.restart('https://platform.devtest.ringcentral.com');

    expect(await restarted.restore()).toBe(false);
    expect(harness.store.entries.size).toBe(0);
  });

  it('discards an entry that is not a session', async () => {
    const harness = await setUp();
    harness.store.entries.set(CredentialAccount.OAuthTokens, '{"accessToken": 1');

    expect(await harness.auth.restore()).toBe(false);
    expect(harness.store.entries.size).toBe(0);
  });
});
