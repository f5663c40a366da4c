/** OAuth state and checks of the platform stand-in: the token store, grant types, PKCE and redirect URIs. */
import { createHash, randomBytes } from 'node:crypto';

import type { GrantType } from './types';

// ---------------------------------------------------------------------------
// Tokens and sessions
// ---------------------------------------------------------------------------

export interface TokenPair {
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

export interface AuthorizationCode {
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
export const AUTHORIZATION_CODE_TTL_MS = 60_000;

/** Opaque token: 64 random bytes, base64url (86 characters). */
function newToken(): string {
  return randomBytes(64).toString('base64url');
}

export class TokenStore {
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
// Grant types, PKCE and redirect URIs
// ---------------------------------------------------------------------------

export const JWT_BEARER: GrantType = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ALL_GRANTS: GrantType[] = [JWT_BEARER, 'authorization_code', 'refresh_token'];

/** Grant types the platform supports but this app may not be enabled for (rejected with OAU-251). */
export const KNOWN_GRANTS = new Set<string>([...ALL_GRANTS, 'password', 'partner_jwt', 'client_credentials']);

/** Computes the S256 code challenge of a PKCE verifier: base64url(SHA-256(verifier)), RFC 7636 section 4.2. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 section 4.1: 43 to 128 characters from the unreserved set. */
export const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** An S256 challenge is base64url of 32 bytes without padding: 43 characters. */
export const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Checks for a loopback redirect URI per RFC 8252 section 7.3: http, an IP literal host, any port, no fragment. */
export function isLoopbackRedirect(value: string): boolean {
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
