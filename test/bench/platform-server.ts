/**
 * Local stand-in for the RingCentral platform REST API, for the softphone's tests.
 *
 * The app under test uses `server.url` as its custom server URL. The server listens on
 * 127.0.0.1 only and is strict like the real platform, so that app bugs show up as failures.
 *
 * Endpoints:
 *   POST /restapi/oauth/token        form body only; grants jwt-bearer, authorization_code
 *                                    (PKCE S256) and refresh_token (rotating)
 *   GET  /restapi/oauth/authorize    auto-approves as `authorizeAs`, 302 to a loopback redirect_uri
 *   POST /restapi/oauth/revoke       revokes a token together with the rest of its session
 *   POST /restapi/v1.0/client-info/sip-provision
 *   GET  /restapi/v1.0/account/{accountId|~}/extension/{extensionId|~}
 *
 * Exported API:
 *   startPlatformServer(options): Promise<PlatformServer>
 *   PlatformServer: url, close(), requests, count(path, method?), inject(fault), clearFaults(),
 *     setUser(ownerId, patch), setAuthorizeAs(ownerId | null), revokeSessions(ownerId),
 *     tokens.issuedAccess() / issuedRefresh() / revoked() / ownerOf(token)
 *   bearerOwner(platform, request) -> the owner of a request's bearer token, or null
 *   platformError(status, errorCode, message, parameter?) -> { status, body } (REST API error)
 *   oauthError(status, error, errorCode, message) -> { status, body } (OAuth endpoint error)
 *   provisionError(code, parameterName?) -> { status, body } for each documented sip-provision code
 *   PROVISION_ERRORS, pkceChallenge(verifier), RATE_LIMIT_GROUPS
 *
 * Sources for codes and bodies, unless a NOTE states otherwise:
 *   - RingCentral API error table: ringcentral/ringcentral-api-docs, docs/basics/errors.md
 *     (OAU-1xx codes, CMN-101/103/104/301/401/402, with HTTP status and message).
 *   - Live platform bodies quoted on community.ringcentral.com and Stack Overflow:
 *     OAU-250 (invalid_request, "Unsupported grant type"), OAU-251 (unauthorized_client),
 *     OAU-109 (invalid_grant), OAU-153 (invalid_client with `parameters`), OAU-210
 *     ("Token expired", invalid_grant), CMN-301 (429 "Request rate exceeded"), AGW-402 (401 with
 *     `WWW-Authenticate: Bearer realm="RingCentral REST API"`), "TokenInvalid: OAU-213 (Token not found)".
 *   - tylerlong/ringcentral-js-concise, test/token_expire.spec.js: an expired refresh token gets
 *     HTTP 400 with error_description "Token expired".
 *   - ringcentral/ringcentral-js-widgets, packages/ringcentral-integration/modules/Auth/authErrors.ts:
 *     OAU-213 "Token not found" is also returned by /restapi/oauth/token for a dead refresh token.
 *   - Field names: @rc-ex/core definitions TokenInfo, CreateSipRegistrationResponse,
 *     GetExtensionInfoResponse, GetTokenRequest, AuthorizeRequest, RevokeTokenRequest.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export type ProvisionErrorCode =
  | 'CMN-101'
  | 'SPR-114'
  | 'SPR-118'
  | 'SPR-129'
  | 'SPR-130'
  | 'BIL-103'
  | 'CMN-401'
  | 'CMN-402'
  | 'SPR-112'
  | 'SPR-122';

export interface PlatformUser {
  /** Extension id, numeric string such as "101001". Returned as `owner_id`. */
  ownerId: string;
  /** Account id, numeric string. */
  accountId: string;
  extensionNumber: string;
  /** Full name, "First Last"; the first word becomes contact.firstName. */
  name: string;
  /** Contact email; defaults to first.last@example.com. */
  email?: string;
  /** JWT credential string that logs this user in through the jwt-bearer grant. */
  jwtCredential: string;
  /** sipInfo entries handed out by sip-provision (the test points them at its SIP server). */
  sipInfo: object[];
  /** Replaces the default sipFlags wholesale when set, so a test can leave fields out. */
  sipFlags?: object;
  sipErrorCodes?: string[];
  /** Seconds between provisioning calls suggested to the client. */
  pollingInterval?: number;
  /** Replaces the default device object in the sip-provision response. */
  device?: object;
  /**
   * Account or app state that makes every sip-provision call for this user fail with this
   * documented code (for example BIL-103 when the account has no WebPhone feature).
   */
  provisionError?: ProvisionErrorCode;
}

export type GrantType = 'urn:ietf:params:oauth:grant-type:jwt-bearer' | 'authorization_code' | 'refresh_token';

export interface PlatformOptions {
  clientId: string;
  /** Set for a confidential app (HTTP Basic client auth); leave unset for a PKCE public client. */
  clientSecret?: string;
  users: PlatformUser[];
  /** Access token lifetime in seconds, default 3600. A shorter `access_token_ttl` request wins. */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds, default 604800. A shorter `refresh_token_ttl` request wins. */
  refreshTokenTtl?: number;
  /** Clock in milliseconds since the epoch; tests replace it to move time. Default Date.now. */
  now?: () => number;
  /** ownerId that the authorize page signs in as; default the first user. */
  authorizeAs?: string;
  /** App permissions granted in `scope`. Default "ReadAccounts VoipCalling". */
  scope?: string;
  /** Grants enabled for the app; others get unauthorized_client OAU-251. Default all three. */
  grantTypes?: GrantType[];
  /**
   * Product name that must carry the app version in X-User-Agent or User-Agent (`Name/semver`).
   * When unset, any product token with a semver version counts, except browser, runtime and
   * SDK tokens such as Chrome/…, Electron/…, node and RCJSSDK/….
   */
  appName?: string;
  /** Port on 127.0.0.1, default 0 (a free port). */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Request headers as Node parsed them (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Parsed body: form fields as an object, JSON as parsed, other text as a string, undefined when empty. */
  body: unknown;
  /** Status sent; null while the request is pending and when a drop fault destroyed the socket. */
  status: number | null;
  /** The injected fault that handled this request, if any. */
  fault?: 'status' | 'drop' | 'delay';
  /** Arrival time from `options.now`, in milliseconds. */
  time: number;
}

interface FaultTarget {
  /** Exact request path without query, e.g. "/restapi/oauth/token". */
  path: string;
  /** Only requests with this method; any method when unset. */
  method?: string;
  /** Number of matching requests the fault applies to; default 1, Infinity for all. */
  times?: number;
}

export type PlatformFault =
  | (FaultTarget & { status: number; body?: unknown; headers?: Record<string, string> })
  | (FaultTarget & { kind: 'drop' })
  | (FaultTarget & { kind: 'delay'; ms: number });

export interface PlatformServer {
  /** Base URL, http://127.0.0.1:<port>, without a trailing slash. */
  url: string;
  close(): Promise<void>;
  /** Every request in arrival order, including those handled by injected faults. */
  requests: RecordedRequest[];
  count(path: string, method?: string): number;
  /** Queues a fault for the next `times` requests to `fault.path`; faults run before normal handling. */
  inject(fault: PlatformFault): void;
  clearFaults(): void;
  /** Changes a user's provisioning data between calls; throws for an unknown ownerId. */
  setUser(ownerId: string, patch: Partial<Omit<PlatformUser, 'ownerId'>>): void;
  /** Chooses who signs in on the authorize page; null makes the user deny consent (access_denied). */
  setAuthorizeAs(ownerId: string | null): void;
  /** Ends every session of a user, as a password change or an admin action does. */
  revokeSessions(ownerId: string): void;
  tokens: {
    issuedAccess(): string[];
    issuedRefresh(): string[];
    /** Tokens made unusable by revoke, by refresh rotation or by authorization-code reuse (not by expiry). */
    revoked(): string[];
    /** Owner of an access or refresh token this server issued, or null for any other string. */
    ownerOf(token: string): string | null;
  };
}

export interface ApiErrorEntry {
  errorCode: string;
  message: string;
  parameterName?: string;
  parameterValue?: string;
  parameters?: { parameterName: string; parameterValue: string }[];
}

export interface PlatformErrorBody {
  errorCode: string;
  message: string;
  errors: ApiErrorEntry[];
}

export type OAuthErrorName =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'access_denied';

export interface OAuthErrorBody {
  error: OAuthErrorName;
  error_description: string;
  errors: ApiErrorEntry[];
}

export interface ErrorResponse<Body> {
  status: number;
  body: Body;
}

// ---------------------------------------------------------------------------
// Error body builders
// ---------------------------------------------------------------------------

/** Owner of the bearer token a recorded request carried, or null when it carried none this server issued. */
export function bearerOwner(platform: PlatformServer, request: RecordedRequest): string | null {
  const authorization = request.headers.authorization ?? '';
  return platform.tokens.ownerOf(authorization.replace(/^Bearer /, ''));
}

/** Builds a REST API error: `{errorCode, message, errors: [{errorCode, message, parameterName?}]}`. */
export function platformError(
  status: number,
  errorCode: string,
  message: string,
  parameter?: { parameterName: string; parameterValue?: string },
): ErrorResponse<PlatformErrorBody> {
  return { status, body: { errorCode, message, errors: [{ errorCode, message, ...parameter }] } };
}

/** Builds an OAuth endpoint error: `{error, error_description, errors: [{errorCode, message}]}`. */
export function oauthError(
  status: number,
  error: OAuthErrorName,
  errorCode: string,
  message: string,
  entryExtra?: Partial<ApiErrorEntry>,
): ErrorResponse<OAuthErrorBody> {
  return { status, body: { error, error_description: message, errors: [{ errorCode, message, ...entryExtra }] } };
}

/**
 * Documented sip-provision errors. Codes and HTTP statuses are from the API reference of
 * "Register SIP Device". The CMN-401 wording follows the API reference's error listings, and the
 * CMN-402 wording is from the RingCentral error table.
 * NOTE: the SPR and BIL message texts are written to match each code's documented meaning;
 * the live platform's exact wording is unconfirmed.
 */
export const PROVISION_ERRORS: Record<ProvisionErrorCode, { status: number; message: string }> = {
  'CMN-101': { status: 400, message: 'Parameter [transport] value is invalid.' },
  'SPR-114': { status: 400, message: 'Parameter [device.id] is too long: at most 38 characters are allowed.' },
  'SPR-118': { status: 400, message: 'Parameter [device.id] value is invalid: the device id must be numeric.' },
  'SPR-129': { status: 400, message: 'Incompatible protocols requested: WSS cannot be combined with UDP, TCP or TLS.' },
  'SPR-130': { status: 400, message: 'The device is not allowed to use WebRTC.' },
  'BIL-103': { status: 403, message: 'Feature [WebPhone] is not available for this account.' },
  'CMN-401': { status: 403, message: 'In order to call this API endpoint, application needs to have [VoipCalling] permission' },
  'CMN-402': { status: 403, message: 'Administrator permission required' },
  'SPR-112': { status: 403, message: 'Client edition is not compatible with the brand: the app platform type does not allow WebRTC clients.' },
  'SPR-122': { status: 403, message: 'Application version is missing from the User-Agent or cannot be parsed.' },
};

/** Builds the response for a documented sip-provision error; CMN-101 names the invalid parameter. */
export function provisionError(code: ProvisionErrorCode, parameterName = 'transport'): ErrorResponse<PlatformErrorBody> {
  const { status, message } = PROVISION_ERRORS[code];

  if (code === 'CMN-101') {
    return platformError(status, code, `Parameter [${parameterName}] value is invalid.`, { parameterName });
  }
  return platformError(status, code, message);
}

/** Computes the S256 code challenge of a PKCE verifier: base64url(SHA-256(verifier)), RFC 7636 section 4.2. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

// ---------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------

/**
 * Usage plan groups, counted per app and user. Heavy (10 per 60 s) covers sip-provision and Light
 * (50 per 60 s) covers extension info, as RingCentral's API reference lists them. After the limit
 * is passed, every call is rejected for a 60 s penalty interval, as RingCentral describes for 429s.
 */
export const RATE_LIMIT_GROUPS = {
  heavy: { limit: 10, windowSeconds: 60 },
  light: { limit: 50, windowSeconds: 60 },
} as const;

const RATE_LIMIT_PENALTY_SECONDS = 60;

type RateLimitGroup = keyof typeof RATE_LIMIT_GROUPS;

interface RateLimitDecision {
  allowed: boolean;
  headers: Record<string, string>;
}

class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly penaltyUntil = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  check(key: string, group: RateLimitGroup): RateLimitDecision {
    const { limit, windowSeconds } = RATE_LIMIT_GROUPS[group];
    const t = this.now();
    const headers = (remaining: number): Record<string, string> => ({
      'X-Rate-Limit-Group': group,
      'X-Rate-Limit-Limit': String(limit),
      'X-Rate-Limit-Remaining': String(remaining),
      'X-Rate-Limit-Window': String(windowSeconds),
    });

    const penaltyEnd = this.penaltyUntil.get(key) ?? 0;
    if (t < penaltyEnd) {
      const retryAfter = Math.ceil((penaltyEnd - t) / 1000);
      return { allowed: false, headers: { ...headers(0), 'Retry-After': String(retryAfter) } };
    }

    const recent = (this.hits.get(key) ?? []).filter((hit) => hit > t - windowSeconds * 1000);
    if (recent.length >= limit) {
      this.penaltyUntil.set(key, t + RATE_LIMIT_PENALTY_SECONDS * 1000);
      this.hits.set(key, recent);
      return { allowed: false, headers: { ...headers(0), 'Retry-After': String(RATE_LIMIT_PENALTY_SECONDS) } };
    }

    recent.push(t);
    this.hits.set(key, recent);
    return { allowed: true, headers: headers(limit - recent.length) };
  }
}

// ---------------------------------------------------------------------------
// Tokens and sessions
// ---------------------------------------------------------------------------

interface TokenPair {
  sessionId: string;
  ownerId: string;
  clientId: string;
  endpointId: string;
  scope: string;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  invalidated: boolean;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  ownerId: string;
  expiresAt: number;
  used: boolean;
  /** Session created by exchanging this code; revoked if the code is presented again. */
  sessionId?: string;
}

/** Authorization codes live 60 s, as the platform documents for its auth codes. */
const AUTHORIZATION_CODE_TTL_MS = 60_000;

/** Opaque token: 64 random bytes, base64url (86 characters). */
function newToken(): string {
  return randomBytes(64).toString('base64url');
}

class TokenStore {
  private readonly byAccess = new Map<string, TokenPair>();
  private readonly byRefresh = new Map<string, TokenPair>();
  private readonly sessions = new Map<string, TokenPair[]>();
  readonly issuedAccess: string[] = [];
  readonly issuedRefresh: string[] = [];
  readonly revoked: string[] = [];

  issue(fields: Omit<TokenPair, 'accessToken' | 'refreshToken' | 'invalidated'>): TokenPair {
    const pair: TokenPair = { ...fields, accessToken: newToken(), refreshToken: newToken(), invalidated: false };

    this.byAccess.set(pair.accessToken, pair);
    this.byRefresh.set(pair.refreshToken, pair);
    this.issuedAccess.push(pair.accessToken);
    this.issuedRefresh.push(pair.refreshToken);

    const session = this.sessions.get(pair.sessionId) ?? [];
    session.push(pair);
    this.sessions.set(pair.sessionId, session);
    return pair;
  }

  findAccess(token: string): TokenPair | undefined {
    return this.byAccess.get(token);
  }

  findRefresh(token: string): TokenPair | undefined {
    return this.byRefresh.get(token);
  }

  invalidate(pair: TokenPair): void {
    if (pair.invalidated) return;
    pair.invalidated = true;
    this.revoked.push(pair.accessToken, pair.refreshToken);
  }

  revokeSession(sessionId: string): void {
    for (const pair of this.sessions.get(sessionId) ?? []) this.invalidate(pair);
  }

  revokeOwner(ownerId: string): void {
    for (const [sessionId, pairs] of this.sessions) {
      if (pairs[0]?.ownerId === ownerId) this.revokeSession(sessionId);
    }
  }
}

// ---------------------------------------------------------------------------
// Request helpers
// ---------------------------------------------------------------------------

const MAX_BODY_BYTES = 1024 * 1024;

const JWT_BEARER: GrantType = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ALL_GRANTS: GrantType[] = [JWT_BEARER, 'authorization_code', 'refresh_token'];

/** Grant types the platform supports but this app may not be enabled for (rejected with OAU-251). */
const KNOWN_GRANTS = new Set<string>([...ALL_GRANTS, 'password', 'partner_jwt', 'client_credentials']);

/** Product tokens that carry a browser, runtime or SDK version rather than the app's own version. */
const NON_APP_PRODUCTS = new Set([
  'mozilla', 'applewebkit', 'khtml', 'gecko', 'chrome', 'chromium', 'safari', 'firefox', 'edg',
  'electron', 'node', 'node.js', 'undici', 'rcjssdk', 'ringcentral-extensible',
]);

/** Semantic version 2.0.0: MAJOR.MINOR.PATCH with optional pre-release and build parts. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** RFC 7636 section 4.1: 43 to 128 characters from the unreserved set. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** An S256 challenge is base64url of 32 bytes without padding: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

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

interface ParsedRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  rawBody: string;
  record: RecordedRequest;
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Returns the first parameter name that appears more than once, which RFC 6749 section 3.1 forbids. */
function duplicateParameter(params: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

function parseBody(req: IncomingMessage, rawBody: string): unknown {
  if (rawBody === '') return undefined;

  const type = mediaType(req);
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(rawBody));
  }
  if (type === 'application/json') {
    try {
      return JSON.parse(rawBody) as unknown;
    } catch {
      return rawBody;
    }
  }
  return rawBody;
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;

    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  request: ParsedRequest,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const { res, record } = request;
  const outHeaders: Record<string, string> = { RCRequestId: randomUUID(), ...headers };
  let payload = '';

  if (typeof body === 'string') {
    payload = body;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    outHeaders['Content-Type'] ??= 'application/json';
  }

  record.status = status;
  res.writeHead(status, outHeaders);
  res.end(payload);
}

function sendError(request: ParsedRequest, error: ErrorResponse<unknown>, headers: Record<string, string> = {}): void {
  send(request, error.status, error.body, headers);
}

function htmlErrorPage(title: string, detail: string): string {
  const escape = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<!doctype html><html><head><title>${escape(title)}</title></head>` +
    `<body><h1>${escape(title)}</h1><p>${escape(detail)}</p></body></html>`;
}

/** Checks for a loopback redirect URI per RFC 8252 section 7.3: http, an IP literal host, any port, no fragment. */
function isLoopbackRedirect(value: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return false;
  }

  // NOTE: RFC 8252 only discourages "localhost"; rejecting it is stricter than the platform may be.
  const loopbackHost = parsed.hostname === '127.0.0.1' || parsed.hostname === '[::1]';
  return parsed.protocol === 'http:' && loopbackHost && parsed.hash === '' && parsed.username === '';
}

/** Finds the app's `Name/semver` product token in X-User-Agent, then in User-Agent. */
function findAppVersion(headers: IncomingHttpHeaders, appName: string | undefined): string | undefined {
  const candidates = [headers['x-user-agent'], headers['user-agent']];

  for (const value of candidates) {
    if (typeof value !== 'string') continue;

    for (const token of value.split(/\s+/)) {
      const match = /^([A-Za-z][\w.-]*)\/(\S+)$/.exec(token);
      if (!match) continue;

      const [, name, version] = match as unknown as [string, string, string];
      const isAppToken = appName !== undefined ? name === appName : !NON_APP_PRODUCTS.has(name.toLowerCase());
      if (isAppToken && SEMVER.test(version)) return token;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Endpoint errors shared by several handlers
// ---------------------------------------------------------------------------

const TOKEN_NOT_FOUND = (): ErrorResponse<OAuthErrorBody> =>
  oauthError(400, 'invalid_grant', 'OAU-213', 'Token not found');

/** 401 responses of /restapi/v1.0 for a missing or bad bearer token. */
const API_AUTH_ERRORS = {
  missingHeader: () => platformError(401, 'AGW-401', 'Authorization header is not specified'),
  invalidHeader: () => platformError(401, 'AGW-402', 'Invalid Authorization header'),
  unsupportedScheme: () => platformError(401, 'OAU-151', 'Authorization method not supported'),
  tokenNotFound: (): ErrorResponse<PlatformErrorBody> => ({
    status: 401,
    body: {
      errorCode: 'TokenInvalid',
      message: 'Token not found',
      errors: [{ errorCode: 'OAU-213', message: 'Token not found' }],
    },
  }),
  // NOTE: OAU-128 "Access token expired." is in the error table; the top-level "TokenExpired" name
  // follows the TokenInvalid pattern and is unconfirmed.
  tokenExpired: (): ErrorResponse<PlatformErrorBody> => ({
    status: 401,
    body: {
      errorCode: 'TokenExpired',
      message: 'Access token expired',
      errors: [{ errorCode: 'OAU-128', message: 'Access token expired.' }],
    },
  }),
};

const API_AUTH_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="RingCentral REST API"' };

// ---------------------------------------------------------------------------
// The platform
// ---------------------------------------------------------------------------

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

class FakePlatform {
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

  // --- OAuth: token endpoint ---

  private handleToken(request: ParsedRequest): void {
    const form = this.readForm(request);
    if (!form) return;

    const client = this.authenticateClient(request, form);
    if (!client.ok) {
      sendError(request, client.error!, client.headers);
      return;
    }

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
    const form = this.readForm(request);
    if (!form) return;

    const client = this.authenticateClient(request, form);
    if (!client.ok) {
      sendError(request, client.error!, client.headers);
      return;
    }

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

  private handleSipProvision(request: ParsedRequest): void {
    const auth = this.authenticateApi(request);
    if (!auth) return;
    const { user, pair } = auth;

    const limit = this.rateLimiter.check(`${pair.clientId}:${user.ownerId}:heavy`, 'heavy');
    const headers = limit.headers;
    if (!limit.allowed) {
      sendError(request, platformError(429, 'CMN-301', 'Request rate exceeded'), headers);
      return;
    }
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
    const auth = this.authenticateApi(request);
    if (!auth) return;
    const { user, pair } = auth;

    const limit = this.rateLimiter.check(`${pair.clientId}:${user.ownerId}:light`, 'light');
    const headers = limit.headers;
    if (!limit.allowed) {
      sendError(request, platformError(429, 'CMN-301', 'Request rate exceeded'), headers);
      return;
    }
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

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/** Starts the platform stand-in on 127.0.0.1 and resolves once it is listening. */
export async function startPlatformServer(options: PlatformOptions): Promise<PlatformServer> {
  const platform = new FakePlatform(options);

  const server: Server = createServer((req, res) => {
    platform.dispatch(req, res).catch((error: unknown) => {
      // A handler bug must fail the test loudly instead of leaving the client waiting.
      const message = error instanceof Error ? error.message : String(error);
      console.error(`platform-server: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${message}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(platformError(500, 'CMN-203', `Internal Server Error: ${message}`).body));
      } else {
        res.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  platform.url = `http://127.0.0.1:${port}`;

  return {
    url: platform.url,
    requests: platform.requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of platform.pendingDelays) clearTimeout(timer);
        platform.pendingDelays.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    count: (path, method) =>
      platform.requests.filter(
        (recorded) => recorded.path === path && (method === undefined || recorded.method === method.toUpperCase()),
      ).length,
    inject: (fault) => platform.inject(fault),
    clearFaults: () => platform.clearFaults(),
    setUser: (ownerId, patch) => platform.setUser(ownerId, patch),
    setAuthorizeAs: (ownerId) => platform.setAuthorizeAs(ownerId),
    revokeSessions: (ownerId) => {
      platform.requireUser(ownerId);
      platform.tokens.revokeOwner(ownerId);
    },
    tokens: {
      issuedAccess: () => [...platform.tokens.issuedAccess],
      issuedRefresh: () => [...platform.tokens.issuedRefresh],
      revoked: () => [...platform.tokens.revoked],
      ownerOf: (token) => (platform.tokens.findAccess(token) ?? platform.tokens.findRefresh(token))?.ownerId ?? null,
    },
  };
}
