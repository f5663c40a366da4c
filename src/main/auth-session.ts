import type { UserFacingError } from '../shared/errors';
import { CredentialAccount, type CredentialStore } from './credential-store';
import type { Logger } from './logger';
import {
  type OAuthTokens,
  type StoredSession,
  storedSessionSchema,
  tokenResponseSchema,
  tokensFromResponse,
} from './oauth-tokens';
import { type BearerTokenSource, InvalidPlatformResponseError, type PlatformClient, PlatformError } from './platform-client';

export const TOKEN_PATH = '/restapi/oauth/token';
export const REVOKE_PATH = '/restapi/oauth/revoke';

/** Access tokens are refreshed this long before they expire, as RingCentral's SDKs do. */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * Longest `Retry-After` wait a refresh takes by itself when the access token is
 * no longer usable; a longer one fails the refresh with the 429.
 */
export const MAX_RATE_LIMIT_WAIT_MS = 120_000;

// Used when a 429 from the token endpoint carries no Retry-After header.
const DEFAULT_TOKEN_RETRY_AFTER_SECONDS = 60;
const REVOKE_TIMEOUT_MS = 5_000;

// After a failed background refresh the next attempt waits 1 minute, doubling up
// to 15 minutes, and never less than a Retry-After.
const BACKGROUND_RETRY_MIN_MS = 60_000;
const BACKGROUND_RETRY_MAX_MS = 15 * 60_000;

/**
 * After a failed keychain write of refreshed tokens the write is retried after
 * 30 seconds, doubling up to 15 minutes, for as long as the session lasts.
 */
export const KEYCHAIN_RETRY_MIN_MS = 30_000;
const KEYCHAIN_RETRY_MAX_MS = 15 * 60_000;

// setTimeout runs a callback at once when the delay exceeds 2^31 - 1 ms.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The OAuth client identity of the app; the secret is null for a public client. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string | null;
}

/** JWT bearer grant (RFC 7523) with a RingCentral JWT credential. */
export interface JwtBearerGrant {
  grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer';
  assertion: string;
}

/** Authorization code grant with the PKCE verifier (RFC 6749 section 4.1.3, RFC 7636 section 4.5). */
export interface AuthorizationCodeGrant {
  grant_type: 'authorization_code';
  code: string;
  /** Must equal the `redirect_uri` of the authorization request. */
  redirect_uri: string;
  code_verifier: string;
}

/** A grant exchanged at the token endpoint for a new session. */
export type SignInGrant = JwtBearerGrant | AuthorizationCodeGrant;

/** Reason a session ended without the user signing out. */
export type SessionExpiryReason = 'refresh-rejected' | 'refresh-token-expired' | 'no-refresh-token';

/** The session can no longer be refreshed; the user has to sign in again. */
export class SessionExpiredError extends Error {
  override readonly name = 'SessionExpiredError';
  readonly userError: UserFacingError;

  constructor(
    readonly reason: SessionExpiryReason,
    options?: { cause?: unknown },
  ) {
    const detail = {
      'refresh-rejected': 'the platform rejected the refresh token (invalid_grant)',
      'refresh-token-expired': 'the refresh token expired',
      'no-refresh-token': 'the access token expired and the platform issued no refresh token',
    }[reason];
    super(`The RingCentral session ended: ${detail}. Sign in again.`, options);
    this.userError = {
      code: reason === 'refresh-rejected' ? 'invalid_grant' : 'SESSION_EXPIRED',
      message: 'Your RingCentral session has expired or was revoked.',
      action: 'Sign in again.',
    };
  }
}

/** A REST call was made while no one is signed in. */
export class NotSignedInError extends Error {
  override readonly name = 'NotSignedInError';

  constructor() {
    super('No RingCentral user is signed in. Sign in first.');
  }
}

/** A sign-out or another sign-in started while this sign-in waited for the token endpoint. */
export class SignInCancelledError extends Error {
  override readonly name = 'SignInCancelledError';

  constructor() {
    super('The sign-in was cancelled by a sign-out or another sign-in; its tokens were revoked.');
  }
}

/** The token endpoint returned 2xx with a body that is not a token response. */
export class InvalidTokenResponseError extends Error {
  override readonly name = 'InvalidTokenResponseError';
}

export interface AuthSessionOptions {
  client: PlatformClient;
  credentialStore: CredentialStore;
  /** Returns the client id and secret from the current settings. */
  clientCredentials: () => ClientCredentials;
  /** Returns the current platform base URL; stored with the tokens. */
  baseUrl: () => string;
  now: () => number;
  logger: Logger;
  /** Wait before the first retry of a failed token write; `KEYCHAIN_RETRY_MIN_MS` unless set. */
  keychainRetryMinMs?: number;
}

/**
 * The OAuth session of the signed-in user. Tokens live in memory and in one
 * keychain entry; nothing is written to disk by this class. Token requests of
 * concurrent callers share one in-flight refresh. While signed in, a timer
 * refreshes the access token `REFRESH_MARGIN_MS` before it expires, so the
 * refresh token keeps being renewed while the app runs.
 */
export class AuthSession implements BearerTokenSource {
  private tokens: OAuthTokens | null = null;
  private refreshInFlight: Promise<string> | null = null;
  /** Epoch ms before which no token request is sent, after a 429 from the token endpoint. */
  private tokenRequestsBlockedUntil = 0;
  private lastRateLimit: PlatformError | null = null;
  /** Incremented on sign-in and sign-out, so a refresh that ends later cannot revive an old session. */
  private generation = 0;
  private readonly expiryListeners = new Set<(error: SessionExpiredError) => void>();
  private readonly tokenStorageListeners = new Set<(error: unknown) => void>();
  private backgroundRefreshTimer: ReturnType<typeof setTimeout> | null = null;
  private backgroundRefreshFailures = 0;
  /** Writes and deletes of the token entry run one at a time, in call order, so the last write wins. */
  private keychainQueue: Promise<unknown> = Promise.resolve();
  private keychainRetryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Failed token writes since the last successful one. */
  private keychainWriteFailures = 0;
  /** Incremented per token write, so only the outcome of the latest write is reported. */
  private keychainWriteAttempt = 0;

  constructor(private readonly options: AuthSessionOptions) {}

  get isSignedIn(): boolean {
    return this.tokens !== null;
  }

  get ownerId(): string | null {
    return this.tokens?.ownerId ?? null;
  }

  /**
   * Subscribes to the outcome of storing refreshed tokens in the keychain, after
   * a refresh and after each retry of a failed write: the error when the write
   * failed, null when it succeeded. Returns the unsubscribe function.
   */
  onTokenStorage(listener: (error: unknown) => void): () => void {
    this.tokenStorageListeners.add(listener);
    return () => this.tokenStorageListeners.delete(listener);
  }

  /** Subscribes to sessions ending on a rejected or expired refresh; returns the unsubscribe function. */
  onExpired(listener: (error: SessionExpiredError) => void): () => void {
    this.expiryListeners.add(listener);
    return () => this.expiryListeners.delete(listener);
  }

  /**
   * Loads the tokens from the keychain. Returns false, and deletes the entry, when
   * it is invalid, belongs to another server or client id, or can no longer be
   * refreshed. Throws `KeychainUnavailableError` when the keychain cannot be read.
   */
  async restore(): Promise<boolean> {
    const text = await this.options.credentialStore.get(CredentialAccount.OAuthTokens);
    if (text === null) {
      return false;
    }

    const stored = parseStoredSession(text);
    const problem = stored === null ? 'the keychain entry is not a valid session' : this.checkRestorable(stored);
    if (stored === null || problem !== null) {
      this.options.logger.warn('Discarding the stored session', { problem });
      await this.options.credentialStore.delete(CredentialAccount.OAuthTokens);
      return false;
    }

    this.tokens = stored.tokens;
    this.generation += 1;
    this.options.logger.info('Restored the session from the keychain', {
      ownerId: this.tokens.ownerId,
      accessTokenExpiresAt: this.tokens.accessTokenExpiresAt,
    });
    this.scheduleBackgroundRefresh();
    return true;
  }

  /** Signs in with a RingCentral JWT credential (JWT bearer grant, RFC 7523). */
  signInWithJwt(jwt: string): Promise<void> {
    return this.signInWithGrant({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt });
  }

  /**
   * Exchanges `grant` for tokens and stores them in the keychain. Replaces any
   * current session. Throws `PlatformError` (for example `invalid_grant`, or 429
   * with `retryAfterSeconds`), `PlatformNetworkError`, `InvalidTokenResponseError`
   * or `KeychainUnavailableError`; in every case no session remains.
   */
  async signInWithGrant(grant: SignInGrant): Promise<void> {
    this.generation += 1;
    const generation = this.generation;
    this.tokens = null;
    this.refreshInFlight = null;
    this.cancelBackgroundRefresh();
    this.stopKeychainRetries();

    const tokens = await this.requestTokens({ ...grant });
    if (generation !== this.generation) {
      await this.revoke(tokens);
      throw new SignInCancelledError();
    }

    try {
      await this.inKeychainQueue(() => this.storeTokens(tokens));
    } catch (error) {
      // Without the keychain the session could not survive a restart, and its
      // tokens could never be revoked later, so end it on the server now.
      await this.revoke(tokens);
      throw error;
    }

    this.tokens = tokens;
    this.options.logger.info('Signed in', { ownerId: tokens.ownerId, grantType: grant.grant_type });
    this.scheduleBackgroundRefresh();
  }

  async getAccessToken(): Promise<string> {
    const tokens = this.requireTokens();
    if (this.options.now() < tokens.accessTokenExpiresAt - REFRESH_MARGIN_MS) {
      return tokens.accessToken;
    }

    try {
      return await this.refresh();
    } catch (error) {
      // Inside the refresh margin the old token still works: a rate-limited or
      // unreachable token endpoint need not fail the call yet.
      const stillValid = this.tokens === tokens && this.options.now() < tokens.accessTokenExpiresAt;
      if (stillValid && !(error instanceof SessionExpiredError)) {
        this.options.logger.warn('Refresh failed; using the access token until it expires', { error });
        return tokens.accessToken;
      }
      if (isRateLimit(error) && this.tokens === tokens) {
        return this.refreshAfterRateLimit(error);
      }
      throw error;
    }
  }

  async refreshAfterRejection(rejectedToken: string): Promise<string> {
    const tokens = this.requireTokens();

    // Another caller already replaced the rejected token.
    if (tokens.accessToken !== rejectedToken) {
      return this.getAccessToken();
    }

    try {
      return await this.refresh();
    } catch (error) {
      if (isRateLimit(error) && this.tokens === tokens) {
        return this.refreshAfterRateLimit(error);
      }
      throw error;
    }
  }

  /** Refreshes the access token now; concurrent callers share one token request. */
  refresh(): Promise<string> {
    this.refreshInFlight ??= this.refreshOnce().finally(() => {
      this.refreshInFlight = null;
    });
    return this.refreshInFlight;
  }

  /**
   * Ends the session: revokes the refresh (or access) token on the server, best
   * effort, and deletes the keychain entry. Throws `KeychainUnavailableError` when
   * the entry could not be deleted; the in-memory session is gone either way.
   */
  async signOut(): Promise<void> {
    const tokens = this.tokens;
    this.generation += 1;
    this.tokens = null;
    this.refreshInFlight = null;
    this.cancelBackgroundRefresh();
    this.stopKeychainRetries();

    if (tokens !== null) {
      await this.revoke(tokens);
    }
    await this.inKeychainQueue(() => this.options.credentialStore.delete(CredentialAccount.OAuthTokens));
    this.options.logger.info('Signed out', { ownerId: tokens?.ownerId ?? null });
  }

  private async refreshOnce(): Promise<string> {
    const tokens = this.requireTokens();
    const generation = this.generation;
    const now = this.options.now();

    if (tokens.refreshToken === null) {
      throw await this.expire('no-refresh-token');
    }
    if (tokens.refreshTokenExpiresAt !== null && now >= tokens.refreshTokenExpiresAt) {
      throw await this.expire('refresh-token-expired');
    }

    let fresh: OAuthTokens;
    try {
      fresh = await this.requestTokens({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
    } catch (error) {
      if (error instanceof PlatformError && error.oauthError === 'invalid_grant' && generation === this.generation) {
        throw await this.expire('refresh-rejected', error);
      }
      throw error;
    }

    if (generation !== this.generation) {
      throw new NotSignedInError();
    }

    this.tokens = fresh;
    this.backgroundRefreshFailures = 0;
    this.options.logger.info('Refreshed the access token', {
      ownerId: fresh.ownerId,
      accessTokenExpiresAt: fresh.accessTokenExpiresAt,
    });
    this.scheduleBackgroundRefresh();

    // The new access token is usable at once. The keychain write runs behind any
    // earlier one and reports its own outcome, so a slow or hung keychain does
    // not hold up the requests that wait for this refresh.
    this.storeCurrentTokens().catch((error: unknown) => {
      this.options.logger.error('A token storage listener failed', { error });
    });
    return fresh.accessToken;
  }

  /**
   * Writes the current tokens to the keychain and reports the outcome to the
   * storage listeners. A failed write is retried on a timer until one succeeds
   * or the session ends. Until then the session works from memory only, and
   * after an app restart the platform rejects the old refresh token.
   */
  private async storeCurrentTokens(): Promise<void> {
    this.cancelKeychainRetry();
    this.keychainWriteAttempt += 1;
    const attempt = this.keychainWriteAttempt;
    const generation = this.generation;

    let storageError: unknown = null;
    try {
      // The tokens are read when the write runs, so a queued retry writes the newest ones.
      await this.inKeychainQueue(async () => {
        if (this.tokens !== null && generation === this.generation) {
          await this.storeTokens(this.tokens);
        }
      });
    } catch (error) {
      storageError = error;
    }

    // A newer write or the end of the session makes this outcome irrelevant.
    if (attempt !== this.keychainWriteAttempt || generation !== this.generation || this.tokens === null) {
      return;
    }

    if (storageError === null) {
      if (this.keychainWriteFailures > 0) {
        this.options.logger.info('Stored the refreshed tokens in the keychain after failed writes', {
          failedWrites: this.keychainWriteFailures,
        });
      }
      this.keychainWriteFailures = 0;
    } else {
      this.keychainWriteFailures += 1;
      const minMs = this.options.keychainRetryMinMs ?? KEYCHAIN_RETRY_MIN_MS;
      const retryInMs = Math.min(minMs * 2 ** (this.keychainWriteFailures - 1), KEYCHAIN_RETRY_MAX_MS);
      this.options.logger.error('Could not store the refreshed tokens in the keychain', {
        failedWrites: this.keychainWriteFailures,
        retryInMs,
        error: storageError,
      });
      const timer = setTimeout(() => void this.storeCurrentTokens(), retryInMs);
      timer.unref?.();
      this.keychainRetryTimer = timer;
    }

    for (const listener of this.tokenStorageListeners) listener(storageError);
  }

  private cancelKeychainRetry(): void {
    if (this.keychainRetryTimer !== null) {
      clearTimeout(this.keychainRetryTimer);
      this.keychainRetryTimer = null;
    }
  }

  /** Cancels the retry of a failed token write when a session starts or ends. */
  private stopKeychainRetries(): void {
    this.cancelKeychainRetry();
    this.keychainWriteFailures = 0;
  }

  private inKeychainQueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.keychainQueue.then(operation);
    this.keychainQueue = result.catch(() => undefined);
    return result;
  }

  /** Ends the session after a failed refresh and notifies the expiry listeners. */
  private async expire(reason: SessionExpiryReason, cause?: unknown): Promise<SessionExpiredError> {
    const error = new SessionExpiredError(reason, { cause });
    const ownerId = this.tokens?.ownerId ?? null;
    this.generation += 1;
    this.tokens = null;
    this.cancelBackgroundRefresh();
    this.stopKeychainRetries();
    this.options.logger.warn('Session expired; the user has to sign in again', { reason, ownerId });

    try {
      await this.inKeychainQueue(() => this.options.credentialStore.delete(CredentialAccount.OAuthTokens));
    } catch (deleteError) {
      this.options.logger.error('Could not delete the expired session from the keychain', { error: deleteError });
    }

    for (const listener of this.expiryListeners) {
      listener(error);
    }
    return error;
  }

  /**
   * Waits until the token endpoint's `Retry-After` has passed, then refreshes
   * once more, shared with concurrent callers. A wait longer than
   * `MAX_RATE_LIMIT_WAIT_MS` is not taken: `error` goes to the caller.
   */
  private async refreshAfterRateLimit(error: PlatformError): Promise<string> {
    const waitMs = this.tokenRequestsBlockedUntil - this.options.now();
    if (waitMs > MAX_RATE_LIMIT_WAIT_MS) {
      throw error;
    }

    const generation = this.generation;
    if (waitMs > 0) {
      this.options.logger.warn('Token endpoint returned 429; waiting for Retry-After, then refreshing once', { waitMs });
      await delay(waitMs);
    }
    if (generation !== this.generation) {
      throw new NotSignedInError();
    }

    // Another caller may have refreshed while this one waited.
    const tokens = this.requireTokens();
    if (this.options.now() < tokens.accessTokenExpiresAt - REFRESH_MARGIN_MS) {
      return tokens.accessToken;
    }
    return this.refresh();
  }

  /** Schedules the background refresh `REFRESH_MARGIN_MS` before expiry, or after `delayMs`. */
  private scheduleBackgroundRefresh(delayMs?: number): void {
    this.cancelBackgroundRefresh();
    const tokens = this.tokens;
    if (tokens === null || tokens.refreshToken === null) {
      return;
    }

    const dueInMs = delayMs ?? tokens.accessTokenExpiresAt - REFRESH_MARGIN_MS - this.options.now();
    const timer = setTimeout(() => void this.refreshInBackground(), Math.min(Math.max(dueInMs, 0), MAX_TIMER_DELAY_MS));
    timer.unref?.();
    this.backgroundRefreshTimer = timer;
  }

  private cancelBackgroundRefresh(): void {
    if (this.backgroundRefreshTimer !== null) {
      clearTimeout(this.backgroundRefreshTimer);
      this.backgroundRefreshTimer = null;
    }
  }

  private async refreshInBackground(): Promise<void> {
    this.backgroundRefreshTimer = null;
    const tokens = this.tokens;
    if (tokens === null) {
      return;
    }

    // A timer capped at MAX_TIMER_DELAY_MS, or a clock change, can fire early.
    if (this.options.now() < tokens.accessTokenExpiresAt - REFRESH_MARGIN_MS) {
      this.scheduleBackgroundRefresh();
      return;
    }

    try {
      await this.refresh();
    } catch (error) {
      if (error instanceof SessionExpiredError || error instanceof NotSignedInError || this.tokens === null) {
        return;
      }

      this.backgroundRefreshFailures += 1;
      const backoffMs = Math.min(
        BACKGROUND_RETRY_MIN_MS * 2 ** (this.backgroundRefreshFailures - 1),
        BACKGROUND_RETRY_MAX_MS,
      );
      const retryInMs = Math.max(backoffMs, this.tokenRequestsBlockedUntil - this.options.now());
      this.options.logger.warn('Background token refresh failed; trying again later', { retryInMs, error });
      this.scheduleBackgroundRefresh(retryInMs);
    }
  }

  private async requestTokens(form: Record<string, string>): Promise<OAuthTokens> {
    const now = this.options.now();
    if (now < this.tokenRequestsBlockedUntil && this.lastRateLimit !== null) {
      const remainingSeconds = Math.ceil((this.tokenRequestsBlockedUntil - now) / 1000);
      this.options.logger.warn('Token request not sent: the token endpoint asked to wait', { remainingSeconds });
      throw withRetryAfter(this.lastRateLimit, remainingSeconds);
    }

    const { body, basicAuth } = this.withClientAuthentication(form);
    let response: unknown;
    try {
      response = await this.options.client.postForm(TOKEN_PATH, body, { basicAuth });
    } catch (error) {
      if (error instanceof PlatformError && error.status === 429) {
        const retryAfterSeconds = error.retryAfterSeconds ?? DEFAULT_TOKEN_RETRY_AFTER_SECONDS;
        this.tokenRequestsBlockedUntil = this.options.now() + retryAfterSeconds * 1000;
        this.lastRateLimit = error;
      }
      throw error;
    }

    const parsed = tokenResponseSchema.safeParse(response);
    if (!parsed.success) {
      throw new InvalidTokenResponseError(
        `The token endpoint ${TOKEN_PATH} returned a response without a usable access_token or expires_in ` +
          `(${parsed.error.issues.map((issue) => issue.path.join('.') || 'body').join(', ')}).`,
      );
    }
    return tokensFromResponse(parsed.data, now);
  }

  private withClientAuthentication(form: Record<string, string>): {
    body: Record<string, string>;
    basicAuth: { username: string; password: string } | undefined;
  } {
    const { clientId, clientSecret } = this.options.clientCredentials();

    // RFC 6749 section 2.3.1: a confidential client authenticates with HTTP Basic;
    // a public client only identifies itself with client_id in the body.
    if (clientSecret !== null && clientSecret !== '') {
      return { body: form, basicAuth: { username: clientId, password: clientSecret } };
    }
    return { body: { ...form, client_id: clientId }, basicAuth: undefined };
  }

  private async revoke(tokens: OAuthTokens): Promise<void> {
    const token = tokens.refreshToken ?? tokens.accessToken;
    const { body, basicAuth } = this.withClientAuthentication({ token });

    try {
      await this.options.client.postForm(REVOKE_PATH, body, { basicAuth, timeoutMs: REVOKE_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof InvalidPlatformResponseError) {
        // The platform accepted the revocation, so the response body does not matter.
        return;
      }
      this.options.logger.warn('Could not revoke the token; it stays valid on the server until it expires', {
        error,
      });
    }
  }

  private async storeTokens(tokens: OAuthTokens): Promise<void> {
    const { clientId } = this.options.clientCredentials();
    const stored: StoredSession = { version: 1, baseUrl: this.options.baseUrl(), clientId, tokens };
    await this.options.credentialStore.set(CredentialAccount.OAuthTokens, JSON.stringify(stored));
  }

  private checkRestorable(stored: StoredSession): string | null {
    const baseUrl = this.options.baseUrl();
    const { clientId } = this.options.clientCredentials();
    const { tokens } = stored;
    const now = this.options.now();

    if (stored.baseUrl !== baseUrl) {
      return `the session belongs to ${stored.baseUrl}, but the settings select ${baseUrl}`;
    }
    if (stored.clientId !== clientId) {
      return 'the session belongs to another client id';
    }

    const accessTokenUsable = now < tokens.accessTokenExpiresAt - REFRESH_MARGIN_MS;
    const refreshTokenUsable =
      tokens.refreshToken !== null && (tokens.refreshTokenExpiresAt === null || now < tokens.refreshTokenExpiresAt);
    if (!accessTokenUsable && !refreshTokenUsable) {
      return 'both tokens have expired';
    }
    return null;
  }

  private requireTokens(): OAuthTokens {
    if (this.tokens === null) {
      throw new NotSignedInError();
    }
    return this.tokens;
  }
}

function parseStoredSession(text: string): StoredSession | null {
  try {
    const result = storedSessionSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

function isRateLimit(error: unknown): error is PlatformError {
  return error instanceof PlatformError && error.status === 429;
}

/** Resolves after `ms`; reads the global `setTimeout` at call time, so fake timers in tests apply. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms).unref?.();
  });
}

function withRetryAfter(error: PlatformError, retryAfterSeconds: number): PlatformError {
  return new PlatformError(
    error.method,
    error.path,
    error.status,
    error.errorCode,
    error.message,
    retryAfterSeconds,
    error.rateLimitGroup,
    error.errors,
    error.oauthError,
  );
}
