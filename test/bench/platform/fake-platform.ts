/** The platform stand-in's state and request handlers: dispatch, fault injection, OAuth and REST endpoints. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { API_AUTH_CHALLENGE, API_AUTH_ERRORS, oauthError, platformError, provisionError, TOKEN_NOT_FOUND } from './errors';
import {
  duplicateParameter,
  findAppVersion,
  htmlErrorPage,
  mediaType,
  parseBody,
  readBody,
  send,
  sendError,
  type ParsedRequest,
} from './http';
import {
  ALL_GRANTS,
  AUTHORIZATION_CODE_TTL_MS,
  CODE_VERIFIER,
  isLoopbackRedirect,
  JWT_BEARER,
  KNOWN_GRANTS,
  pkceChallenge,
  S256_CHALLENGE,
  TokenStore,
  type AuthorizationCode,
  type TokenPair,
} from './oauth';
import { RateLimiter, type RateLimitGroup } from './rate-limiter';
import type {
  ErrorResponse,
  GrantType,
  OAuthErrorBody,
  PlatformErrorBody,
  PlatformFault,
  PlatformOptions,
  PlatformUser,
  RecordedRequest,
} from './types';

const SIP_TRANSPORTS = new Set(['UDP', 'TCP', 'TLS', 'WSS']);

const DEFAULT_SIP_FLAGS = {
  voipFeatureEnabled: true,
  voipCountryBlocked: false,
  outboundCallsEnabled: true,
  dscpEnabled: true,
  dscpSignaling: 26,
  dscpVoice: 46,
  dscpVideo: 34,
};
const DEFAULT_SIP_ERROR_CODES = ['408', '502', '503', '504'];
const DEFAULT_POLLING_INTERVAL = 7200;

type Handler = (request: ParsedRequest) => void | Promise<void>;

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

interface QueuedFault {
  fault: PlatformFault;
  remaining: number;
}

interface ClientCheck {
  ok: boolean;
  error?: ErrorResponse<OAuthErrorBody>;
  headers?: Record<string, string>;
}

export class FakePlatform {
  readonly requests: RecordedRequest[] = [];
  readonly tokens = new TokenStore();
  url = '';

  private readonly users = new Map<string, PlatformUser>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly faults: QueuedFault[] = [];
  private readonly rateLimiter: RateLimiter;
  private readonly now: () => number;
  private readonly accessTtl: number;
  private readonly refreshTtl: number;
  private readonly scope: string;
  private readonly grantTypes: Set<GrantType>;
  private authorizeAs: string | null;
  readonly pendingDelays = new Set<NodeJS.Timeout>();

  private readonly routes: Route[] = [
    { pattern: /^\/restapi\/oauth\/token$/, methods: { POST: (r) => this.handleToken(r) } },
    { pattern: /^\/restapi\/oauth\/authorize$/, methods: { GET: (r) => this.handleAuthorize(r) } },
    { pattern: /^\/restapi\/oauth\/revoke$/, methods: { POST: (r) => this.handleRevoke(r) } },
    { pattern: /^\/restapi\/v1\.0\/client-info\/sip-provision$/, methods: { POST: (r) => this.handleSipProvision(r) } },
    {
      pattern: /^\/restapi\/v1\.0\/account\/([^/]+)\/extension\/([^/]+)$/,
      methods: { GET: (r) => this.handleExtensionInfo(r) },
    },
  ];

  constructor(private readonly options: PlatformOptions) {
    if (!options.clientId) throw new Error('PlatformOptions.clientId is required');
    if (options.users.length === 0) throw new Error('PlatformOptions.users needs at least one user');

    const credentials = new Set<string>();
    for (const user of options.users) {
      if (!/^\d+$/.test(user.ownerId) || !/^\d+$/.test(user.accountId)) {
        throw new Error(`User ${user.name}: ownerId and accountId must be numeric strings, as RingCentral ids are`);
      }
      if (credentials.has(user.jwtCredential)) {
        throw new Error(`User ${user.ownerId}: jwtCredential is shared with another user`);
      }
      credentials.add(user.jwtCredential);
      this.users.set(user.ownerId, structuredClone(user));
    }

    this.now = options.now ?? Date.now;
    this.rateLimiter = new RateLimiter(this.now);
    this.accessTtl = options.accessTokenTtl ?? 3600;
    this.refreshTtl = options.refreshTokenTtl ?? 604800;
    this.scope = options.scope ?? 'ReadAccounts VoipCalling';
    this.grantTypes = new Set(options.grantTypes ?? ALL_GRANTS);
    this.authorizeAs = options.authorizeAs ?? options.users[0]!.ownerId;
    this.requireUser(this.authorizeAs);
  }

  // --- test controls ---

  requireUser(ownerId: string): PlatformUser {
    const user = this.users.get(ownerId);
    if (!user) throw new Error(`No platform user with ownerId ${ownerId}`);
    return user;
  }

  setUser(ownerId: string, patch: Partial<Omit<PlatformUser, 'ownerId'>>): void {
    const user = this.requireUser(ownerId);
    this.users.set(ownerId, { ...user, ...structuredClone(patch), ownerId });
  }

  setAuthorizeAs(ownerId: string | null): void {
    if (ownerId !== null) this.requireUser(ownerId);
    this.authorizeAs = ownerId;
  }

  inject(fault: PlatformFault): void {
    this.faults.push({ fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  // --- dispatch ---

  async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: undefined,
      status: null,
      time: this.now(),
    };
    this.requests.push(record);

    const rawBody = await readBody(req);
    const request: ParsedRequest = {
      req,
      res,
      method,
      path: url.pathname,
      query: url.searchParams,
      rawBody: rawBody ?? '',
      record,
    };
    if (rawBody === null) {
      sendError(request, platformError(413, 'CMN-104', 'Cannot parse request'));
      return;
    }
    record.body = parseBody(req, rawBody);

    const fault = this.takeFault(method, url.pathname);
    if (fault && 'status' in fault) {
      record.fault = 'status';
      send(request, fault.status, fault.body, fault.headers);
      return;
    }
    if (fault && fault.kind === 'drop') {
      record.fault = 'drop';
      req.socket.destroy();
      return;
    }
    if (fault && fault.kind === 'delay') {
      record.fault = 'delay';
      await this.sleep(fault.ms);
      if (res.destroyed) return;
    }

    await this.route(request);
  }

  private takeFault(method: string, path: string): PlatformFault | undefined {
    const queued = this.faults.find(
      ({ fault, remaining }) =>
        remaining > 0 && fault.path === path && (fault.method === undefined || fault.method.toUpperCase() === method),
    );
    if (!queued) return undefined;

    queued.remaining -= 1;
    if (queued.remaining <= 0) this.faults.splice(this.faults.indexOf(queued), 1);
    return queued.fault;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.pendingDelays.add(timer);
    });
  }

  private async route(request: ParsedRequest): Promise<void> {
    const route = this.routes.find(({ pattern }) => pattern.test(request.path));

    // Unknown paths: the API gateway returns AGW-404 "Resource not found" (seen in logged live
    // responses). NOTE: the error table also lists 404 CMN-120 "Invalid URI"; which one a given
    // path gets on the live platform is unconfirmed.
    if (!route) {
      sendError(request, platformError(404, 'AGW-404', 'Resource not found'));
      return;
    }

    const handler = route.methods[request.method];
    if (!handler) {
      // NOTE: AGW-405 is a guess; RFC 9110 section 15.5.6 requires the Allow header on a 405.
      const allow = Object.keys(route.methods).join(', ');
      sendError(request, platformError(405, 'AGW-405', `Method ${request.method} not allowed`), { Allow: allow });
      return;
    }

    await handler(request);
  }

  // --- OAuth: client authentication ---

  /**
   * Checks client authentication on the token and revoke endpoints. A confidential app must use
   * HTTP Basic `client_id:client_secret` (RFC 6749 section 2.3.1), as RingCentral's SDKs do. A public
   * app sends `client_id` in the body and no secret.
   * NOTE: RingCentral may also accept client_secret in the body; this server rejects it so that the
   * app keeps the secret out of request bodies. A public app that sends Basic with an empty secret
   * is rejected as an invalid client, as developers have reported the platform doing.
   */
  private authenticateClient(request: ParsedRequest, form: URLSearchParams): ClientCheck {
    const header = request.req.headers.authorization;
    const bodyClientId = form.get('client_id');
    const invalidClient = (status: number, clientId: string): ClientCheck => ({
      ok: false,
      error: oauthError(status, 'invalid_client', 'OAU-153', `Invalid client: ${clientId}`, {
        parameters: [{ parameterName: 'client_id', parameterValue: clientId }],
      }),
      headers: status === 401 ? { 'WWW-Authenticate': 'Basic realm="RingCentral"' } : {},
    });

    if (form.has('client_secret')) {
      return invalidClient(400, bodyClientId ?? '');
    }

    let basic: { id: string; secret: string } | undefined;
    if (header !== undefined) {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0) {
        return {
          ok: false,
          error: oauthError(401, 'invalid_client', 'OAU-123', `Invalid Authorization header value: ${header.split(/\s+/)[0]}`),
          headers: { 'WWW-Authenticate': 'Basic realm="RingCentral"' },
        };
      }
      basic = { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
    }

    const { clientId, clientSecret } = this.options;

    if (clientSecret === undefined) {
      if (basic) return invalidClient(401, basic.id);
      if (bodyClientId !== clientId) return invalidClient(400, bodyClientId ?? '');
      return { ok: true };
    }

    if (!basic) return invalidClient(401, bodyClientId ?? '');
    if (basic.id !== clientId) return invalidClient(401, basic.id);
    if (basic.secret !== clientSecret) {
      return {
        ok: false,
        error: oauthError(401, 'invalid_client', 'OAU-146', 'Invalid client credentials'),
        headers: { 'WWW-Authenticate': 'Basic realm="RingCentral"' },
      };
    }
    if (bodyClientId !== null && bodyClientId !== clientId) return invalidClient(400, bodyClientId);
    return { ok: true };
  }

  /** Parses a form body, or sends the error response and returns undefined when the body is not an acceptable form. */
  private readForm(request: ParsedRequest): URLSearchParams | undefined {
    if (mediaType(request.req) !== 'application/x-www-form-urlencoded') {
      // NOTE: the live platform's response to a JSON body here is unconfirmed; 415 names the problem.
      const type = request.req.headers['content-type'] ?? 'none';
      const message = `Cannot parse request: Content-Type ${type} is not application/x-www-form-urlencoded`;
      sendError(request, oauthError(415, 'invalid_request', 'CMN-104', message));
      return undefined;
    }

    const form = new URLSearchParams(request.rawBody);
    const duplicate = duplicateParameter(form);
    if (duplicate !== undefined) {
      const message = `Request parameter duplication detected: ${duplicate}`;
      sendError(request, oauthError(400, 'invalid_request', 'OAU-111', message));
      return undefined;
    }
    return form;
  }

  /**
   * Parses a form body and authenticates the client that sent it. Sends the
   * error response and returns undefined when either check fails.
   */
  private readClientForm(request: ParsedRequest): URLSearchParams | undefined {
    const form = this.readForm(request);
    if (!form) return undefined;

    const client = this.authenticateClient(request, form);
    if (!client.ok) {
      sendError(request, client.error!, client.headers);
      return undefined;
    }
    return form;
  }

  // --- OAuth: token endpoint ---

  private handleToken(request: ParsedRequest): void {
    const form = this.readClientForm(request);
    if (!form) return;

    const grantType = form.get('grant_type') ?? '';
    if (!KNOWN_GRANTS.has(grantType)) {
      sendError(request, oauthError(400, 'invalid_request', 'OAU-250', 'Unsupported grant type'));
      return;
    }
    if (!this.grantTypes.has(grantType as GrantType)) {
      sendError(request, oauthError(400, 'unauthorized_client', 'OAU-251', 'Unauthorized for this grant type'));
      return;
    }

    if (grantType === JWT_BEARER) this.grantJwt(request, form);
    else if (grantType === 'authorization_code') this.grantAuthorizationCode(request, form);
    else this.grantRefresh(request, form);
  }

  private grantJwt(request: ParsedRequest, form: URLSearchParams): void {
    const assertion = form.get('assertion') ?? '';
    const user = [...this.users.values()].find((candidate) => candidate.jwtCredential === assertion);

    if (!user) {
      // NOTE: the OAU code the live platform sends for an unknown or expired JWT credential is
      // unconfirmed; OAU-140 is the documented code for invalid resource owner credentials.
      sendError(request, oauthError(400, 'invalid_grant', 'OAU-140', 'Invalid resource owner credentials.'));
      return;
    }

    this.sendNewSession(request, form, user.ownerId);
  }

  private grantAuthorizationCode(request: ParsedRequest, form: URLSearchParams): void {
    const codeValue = form.get('code') ?? '';
    const code = this.codes.get(codeValue);
    const fail = (errorCode: string, message: string) =>
      sendError(request, oauthError(400, 'invalid_grant', errorCode, message));

    // The error table lists OAU-106, OAU-108, OAU-109 and OAU-110 with HTTP 403; live bodies for
    // OAU-109 carry error "invalid_grant", and RFC 6749 section 5.2 puts invalid_grant on 400.
    if (!code) {
      fail('OAU-106', 'Invalid authorization code');
      return;
    }

    // RFC 6749 section 4.1.2: a code presented twice is refused and the tokens issued from it
    // SHOULD be revoked. Every presentation uses the code up, including one that fails below.
    if (code.used) {
      if (code.sessionId !== undefined) this.tokens.revokeSession(code.sessionId);
      fail('OAU-106', 'Invalid authorization code');
      return;
    }
    code.used = true;

    if (this.now() >= code.expiresAt) {
      fail('OAU-108', 'Authorization code is expired');
      return;
    }
    if (code.clientId !== this.options.clientId) {
      fail('OAU-110', 'Authorization code was not issued for this application');
      return;
    }
    if (form.get('redirect_uri') !== code.redirectUri) {
      fail('OAU-109', 'Redirect URIs do not match');
      return;
    }

    if (code.codeChallenge !== null) {
      const verifier = form.get('code_verifier') ?? '';
      if (!CODE_VERIFIER.test(verifier) || pkceChallenge(verifier) !== code.codeChallenge) {
        // NOTE: the OAU code for a PKCE verifier mismatch is unconfirmed; OAU-106 is the documented
        // invalid-authorization-code error, and RFC 7636 section 4.6 requires invalid_grant.
        fail('OAU-106', 'Invalid authorization code: code_verifier does not match the code_challenge');
        return;
      }
    }

    code.sessionId = this.sendNewSession(request, form, code.ownerId);
  }

  private grantRefresh(request: ParsedRequest, form: URLSearchParams): void {
    const pair = this.tokens.findRefresh(form.get('refresh_token') ?? '');

    // NOTE: a refresh token of another client is rejected like an unknown one; unconfirmed.
    if (!pair || pair.invalidated || pair.clientId !== this.options.clientId) {
      sendError(request, TOKEN_NOT_FOUND());
      return;
    }
    if (this.now() >= pair.refreshExpiresAt) {
      sendError(request, oauthError(400, 'invalid_grant', 'OAU-210', 'Token expired'));
      return;
    }

    // Refresh tokens are single-use, and the platform also ends the access token of the old pair
    // (as RingCentral staff describe the refresh flow on community.ringcentral.com).
    this.tokens.invalidate(pair);

    const next = this.tokens.issue({
      sessionId: pair.sessionId,
      ownerId: pair.ownerId,
      clientId: pair.clientId,
      endpointId: pair.endpointId,
      scope: pair.scope,
      ...this.expiries(form),
    });
    this.sendTokens(request, next);
  }

  /** Token lifetimes: the configured TTL, or a shorter positive `*_token_ttl` the client requests. */
  private expiries(form: URLSearchParams): { accessExpiresAt: number; refreshExpiresAt: number } {
    const requested = (name: string, max: number): number => {
      const value = Number(form.get(name));
      return Number.isInteger(value) && value > 0 ? Math.min(value, max) : max;
    };
    const t = this.now();

    return {
      accessExpiresAt: t + requested('access_token_ttl', this.accessTtl) * 1000,
      refreshExpiresAt: t + requested('refresh_token_ttl', this.refreshTtl) * 1000,
    };
  }

  private sendNewSession(request: ParsedRequest, form: URLSearchParams, ownerId: string): string {
    const pair = this.tokens.issue({
      sessionId: randomBytes(16).toString('hex'),
      ownerId,
      clientId: this.options.clientId,
      endpointId: form.get('endpoint_id') || randomBytes(16).toString('base64url'),
      scope: this.scope,
      ...this.expiries(form),
    });
    this.sendTokens(request, pair);
    return pair.sessionId;
  }

  private sendTokens(request: ParsedRequest, pair: TokenPair): void {
    const t = this.now();
    const body = {
      access_token: pair.accessToken,
      token_type: 'bearer',
      expires_in: Math.round((pair.accessExpiresAt - t) / 1000),
      refresh_token: pair.refreshToken,
      refresh_token_expires_in: Math.round((pair.refreshExpiresAt - t) / 1000),
      scope: pair.scope,
      owner_id: pair.ownerId,
      endpoint_id: pair.endpointId,
      session_id: pair.sessionId,
    };

    // RFC 6749 section 5.1: token responses must not be cached.
    send(request, 200, body, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  }

  // --- OAuth: authorize page ---

  private handleAuthorize(request: ParsedRequest): void {
    const query = request.query;
    const page = (detail: string) => {
      const html = htmlErrorPage('Authorization request rejected', detail);
      send(request, 400, html, { 'Content-Type': 'text/html; charset=utf-8' });
    };

    // RFC 6749 section 4.1.2.1: with an unknown client or a bad redirect_uri the server must not
    // redirect, so those errors are shown on the page itself.
    const clientId = query.get('client_id');
    if (clientId !== this.options.clientId) {
      page(`Unknown client_id "${clientId ?? ''}".`);
      return;
    }
    const redirectUri = query.get('redirect_uri');
    if (redirectUri === null || !isLoopbackRedirect(redirectUri)) {
      page(
        `redirect_uri "${redirectUri ?? ''}" is not an http loopback URI ` +
          '(http://127.0.0.1:<port>/... or http://[::1]:<port>/...).',
      );
      return;
    }

    const state = query.get('state');
    const redirect = (params: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
      if (state !== null) target.searchParams.set('state', state);
      send(request, 302, undefined, { Location: target.toString() });
    };
    const rejectRequest = (description: string) => redirect({ error: 'invalid_request', error_description: description });

    const duplicate = duplicateParameter(query);
    if (duplicate !== undefined) {
      rejectRequest(`Request parameter duplication detected: ${duplicate}`);
      return;
    }
    if (query.get('response_type') !== 'code') {
      redirect({ error: 'unsupported_response_type', error_description: 'Only response_type=code is supported' });
      return;
    }

    // PKCE: the AuthorizeRequest definition makes "plain" the default method, which this
    // server refuses. NOTE: requiring PKCE from public clients follows RFC 9700 section 2.1.1;
    // whether the live platform requires it is unconfirmed.
    const challenge = query.get('code_challenge');
    const method = query.get('code_challenge_method');
    if (challenge === null && this.options.clientSecret === undefined) {
      rejectRequest('code_challenge is required for public clients');
      return;
    }
    if (challenge !== null && method !== 'S256') {
      rejectRequest(`code_challenge_method must be S256, not ${method ?? 'plain (the default)'}`);
      return;
    }
    if (challenge !== null && !S256_CHALLENGE.test(challenge)) {
      rejectRequest('code_challenge is not a base64url SHA-256 value (43 characters)');
      return;
    }

    if (this.authorizeAs === null) {
      redirect({ error: 'access_denied', error_description: 'The user denied the authorization request' });
      return;
    }

    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge: challenge,
      ownerId: this.authorizeAs,
      expiresAt: this.now() + AUTHORIZATION_CODE_TTL_MS,
      used: false,
    });
    redirect({ code });
  }

  // --- OAuth: revoke ---

  private handleRevoke(request: ParsedRequest): void {
    const form = this.readClientForm(request);
    if (!form) return;

    const token = form.get('token') ?? request.query.get('token');
    if (!token) {
      // NOTE: no OAU code for a missing parameter is confirmed; CMN-101 is the general one.
      const error = oauthError(400, 'invalid_request', 'CMN-101', 'Parameter [token] value is invalid.', {
        parameterName: 'token',
      });
      sendError(request, error);
      return;
    }

    // RFC 7009 section 2.2: the response to an unknown token is 200 as well.
    const pair = this.tokens.findAccess(token) ?? this.tokens.findRefresh(token);
    if (pair) this.tokens.revokeSession(pair.sessionId);
    send(request, 200);
  }

  // --- REST API ---

  /** Checks the bearer token of a /restapi/v1.0 call, or sends the 401 and returns undefined on failure. */
  private authenticateApi(request: ParsedRequest): { user: PlatformUser; pair: TokenPair } | undefined {
    const header = request.req.headers.authorization;
    const fail = (error: ErrorResponse<PlatformErrorBody>) => {
      sendError(request, error, API_AUTH_CHALLENGE);
      return undefined;
    };

    if (header === undefined || header.trim() === '') return fail(API_AUTH_ERRORS.missingHeader());

    const [scheme, token, ...rest] = header.trim().split(/\s+/);
    if (scheme!.toLowerCase() !== 'bearer') return fail(API_AUTH_ERRORS.unsupportedScheme());
    if (token === undefined || rest.length > 0) return fail(API_AUTH_ERRORS.invalidHeader());

    const pair = this.tokens.findAccess(token);
    if (!pair || pair.invalidated) return fail(API_AUTH_ERRORS.tokenNotFound());
    if (this.now() >= pair.accessExpiresAt) return fail(API_AUTH_ERRORS.tokenExpired());

    return { user: this.requireUser(pair.ownerId), pair };
  }

  /**
   * Authenticates a /restapi/v1.0 call and counts it against the caller's limit
   * in `group`. Sends the 401 or the 429 and returns undefined when either fails;
   * otherwise returns the caller and the rate-limit headers for the response.
   */
  private authenticateWithinLimit(
    request: ParsedRequest,
    group: RateLimitGroup,
  ): { user: PlatformUser; pair: TokenPair; headers: Record<string, string> } | undefined {
    const auth = this.authenticateApi(request);
    if (!auth) return undefined;
    const { user, pair } = auth;

    const limit = this.rateLimiter.check(`${pair.clientId}:${user.ownerId}:${group}`, group);
    if (!limit.allowed) {
      sendError(request, platformError(429, 'CMN-301', 'Request rate exceeded'), limit.headers);
      return undefined;
    }
    return { user, pair, headers: limit.headers };
  }

  private handleSipProvision(request: ParsedRequest): void {
    const auth = this.authenticateWithinLimit(request, 'heavy');
    if (!auth) return;
    const { user, pair, headers } = auth;
    const fail = (error: ErrorResponse<PlatformErrorBody>) => sendError(request, error, headers);

    if (!pair.scope.split(' ').includes('VoipCalling')) return fail(provisionError('CMN-401'));
    if (findAppVersion(request.req.headers, this.options.appName) === undefined) return fail(provisionError('SPR-122'));

    if (mediaType(request.req) !== 'application/json') {
      // NOTE: the code for a non-JSON body is unconfirmed; CMN-104 is "Cannot parse request".
      return fail(platformError(415, 'CMN-104', `Cannot parse request: Content-Type must be application/json`));
    }
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody);
    } catch {
      return fail(platformError(400, 'CMN-103', "JSON can't be parsed."));
    }

    const invalid = this.validateProvisionRequest(body);
    if (invalid) return fail(invalid);

    if (user.provisionError) return fail(provisionError(user.provisionError));

    const requested = new Set((body as { sipInfo: { transport: string }[] }).sipInfo.map((entry) => entry.transport));
    send(request, 200, this.provisionResponse(user, requested), headers);
  }

  /** Returns the error for an invalid sip-provision request body, or undefined when it is valid. */
  private validateProvisionRequest(body: unknown): ErrorResponse<PlatformErrorBody> | undefined {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return platformError(400, 'CMN-103', "JSON can't be parsed.");
    }
    const { sipInfo, device, softPhoneLineReassignment } = body as Record<string, unknown>;

    // NOTE: the live platform may default the transport when sipInfo is left out. This server
    // requires sipInfo, so a client that forgets to request WSS fails visibly.
    if (!Array.isArray(sipInfo) || sipInfo.length === 0) return provisionError('CMN-101', 'sipInfo');

    const transports: string[] = [];
    for (const entry of sipInfo as unknown[]) {
      const transport = (entry as { transport?: unknown } | null)?.transport;
      if (typeof transport !== 'string' || !SIP_TRANSPORTS.has(transport)) return provisionError('CMN-101', 'transport');
      transports.push(transport);
    }
    if (transports.includes('WSS') && transports.some((transport) => transport !== 'WSS')) {
      return provisionError('SPR-129');
    }

    if (device !== undefined) {
      if (typeof device !== 'object' || device === null) return provisionError('CMN-101', 'device');

      const id = (device as { id?: unknown }).id;
      if (id !== undefined) {
        if (typeof id !== 'string') return provisionError('SPR-118');
        if (id.length > 38) return provisionError('SPR-114');
        if (!/^\d+$/.test(id)) return provisionError('SPR-118');
      }
    }

    const reassignments = ['None', 'Initialize', 'Reassign'];
    if (softPhoneLineReassignment !== undefined && !reassignments.includes(softPhoneLineReassignment as string)) {
      return provisionError('CMN-101', 'softPhoneLineReassignment');
    }
    return undefined;
  }

  private provisionResponse(user: PlatformUser, requested: Set<string>): object {
    const deviceId = `8025${user.ownerId}`;
    const device = user.device ?? {
      uri: `${this.url}/restapi/v1.0/account/${user.accountId}/device/${deviceId}`,
      id: deviceId,
      type: 'WebPhone',
      status: 'Online',
      phoneLines: [],
      linePooling: 'None',
    };

    // SipInfoResponse.transport: "SIP info will be returned for this transport if supported", so a
    // user without an entry for the requested transport gets the entries it has.
    const matching = user.sipInfo.filter((entry) => requested.has((entry as { transport?: string }).transport ?? ''));

    return {
      device,
      sipInfo: matching.length > 0 ? matching : user.sipInfo,
      sipFlags: user.sipFlags ?? DEFAULT_SIP_FLAGS,
      sipErrorCodes: user.sipErrorCodes ?? DEFAULT_SIP_ERROR_CODES,
      pollingInterval: user.pollingInterval ?? DEFAULT_POLLING_INTERVAL,
    };
  }

  private handleExtensionInfo(request: ParsedRequest): void {
    const auth = this.authenticateWithinLimit(request, 'light');
    if (!auth) return;
    const { user, pair, headers } = auth;
    if (!pair.scope.split(' ').includes('ReadAccounts')) {
      const message = 'In order to call this API endpoint, application needs to have [ReadAccounts] permission';
      sendError(request, platformError(403, 'CMN-401', message), headers);
      return;
    }

    const [, accountId, extensionId] = /\/account\/([^/]+)\/extension\/([^/]+)$/.exec(request.path)!;
    const notFound = (parameterName: string) =>
      platformError(404, 'CMN-102', `Resource for parameter [${parameterName}] is not found`, { parameterName });
    if (accountId !== '~' && accountId !== user.accountId) {
      sendError(request, notFound('accountId'), headers);
      return;
    }
    if (extensionId !== '~' && extensionId !== user.ownerId) {
      sendError(request, notFound('extensionId'), headers);
      return;
    }

    send(request, 200, this.extensionInfo(user), headers);
  }

  private extensionInfo(user: PlatformUser): object {
    const [firstName = '', ...rest] = user.name.trim().split(/\s+/);
    const lastName = rest.join(' ');
    const email = user.email ?? `${[firstName, lastName].filter(Boolean).join('.').toLowerCase()}@example.com`;
    const accountUri = `${this.url}/restapi/v1.0/account/${user.accountId}`;

    return {
      uri: `${accountUri}/extension/${user.ownerId}`,
      id: Number(user.ownerId),
      extensionNumber: user.extensionNumber,
      name: user.name,
      type: 'User',
      status: 'Enabled',
      contact: { firstName, lastName, email },
      account: { id: user.accountId, uri: accountUri },
      setupWizardState: 'Completed',
    };
  }
}
