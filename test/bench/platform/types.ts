/** Public types of the platform stand-in, re-exported by ../platform-server.ts. */
import type { IncomingHttpHeaders } from 'node:http';

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
