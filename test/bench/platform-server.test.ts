import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';

import { pkceChallenge, provisionError, startPlatformServer } from './platform-server';
import type { PlatformOptions, PlatformServer, PlatformUser } from './platform-server';

const CLIENT_ID = 'benchClientId';
const CLIENT_SECRET = 'benchClientSecret';
const APP_USER_AGENT = 'RCSoftphone/0.1.0 RCJSSDK/5.0.3';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const WSS_ENTRY = {
  transport: 'WSS',
  username: '16505550100*101',
  password: 'Xy12ab',
  authorizationTypes: ['SipDigest'],
  authorizationId: '802512345678',
  domain: 'sip.example.test',
  outboundProxy: '127.0.0.1:5443',
  outboundProxyBackup: '127.0.0.1:5444',
  switchBackInterval: 3600,
  stunServers: ['127.0.0.1:3478'],
};
const TCP_ENTRY = { ...WSS_ENTRY, transport: 'TCP', outboundProxy: '127.0.0.1:5060' };

const ALICE: PlatformUser = {
  ownerId: '101001',
  accountId: '400001',
  extensionNumber: '101',
  name: 'Alice Example',
  jwtCredential: 'alice-jwt-credential',
  sipInfo: [WSS_ENTRY, TCP_ENTRY],
};
const BOB: PlatformUser = {
  ownerId: '102002',
  accountId: '400001',
  extensionNumber: '102',
  name: 'Bob Example',
  jwtCredential: 'bob-jwt-credential',
  sipInfo: [WSS_ENTRY],
};

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  scope: string;
  owner_id: string;
  endpoint_id: string;
}

let server: PlatformServer | undefined;
let clock = 1_700_000_000_000;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(overrides: Partial<PlatformOptions> = {}): Promise<PlatformServer> {
  clock = 1_700_000_000_000;
  server = await startPlatformServer({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    users: [ALICE, BOB],
    now: () => clock,
    ...overrides,
  });
  return server;
}

function basic(id = CLIENT_ID, secret = CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

async function jwtLogin(platform: PlatformServer, user: PlatformUser = ALICE): Promise<TokenBody> {
  const res = await postForm(
    `${platform.url}/restapi/oauth/token`,
    { grant_type: JWT_GRANT, assertion: user.jwtCredential },
    { Authorization: basic() },
  );
  expect(res.status).toBe(200);
  return (await res.json()) as TokenBody;
}

function refresh(platform: PlatformServer, refreshToken: string): Promise<Response> {
  return postForm(
    `${platform.url}/restapi/oauth/token`,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { Authorization: basic() },
  );
}

function provision(
  platform: PlatformServer,
  accessToken: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${platform.url}/restapi/v1.0/client-info/sip-provision`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${accessToken}`,
      'Content-Type': 'application/json',
      'X-User-Agent': APP_USER_AGENT,
      ...options.headers,
    },
    body: JSON.stringify(options.body ?? { sipInfo: [{ transport: 'WSS' }] }),
  });
}

function getExtension(platform: PlatformServer, accessToken: string, path = '/restapi/v1.0/account/~/extension/~'): Promise<Response> {
  return fetch(`${platform.url}${path}`, { headers: { Authorization: `Bearer ${accessToken}` } });
}

describe('token endpoint', () => {
  it('jwt login returns TokenInfo fields', async () => {
    const platform = await start();
    const res = await postForm(
      `${platform.url}/restapi/oauth/token`,
      { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential },
      { Authorization: basic() },
    );
    const body = (await res.json()) as TokenBody;

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.refresh_token_expires_in).toBe(604800);
    expect(body.owner_id).toBe(ALICE.ownerId);
    expect(body.scope).toBe('ReadAccounts VoipCalling');
    expect(body.endpoint_id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(body.access_token.length).toBeGreaterThanOrEqual(64);
    expect(body.refresh_token.length).toBeGreaterThanOrEqual(64);
    expect(body.access_token).not.toBe(body.refresh_token);
    expect(platform.tokens.issuedAccess()).toEqual([body.access_token]);
    expect(platform.tokens.issuedRefresh()).toEqual([body.refresh_token]);
  });

  it('issues distinct tokens per login', async () => {
    const platform = await start();
    const first = await jwtLogin(platform);
    const second = await jwtLogin(platform);

    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
  });

  it('rejects an unknown jwt credential', async () => {
    const platform = await start();
    const res = await postForm(
      `${platform.url}/restapi/oauth/token`,
      { grant_type: JWT_GRANT, assertion: 'not-a-known-credential' },
      { Authorization: basic() },
    );
    const body = (await res.json()) as { error: string; errors: { errorCode: string }[] };

    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    expect(body.errors[0]?.errorCode).toBe('OAU-140');
  });

  it('rejects a wrong client secret', async () => {
    const platform = await start();
    const res = await postForm(
      `${platform.url}/restapi/oauth/token`,
      { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential },
      { Authorization: basic(CLIENT_ID, 'wrong-secret') },
    );
    const body = (await res.json()) as { error: string; errors: { errorCode: string }[] };

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(body.error).toBe('invalid_client');
    expect(body.errors[0]?.errorCode).toBe('OAU-146');
  });

  it('rejects a missing client authentication', async () => {
    const platform = await start();
    const res = await postForm(`${platform.url}/restapi/oauth/token`, { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential });
    const body = (await res.json()) as { error: string; errors: { errorCode: string }[] };

    expect(res.status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(body.errors[0]?.errorCode).toBe('OAU-153');
  });

  it('rejects a JSON body', async () => {
    const platform = await start();
    const res = await fetch(`${platform.url}/restapi/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: basic() },
      body: JSON.stringify({ grant_type: JWT_GRANT, assertion: ALICE.jwtCredential }),
    });
    const body = (await res.json()) as { error: string };

    expect(res.status).toBe(415);
    expect(body.error).toBe('invalid_request');
    expect(platform.tokens.issuedAccess()).toEqual([]);
  });

  it('rejects unknown and disabled grant types', async () => {
    const platform = await start({ grantTypes: ['authorization_code', 'refresh_token'] });
    const unknown = await postForm(`${platform.url}/restapi/oauth/token`, { grant_type: 'magic' }, { Authorization: basic() });
    const disabled = await postForm(
      `${platform.url}/restapi/oauth/token`,
      { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential },
      { Authorization: basic() },
    );
    const unknownBody = (await unknown.json()) as { error: string; errors: { errorCode: string }[] };
    const disabledBody = (await disabled.json()) as { error: string; errors: { errorCode: string }[] };

    expect(unknown.status).toBe(400);
    expect(unknownBody.error).toBe('invalid_request');
    expect(unknownBody.errors[0]?.errorCode).toBe('OAU-250');
    expect(disabled.status).toBe(400);
    expect(disabledBody.error).toBe('unauthorized_client');
    expect(disabledBody.errors[0]?.errorCode).toBe('OAU-251');
  });

  it('rejects duplicated parameters', async () => {
    const platform = await start();
    const res = await fetch(`${platform.url}/restapi/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic() },
      body: `grant_type=${encodeURIComponent(JWT_GRANT)}&assertion=a&assertion=b`,
    });
    const body = (await res.json()) as { errors: { errorCode: string }[] };

    expect(res.status).toBe(400);
    expect(body.errors[0]?.errorCode).toBe('OAU-111');
  });
});

describe('refresh and revoke', () => {
  it('refresh rotates and rejects the old refresh token', async () => {
    const platform = await start();
    const first = await jwtLogin(platform);

    const rotated = await refresh(platform, first.refresh_token);
    const second = (await rotated.json()) as TokenBody;
    expect(rotated.status).toBe(200);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.endpoint_id).toBe(first.endpoint_id);

    const reused = await refresh(platform, first.refresh_token);
    const reusedBody = (await reused.json()) as { error: string; errors: { errorCode: string; message: string }[] };
    expect(reused.status).toBe(400);
    expect(reusedBody.error).toBe('invalid_grant');
    expect(reusedBody.errors[0]?.errorCode).toBe('OAU-213');

    const oldAccess = await getExtension(platform, first.access_token);
    expect(oldAccess.status).toBe(401);
    expect(((await oldAccess.json()) as { errorCode: string }).errorCode).toBe('TokenInvalid');

    const newAccess = await getExtension(platform, second.access_token);
    expect(newAccess.status).toBe(200);
    expect(platform.tokens.revoked()).toEqual(expect.arrayContaining([first.access_token, first.refresh_token]));
  });

  it('expired access token gets 401 TokenExpired', async () => {
    const platform = await start();
    const tokens = await jwtLogin(platform);

    clock += 3600 * 1000;
    const res = await getExtension(platform, tokens.access_token);
    const body = (await res.json()) as { errorCode: string; errors: { errorCode: string }[] };

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="RingCentral REST API"');
    expect(body.errorCode).toBe('TokenExpired');
    expect(body.errors[0]?.errorCode).toBe('OAU-128');

    const renewed = await refresh(platform, tokens.refresh_token);
    expect(renewed.status).toBe(200);
  });

  it('expired refresh token gets OAU-210', async () => {
    const platform = await start();
    const tokens = await jwtLogin(platform);

    clock += 604800 * 1000;
    const res = await refresh(platform, tokens.refresh_token);
    const body = (await res.json()) as { error: string; errors: { errorCode: string }[] };

    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    expect(body.errors[0]?.errorCode).toBe('OAU-210');
  });

  it('honours a shorter requested token lifetime', async () => {
    const platform = await start();
    const res = await postForm(
      `${platform.url}/restapi/oauth/token`,
      { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential, access_token_ttl: '600', refresh_token_ttl: '99999999' },
      { Authorization: basic() },
    );
    const body = (await res.json()) as TokenBody;

    expect(body.expires_in).toBe(600);
    expect(body.refresh_token_expires_in).toBe(604800);
  });

  it('revoke makes the pair unusable', async () => {
    const platform = await start();
    const tokens = await jwtLogin(platform);

    const revoke = await postForm(`${platform.url}/restapi/oauth/revoke`, { token: tokens.access_token }, { Authorization: basic() });
    expect(revoke.status).toBe(200);
    expect(await revoke.text()).toBe('');

    const api = await getExtension(platform, tokens.access_token);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { errors: { errorCode: string }[] }).errors[0]?.errorCode).toBe('OAU-213');

    const renewed = await refresh(platform, tokens.refresh_token);
    expect(renewed.status).toBe(400);
    expect(((await renewed.json()) as { error: string }).error).toBe('invalid_grant');

    expect(platform.tokens.revoked()).toEqual(expect.arrayContaining([tokens.access_token, tokens.refresh_token]));
  });

  it('revokeSessions ends a user session', async () => {
    const platform = await start();
    const tokens = await jwtLogin(platform);

    platform.revokeSessions(ALICE.ownerId);
    const res = await refresh(platform, tokens.refresh_token);

    expect(res.status).toBe(400);
  });
});

describe('authorization code with PKCE', () => {
  const REDIRECT_URI = 'http://127.0.0.1:53682/oauth/callback';

  function newVerifier(): string {
    return randomBytes(32).toString('base64url');
  }

  async function authorize(platform: PlatformServer, params: Record<string, string>): Promise<Response> {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      state: 'state-123',
      code_challenge_method: 'S256',
      ...params,
    });
    return fetch(`${platform.url}/restapi/oauth/authorize?${query.toString()}`, { redirect: 'manual' });
  }

  async function codeFor(platform: PlatformServer, verifier: string): Promise<string> {
    const res = await authorize(platform, { code_challenge: pkceChallenge(verifier) });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  }

  function exchange(platform: PlatformServer, code: string, verifier: string, headers: Record<string, string> = {}): Promise<Response> {
    return postForm(
      `${platform.url}/restapi/oauth/token`,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: CLIENT_ID },
      headers,
    );
  }

  it('authorize redirects with code and state', async () => {
    const platform = await start({ clientSecret: undefined });
    const res = await authorize(platform, { code_challenge: pkceChallenge(newVerifier()) });
    const location = new URL(res.headers.get('location')!);

    expect(res.status).toBe(302);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{32,}$/);
  });

  it('exchanges code with the right verifier', async () => {
    const platform = await start({ clientSecret: undefined, authorizeAs: BOB.ownerId });
    const verifier = newVerifier();
    const code = await codeFor(platform, verifier);

    const res = await exchange(platform, code, verifier);
    const body = (await res.json()) as TokenBody;

    expect(res.status).toBe(200);
    expect(body.owner_id).toBe(BOB.ownerId);
    expect((await getExtension(platform, body.access_token)).status).toBe(200);
  });

  it('rejects a wrong verifier', async () => {
    const platform = await start({ clientSecret: undefined });
    const code = await codeFor(platform, newVerifier());

    const res = await exchange(platform, code, newVerifier());
    const body = (await res.json()) as { error: string };

    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('rejects code reuse and revokes its tokens', async () => {
    const platform = await start({ clientSecret: undefined });
    const verifier = newVerifier();
    const code = await codeFor(platform, verifier);

    const first = await exchange(platform, code, verifier);
    const tokens = (await first.json()) as TokenBody;
    expect(first.status).toBe(200);

    const second = await exchange(platform, code, verifier);
    const body = (await second.json()) as { error: string; errors: { errorCode: string }[] };
    expect(second.status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    expect(body.errors[0]?.errorCode).toBe('OAU-106');
    expect((await getExtension(platform, tokens.access_token)).status).toBe(401);
  });

  it('rejects an expired code', async () => {
    const platform = await start({ clientSecret: undefined });
    const verifier = newVerifier();
    const code = await codeFor(platform, verifier);

    clock += 60_000;
    const res = await exchange(platform, code, verifier);
    const body = (await res.json()) as { errors: { errorCode: string }[] };

    expect(res.status).toBe(400);
    expect(body.errors[0]?.errorCode).toBe('OAU-108');
  });

  it('rejects a redirect_uri mismatch', async () => {
    const platform = await start({ clientSecret: undefined });
    const verifier = newVerifier();
    const code = await codeFor(platform, verifier);

    const res = await postForm(`${platform.url}/restapi/oauth/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:9/other',
      code_verifier: verifier,
      client_id: CLIENT_ID,
    });
    const body = (await res.json()) as { errors: { errorCode: string }[] };

    expect(res.status).toBe(400);
    expect(body.errors[0]?.errorCode).toBe('OAU-109');
  });

  it('public client may not use Basic auth', async () => {
    const platform = await start({ clientSecret: undefined });
    const verifier = newVerifier();
    const code = await codeFor(platform, verifier);

    const res = await exchange(platform, code, verifier, { Authorization: basic(CLIENT_ID, '') });
    const body = (await res.json()) as { error: string };

    expect(res.status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('authorize rejects a non-S256 challenge method', async () => {
    const platform = await start({ clientSecret: undefined });
    const res = await authorize(platform, { code_challenge: pkceChallenge(newVerifier()), code_challenge_method: 'plain' });
    const location = new URL(res.headers.get('location')!);

    expect(res.status).toBe(302);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('authorize requires PKCE from a public client', async () => {
    const platform = await start({ clientSecret: undefined });
    const res = await authorize(platform, {});

    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('authorize refuses a non-loopback redirect_uri', async () => {
    const platform = await start({ clientSecret: undefined });

    for (const redirectUri of ['https://example.com/cb', 'http://localhost:8080/cb', 'http://127.0.0.1:8080/cb#frag']) {
      const res = await authorize(platform, { code_challenge: pkceChallenge(newVerifier()), redirect_uri: redirectUri });
      expect(res.status, redirectUri).toBe(400);
      expect(res.headers.get('location'), redirectUri).toBeNull();
    }
  });

  it('authorize reports a denied consent', async () => {
    const platform = await start({ clientSecret: undefined });
    platform.setAuthorizeAs(null);

    const res = await authorize(platform, { code_challenge: pkceChallenge(newVerifier()) });

    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });
});

describe('sip-provision', () => {
  it('returns the WSS provisioning data', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);

    const res = await provision(platform, access_token);
    const body = (await res.json()) as {
      device: { id: string; type: string };
      sipInfo: { transport: string }[];
      sipFlags: { outboundCallsEnabled: boolean };
      sipErrorCodes: string[];
      pollingInterval: number;
    };

    expect(res.status).toBe(200);
    expect(body.sipInfo).toEqual([WSS_ENTRY]);
    expect(body.sipFlags.outboundCallsEnabled).toBe(true);
    expect(body.sipErrorCodes).toEqual(['408', '502', '503', '504']);
    expect(body.pollingInterval).toBe(7200);
    expect(body.device.id).toMatch(/^\d+$/);
    expect(res.headers.get('x-rate-limit-group')).toBe('heavy');
    expect(res.headers.get('x-rate-limit-limit')).toBe('10');
    expect(res.headers.get('x-rate-limit-remaining')).toBe('9');
    expect(res.headers.get('x-rate-limit-window')).toBe('60');
  });

  it('missing app version gets 403 SPR-122', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);

    // fetch sends "User-Agent: node" by default, which carries no version.
    const withoutHeader = await fetch(`${platform.url}/restapi/v1.0/client-info/sip-provision`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sipInfo: [{ transport: 'WSS' }] }),
    });
    const withoutVersion = await provision(platform, access_token, { headers: { 'X-User-Agent': 'RCSoftphone RCJSSDK/5.0.3' } });

    expect(withoutHeader.status).toBe(403);
    expect(await withoutHeader.json()).toEqual(provisionError('SPR-122').body);
    expect(withoutVersion.status).toBe(403);
    expect(((await withoutVersion.json()) as { errorCode: string }).errorCode).toBe('SPR-122');
  });

  it('accepts the app version in User-Agent', async () => {
    const platform = await start({ appName: 'RCSoftphone' });
    const { access_token } = await jwtLogin(platform);

    const res = await provision(platform, access_token, {
      headers: { 'X-User-Agent': '', 'User-Agent': 'Mozilla/5.0 Chrome/130.0.6723.91 Electron/38.2.0 RCSoftphone/0.1.0-beta.1' },
    });
    const otherApp = await provision(platform, access_token, { headers: { 'X-User-Agent': 'OtherApp/1.0.0' } });

    expect(res.status).toBe(200);
    expect(otherApp.status).toBe(403);
  });

  it('rejects invalid request bodies', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);
    const cases: { body: unknown; status: number; code: string }[] = [
      { body: { sipInfo: [{ transport: 'WS' }] }, status: 400, code: 'CMN-101' },
      { body: { sipInfo: [{ transport: 'WSS' }], device: { id: '1'.repeat(39) } }, status: 400, code: 'SPR-114' },
      { body: { sipInfo: [{ transport: 'WSS' }], device: { id: '12ab' } }, status: 400, code: 'SPR-118' },
      { body: { sipInfo: [{ transport: 'WSS' }, { transport: 'TCP' }] }, status: 400, code: 'SPR-129' },
      { body: {}, status: 400, code: 'CMN-101' },
    ];

    for (const { body, status, code } of cases) {
      const res = await provision(platform, access_token, { body });
      const error = (await res.json()) as { errorCode: string; errors: { errorCode: string }[] };
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(error.errorCode, JSON.stringify(body)).toBe(code);
      expect(error.errors[0]?.errorCode, JSON.stringify(body)).toBe(code);
    }
  });

  it('answers 429 after the tenth call in the window', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);

    for (let call = 1; call <= 10; call++) {
      const res = await provision(platform, access_token);
      expect(res.status, `call ${call}`).toBe(200);
      expect(res.headers.get('x-rate-limit-remaining'), `call ${call}`).toBe(String(10 - call));
    }

    const limited = await provision(platform, access_token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.headers.get('x-rate-limit-group')).toBe('heavy');
    expect(limited.headers.get('x-rate-limit-limit')).toBe('10');
    expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(limited.headers.get('x-rate-limit-window')).toBe('60');
    expect(await limited.json()).toEqual({
      errorCode: 'CMN-301',
      message: 'Request rate exceeded',
      errors: [{ errorCode: 'CMN-301', message: 'Request rate exceeded' }],
    });

    clock += 30_000;
    const stillLimited = await provision(platform, access_token);
    expect(stillLimited.status).toBe(429);
    expect(stillLimited.headers.get('retry-after')).toBe('30');

    clock += 30_000;
    expect((await provision(platform, access_token)).status).toBe(200);
  });

  it('counts the limit per user', async () => {
    const platform = await start();
    const alice = await jwtLogin(platform, ALICE);
    const bob = await jwtLogin(platform, BOB);

    for (let call = 1; call <= 10; call++) await provision(platform, alice.access_token);

    expect((await provision(platform, alice.access_token)).status).toBe(429);
    expect((await provision(platform, bob.access_token)).status).toBe(200);
  });

  it('setUser changes the data between calls', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);
    const changedEntry = { ...WSS_ENTRY, outboundProxy: '127.0.0.1:6443' };

    platform.setUser(ALICE.ownerId, { sipInfo: [changedEntry], sipFlags: { outboundCallsEnabled: false } });
    const changed = (await (await provision(platform, access_token)).json()) as { sipInfo: object[]; sipFlags: object };
    expect(changed.sipInfo).toEqual([changedEntry]);
    expect(changed.sipFlags).toEqual({ outboundCallsEnabled: false });

    platform.setUser(ALICE.ownerId, { provisionError: 'BIL-103' });
    const failed = await provision(platform, access_token);
    expect(failed.status).toBe(403);
    expect(((await failed.json()) as { errorCode: string }).errorCode).toBe('BIL-103');
  });

  it('requires the VoipCalling permission', async () => {
    const platform = await start({ scope: 'ReadAccounts' });
    const { access_token } = await jwtLogin(platform);

    const res = await provision(platform, access_token);

    expect(res.status).toBe(403);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('CMN-401');
  });
});

describe('REST API basics', () => {
  it('extension info has the documented shape', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);

    const res = await getExtension(platform, access_token);
    const byId = await getExtension(platform, access_token, `/restapi/v1.0/account/${ALICE.accountId}/extension/${ALICE.ownerId}`);
    const body = (await res.json()) as Record<string, unknown>;

    expect(res.status).toBe(200);
    expect(res.headers.get('x-rate-limit-group')).toBe('light');
    expect(body).toMatchObject({
      id: 101001,
      extensionNumber: '101',
      name: 'Alice Example',
      type: 'User',
      status: 'Enabled',
      contact: { firstName: 'Alice', lastName: 'Example', email: 'alice.example@example.com' },
      account: { id: ALICE.accountId },
    });
    expect(body.uri).toBe(`${platform.url}/restapi/v1.0/account/400001/extension/101001`);
    expect(byId.status).toBe(200);
  });

  it('missing Authorization gets AGW-401', async () => {
    const platform = await start();
    const res = await fetch(`${platform.url}/restapi/v1.0/account/~/extension/~`);
    const body = (await res.json()) as { errorCode: string };

    expect(res.status).toBe(401);
    expect(body.errorCode).toBe('AGW-401');
  });

  it('refresh token is not a bearer token', async () => {
    const platform = await start();
    const tokens = await jwtLogin(platform);

    const res = await getExtension(platform, tokens.refresh_token);

    expect(res.status).toBe(401);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('TokenInvalid');
  });

  it('unknown path gets 404 and wrong method 405', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);

    const missing = await getExtension(platform, access_token, '/restapi/v1.0/account/~/no-such-thing');
    const wrongMethod = await fetch(`${platform.url}/restapi/v1.0/client-info/sip-provision`, {
      headers: { Authorization: `Bearer ${access_token}` },
    });

    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errorCode: string }).errorCode).toBe('AGW-404');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});

describe('injected faults', () => {
  it('status fault answers the next calls', async () => {
    const platform = await start();
    const body = { errorCode: 'CMN-201', message: 'Service Temporary Unavailable', errors: [] };
    platform.inject({ path: '/restapi/oauth/token', times: 2, status: 503, body, headers: { 'Retry-After': '5' } });

    const first = await postForm(`${platform.url}/restapi/oauth/token`, { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential }, { Authorization: basic() });
    const second = await postForm(`${platform.url}/restapi/oauth/token`, { grant_type: JWT_GRANT, assertion: ALICE.jwtCredential }, { Authorization: basic() });
    await jwtLogin(platform);

    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('5');
    expect(await first.json()).toEqual(body);
    expect(second.status).toBe(503);
    expect(platform.count('/restapi/oauth/token')).toBe(3);
    expect(platform.requests.map((r) => r.fault)).toEqual(['status', 'status', undefined]);
    expect(platform.requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(platform.requests[0]?.body).toEqual({ grant_type: JWT_GRANT, assertion: ALICE.jwtCredential });
  });

  it('drop fault closes the socket unanswered', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);
    platform.inject({ path: '/restapi/v1.0/client-info/sip-provision', kind: 'drop' });

    await expect(provision(platform, access_token)).rejects.toThrow();
    expect((await provision(platform, access_token)).status).toBe(200);

    const provisionCalls = platform.requests.filter((r) => r.path === '/restapi/v1.0/client-info/sip-provision');
    expect(provisionCalls.map((r) => [r.fault, r.status])).toEqual([['drop', null], [undefined, 200]]);
  });

  it('delay fault holds the answer', async () => {
    const platform = await start();
    const { access_token } = await jwtLogin(platform);
    platform.inject({ path: '/restapi/v1.0/account/~/extension/~', kind: 'delay', ms: 300 });

    const started = performance.now();
    const res = await getExtension(platform, access_token);
    const elapsed = performance.now() - started;

    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(platform.requests.at(-1)?.fault).toBe('delay');
  });

  it('clearFaults and method filter', async () => {
    const platform = await start();
    platform.inject({ path: '/restapi/oauth/token', method: 'GET', status: 500 });
    platform.inject({ path: '/restapi/oauth/token', times: Infinity, status: 502 });
    platform.clearFaults();

    await jwtLogin(platform);

    platform.inject({ path: '/restapi/oauth/token', method: 'GET', status: 500 });
    await jwtLogin(platform);

    expect(platform.requests.every((r) => r.fault === undefined)).toBe(true);
  });
});
