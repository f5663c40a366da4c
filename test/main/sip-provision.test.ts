import { afterEach, describe, expect, it } from 'vitest';

import { AuthSession } from '../../src/main/auth-session';
import { silentLogger } from '../../src/main/logger';
import {
  createPlatformClient,
  InvalidPlatformResponseError,
  PlatformError,
  PlatformNetworkError,
  type PlatformClient,
} from '../../src/main/platform-client';
import { describeProvisioningFailure, ProvisioningError } from '../../src/main/provisioning-errors';
import { parseSipProvisionResponse, provisionSipProfile, SIP_PROVISION_REQUEST } from '../../src/main/sip-provision';
import { PROVISION_ERRORS, type PlatformServer, type ProvisionErrorCode } from '../bench/platform-server';
import {
  ALICE,
  APP_NAME,
  APP_VERSION,
  CLIENT_ID,
  createClock,
  createMemoryCredentialStore,
  PROVISION_PATH,
  startTestPlatform,
  WSS_ENTRY,
} from './helpers';

let server: PlatformServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Harness {
  server: PlatformServer;
  client: PlatformClient;
  auth: AuthSession;
  /** Headers of every request the client sent, in order. */
  sentHeaders: Headers[];
}

/** Signs Alice in through a client whose `fetch` is wrapped by `wrapFetch`. */
async function signedIn(
  options: { wrapFetch?: (inner: typeof fetch) => typeof fetch; requestTimeoutMs?: number } = {},
): Promise<Harness> {
  const clock = createClock();
  server = await startTestPlatform({ now: clock.now });
  const started = server;
  const sentHeaders: Headers[] = [];

  const recordingFetch: typeof fetch = (input, init) => {
    sentHeaders.push(new Headers(init?.headers));
    return fetch(input, init);
  };
  const client = createPlatformClient({
    fetch: options.wrapFetch?.(recordingFetch) ?? recordingFetch,
    baseUrl: () => started.url,
    appName: APP_NAME,
    appVersion: APP_VERSION,
    now: clock.now,
    logger: silentLogger,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const auth = new AuthSession({
    client,
    credentialStore: createMemoryCredentialStore(),
    clientCredentials: () => ({ clientId: CLIENT_ID, clientSecret: null }),
    baseUrl: () => started.url,
    now: clock.now,
    logger: silentLogger,
  });
  await auth.signInWithJwt(ALICE.jwtCredential);
  return { server: started, client, auth, sentHeaders };
}

async function provisionFailure(harness: Harness): Promise<ProvisioningError> {
  const error = await provisionSipProfile(harness.client, harness.auth).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProvisioningError);
  return error as ProvisioningError;
}

describe('sip-provision against the local platform', () => {
  it('returns the profile of the WSS entry', async () => {
    const harness = await signedIn();

    const profile = await provisionSipProfile(harness.client, harness.auth);

    expect(profile).toEqual({
      username: WSS_ENTRY.username,
      password: WSS_ENTRY.password,
      authorizationId: WSS_ENTRY.authorizationId,
      domain: WSS_ENTRY.domain,
      outboundProxy: WSS_ENTRY.outboundProxy,
      outboundProxyBackup: WSS_ENTRY.outboundProxyBackup,
      switchBackInterval: 1800,
      stunServers: ['127.0.0.1:3478'],
      sipErrorCodes: [408, 502, 503, 504],
      pollingInterval: 7200,
      sipFlags: { voipFeatureEnabled: true, voipCountryBlocked: false, outboundCallsEnabled: true },
      deviceId: `8025${ALICE.ownerId}`,
    });
    const request = harness.server.requests.find((recorded) => recorded.path === PROVISION_PATH);
    expect(request?.body).toEqual(SIP_PROVISION_REQUEST);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(`Bearer ${harness.server.tokens.issuedAccess()[0]}`);
  });

  it('sends X-User-Agent on every request', async () => {
    const harness = await signedIn();
    await provisionSipProfile(harness.client, harness.auth);
    await harness.auth.signOut();

    expect(harness.sentHeaders.length).toBe(3);
    for (const headers of harness.sentHeaders) {
      expect(headers.get('x-user-agent')).toBe('RCSoftphone/0.1.0');
    }
    expect(harness.server.requests.map((request) => request.headers['x-user-agent'])).toEqual(
      Array(3).fill('RCSoftphone/0.1.0'),
    );
  });

  it('gets SPR-122 without identity header', async () => {
    const stripIdentity = (inner: typeof fetch): typeof fetch => (input, init) => {
      const headers = new Headers(init?.headers);
      headers.delete('x-user-agent');
      return inner(input, { ...init, headers });
    };
    const harness = await signedIn({ wrapFetch: stripIdentity });

    const error = await provisionFailure(harness);

    expect(error.cause).toBeInstanceOf(PlatformError);
    expect(error.cause).toMatchObject({ status: 403, errorCode: 'SPR-122' });
    expect(error.userError.code).toBe('SPR-122');
    expect(error.userError.message).toContain('X-User-Agent');
  });

  it('fills defaults for fields the platform leaves out', async () => {
    const harness = await signedIn();
    const bareEntry = {
      transport: 'WSS',
      username: 'u',
      password: 'p',
      authorizationId: 'a',
      domain: 'd',
      outboundProxy: 'o:1',
    };
    harness.server.inject({ path: PROVISION_PATH, status: 200, body: { sipInfo: [bareEntry] } });

    const profile = await provisionSipProfile(harness.client, harness.auth);

    expect(profile).toMatchObject({
      outboundProxyBackup: null,
      switchBackInterval: 3600,
      stunServers: [],
      sipErrorCodes: [408, 502, 503, 504],
      pollingInterval: 7200,
      sipFlags: { voipFeatureEnabled: true, voipCountryBlocked: false, outboundCallsEnabled: true },
      deviceId: null,
    });
  });

  it('reports a user without outbound calls through sipFlags', async () => {
    const harness = await signedIn();
    harness.server.setUser(ALICE.ownerId, { sipFlags: { outboundCallsEnabled: false }, sipErrorCodes: ['503'] });

    const profile = await provisionSipProfile(harness.client, harness.auth);

    expect(profile.sipFlags).toEqual({ voipFeatureEnabled: true, voipCountryBlocked: false, outboundCallsEnabled: false });
    expect(profile.sipErrorCodes).toEqual([503]);
  });
});

describe('documented provisioning errors', () => {
  const expectations: Record<ProvisionErrorCode, RegExp> = {
    'CMN-101': /transport/,
    'SPR-114': /longer than 38/,
    'SPR-118': /not a number/,
    'SPR-129': /incompatible/,
    'SPR-130': /not allowed to use WebRTC/,
    'BIL-103': /WebPhone/,
    'CMN-401': /VoIP Calling/,
    'CMN-402': /permission/,
    'SPR-112': /browser-based/,
    'SPR-122': /X-User-Agent/,
  };

  for (const [code, pattern] of Object.entries(expectations) as [ProvisionErrorCode, RegExp][]) {
    it(`maps ${code} to its own message`, async () => {
      const harness = await signedIn();
      harness.server.setUser(ALICE.ownerId, { provisionError: code });

      const error = await provisionFailure(harness);

      expect(error.cause).toMatchObject({ status: PROVISION_ERRORS[code].status, errorCode: code });
      expect(error.userError.code).toBe(code);
      expect(error.userError.message).toMatch(pattern);
      expect(error.userError.action.length).toBeGreaterThan(20);
    });
  }

  it('maps 429 CMN-301 to a wait', async () => {
    const harness = await signedIn();
    for (let i = 0; i < 10; i += 1) {
      await provisionSipProfile(harness.client, harness.auth);
    }

    const error = await provisionFailure(harness);

    expect(error.cause).toMatchObject({ status: 429, errorCode: 'CMN-301', retryAfterSeconds: 60, rateLimitGroup: 'heavy' });
    expect(error.userError).toMatchObject({ code: 'CMN-301', action: 'Wait 60 seconds, then try again.' });
    expect(error.userError.message).toContain('rate limit group heavy');
  });

  it('reports server errors as a server-side problem', async () => {
    const harness = await signedIn();
    harness.server.inject({ path: PROVISION_PATH, status: 503, body: '<html>Service Unavailable</html>' });

    const error = await provisionFailure(harness);

    expect(error.cause).toMatchObject({ status: 503, errorCode: null });
    expect(error.userError.code).toBe('HTTP-503');
    expect(error.userError.action).toContain('server side');
  });

  it('reports a dropped connection as a network failure', async () => {
    const harness = await signedIn();
    harness.server.inject({ path: PROVISION_PATH, kind: 'drop' });

    const error = await provisionFailure(harness);

    expect(error.cause).toBeInstanceOf(PlatformNetworkError);
    expect(error.userError.code).toBe('NETWORK_ERROR');
    expect(error.userError.message).toContain(harness.server.url);
    expect(error.userError.action).toContain('internet connection');
  });

  it('reports a request timeout', async () => {
    const harness = await signedIn({ requestTimeoutMs: 200 });
    harness.server.inject({ path: PROVISION_PATH, kind: 'delay', ms: 1_000 });

    const error = await provisionFailure(harness);

    expect(error.cause).toBeInstanceOf(PlatformNetworkError);
    expect(error.cause).toMatchObject({ timedOut: true });
    expect(error.userError.code).toBe('NETWORK_TIMEOUT');
    expect(error.userError.message).toContain('timed out');
  });

  it('keeps platform text for unknown codes', async () => {
    const harness = await signedIn();
    harness.server.inject({
      path: PROVISION_PATH,
      status: 400,
      body: { errorCode: 'SPR-999', message: 'Something new went wrong', errors: [] },
    });

    const error = await provisionFailure(harness);

    expect(error.userError.code).toBe('SPR-999');
    expect(error.userError.message).toContain('Something new went wrong');
    expect(error.userError.action).toContain('SPR-999');
  });

  it('finds codes inside errors[]', async () => {
    const harness = await signedIn();
    harness.server.inject({
      path: PROVISION_PATH,
      status: 403,
      body: { error: 'forbidden', error_description: 'Denied', errors: [{ errorCode: 'CMN-401', message: 'Denied' }] },
    });

    const error = await provisionFailure(harness);

    expect(error.cause).toMatchObject({ errorCode: 'forbidden', oauthError: 'forbidden', message: 'Denied' });
    expect(error.userError.code).toBe('CMN-401');
  });
});

describe('malformed sip-provision responses', () => {
  const validEntry = { ...WSS_ENTRY };
  const cases: Record<string, unknown> = {
    'no sipInfo': { device: { id: '1' }, sipFlags: {} },
    'only a UDP entry': { sipInfo: [{ ...validEntry, transport: 'UDP' }] },
    ...Object.fromEntries(
      ['username', 'password', 'authorizationId', 'domain', 'outboundProxy'].flatMap((field) => [
        [`a WSS entry with an empty ${field}`, { sipInfo: [{ ...validEntry, [field]: '' }] }],
        [`a WSS entry without ${field}`, { sipInfo: [{ ...validEntry, [field]: undefined }] }],
      ]),
    ),
    'a WSS entry with a numeric username': { sipInfo: [{ ...validEntry, username: 16505550100 }] },
    'sipInfo that is not an array': { sipInfo: 'WSS' },
    'sipErrorCodes that are not SIP codes': { sipInfo: [validEntry], sipErrorCodes: ['soon'] },
    'a string pollingInterval': { sipInfo: [validEntry], pollingInterval: '7200' },
    'a boolean switchBackInterval in the entry': { sipInfo: [{ ...validEntry, switchBackInterval: true }] },
    'sipFlags with a string flag': { sipInfo: [validEntry], sipFlags: { outboundCallsEnabled: 'no' } },
    'an array body': [validEntry],
    'a null body': null,
  };

  for (const [name, body] of Object.entries(cases)) {
    it(`rejects ${name}`, () => {
      let caught: unknown;
      try {
        parseSipProvisionResponse(body);
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(ProvisioningError);
      const userError = (caught as ProvisioningError).userError;
      expect(userError.code).toBe('INVALID_SIP_PROVISION_RESPONSE');
      expect(userError.message).not.toMatch(/"code":|invalid_type|\[\s*\{/);
      expect(userError.message).not.toContain(WSS_ENTRY.password);
    });
  }

  it('takes the first usable WSS entry', () => {
    const profile = parseSipProvisionResponse({
      sipInfo: [
        { ...validEntry, transport: 'TCP', outboundProxy: 'tcp:5060' },
        { ...validEntry, domain: ' ' },
        { ...validEntry, outboundProxy: 'second:443', extra: { nested: true } },
        { ...validEntry, outboundProxy: 'third:443' },
      ],
      unknownTopLevel: 1,
    });

    expect(profile.outboundProxy).toBe('second:443');
  });

  it('rejects a non-JSON body', async () => {
    const harness = await signedIn();
    harness.server.inject({
      path: PROVISION_PATH,
      status: 200,
      body: '<html>captive portal</html>',
      headers: { 'Content-Type': 'text/html' },
    });

    const error = await provisionFailure(harness);

    expect(error.cause).toBeInstanceOf(InvalidPlatformResponseError);
    expect(error.userError.code).toBe('INVALID_RESPONSE');
    expect(error.userError.message).toContain('text/html');
  });

  it('rejects a response without WSS', async () => {
    const harness = await signedIn();
    harness.server.setUser(ALICE.ownerId, { sipInfo: [{ ...validEntry, transport: 'UDP' }] });

    const error = await provisionFailure(harness);

    expect(error.userError.message).toContain('no sipInfo entry for transport WSS');
  });

  it('describes any ProvisioningError by its user error', () => {
    const error = new ProvisioningError({ code: 'X', message: 'm', action: 'a' });

    expect(describeProvisioningFailure(error)).toEqual({ code: 'X', message: 'm', action: 'a' });
  });
});
