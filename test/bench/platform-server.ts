/**
 * Local stand-in for the RingCentral platform REST API, for the softphone's tests.
 *
 * The app under test uses `server.url` as its custom server URL. The server listens on
 * 127.0.0.1 only and is strict like the real platform, so that app bugs show up as failures.
 * This module is the public entry. The implementation lives under ./platform/, one file per concern.
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
export type {
  ApiErrorEntry,
  ErrorResponse,
  GrantType,
  OAuthErrorBody,
  OAuthErrorName,
  PlatformErrorBody,
  PlatformFault,
  PlatformOptions,
  PlatformServer,
  PlatformUser,
  ProvisionErrorCode,
  RecordedRequest,
} from './platform/types';
export { oauthError, platformError, PROVISION_ERRORS, provisionError } from './platform/errors';
export { pkceChallenge } from './platform/oauth';
export { RATE_LIMIT_GROUPS } from './platform/rate-limiter';
export { bearerOwner, startPlatformServer } from './platform/server';
