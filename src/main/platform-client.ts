import type { Logger } from './logger';

/** One entry of the `errors` array in a RingCentral error body. */
export interface PlatformErrorDetail {
  errorCode: string | null;
  message: string | null;
  parameterName: string | null;
}

/**
 * The platform responded with an HTTP error status. `errorCode` comes from a RingCentral
 * body (`errorCode`, or the first `errors[].errorCode`) or an OAuth body
 * (`error`), and is null when the body was not JSON. `message` is the platform's
 * own text when it sent one.
 */
export class PlatformError extends Error {
  override readonly name = 'PlatformError';

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly errorCode: string | null,
    message: string,
    /** Seconds from the `Retry-After` header, when present. */
    readonly retryAfterSeconds: number | null,
    /** `X-Rate-Limit-Group` header, for example `Heavy`. */
    readonly rateLimitGroup: string | null,
    readonly errors: PlatformErrorDetail[] = [],
    /** The OAuth `error` field (RFC 6749 section 5.2), such as `invalid_grant`; null in other bodies. */
    readonly oauthError: string | null = null,
  ) {
    super(message);
  }
}

/** The request got no HTTP response: DNS, TCP or TLS failure, or the timeout. */
export class PlatformNetworkError extends Error {
  override readonly name = 'PlatformNetworkError';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    const reason = timedOut ? 'timed out' : describeCause(options?.cause);
    super(`${method} ${url} failed before an HTTP response arrived: ${reason}`, options);
  }
}

/** A 2xx response whose body is not the JSON the client expected. */
export class InvalidPlatformResponseError extends Error {
  override readonly name = 'InvalidPlatformResponseError';

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly contentType: string | null,
    reason: string,
  ) {
    super(`${method} ${path} returned HTTP ${status} with an invalid body (${contentType ?? 'no content type'}): ${reason}`);
  }
}

/**
 * Supplies bearer tokens to REST calls. Implemented by the auth session, which
 * refreshes before expiry and after a 401.
 */
export interface BearerTokenSource {
  /** Returns a usable access token, refreshing it first when it is about to expire. */
  getAccessToken(): Promise<string>;
  /** Called after the platform rejected `rejectedToken` with 401; returns a fresh token. */
  refreshAfterRejection(rejectedToken: string): Promise<string>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface PlatformClientOptions {
  fetch: typeof fetch;
  /** Returns the current platform base URL without a trailing slash; read for every request. */
  baseUrl: () => string;
  /** Product token of the `X-User-Agent` header, for example `RCSoftphone`. */
  appName: string;
  /** Version in the `X-User-Agent` header; sip-provision rejects a missing or unparseable one with SPR-122. */
  appVersion: string;
  now: () => number;
  logger: Logger;
  /** Milliseconds before a request is abandoned; 30 s unless set. */
  requestTimeoutMs?: number;
}

export interface FormRequestOptions {
  /** HTTP Basic credentials, for OAuth client authentication. */
  basicAuth?: { username: string; password: string };
  timeoutMs?: number;
}

export interface PlatformClient {
  /** Posts a form-encoded body without a bearer token (the OAuth endpoints); returns the parsed JSON response. */
  postForm(path: string, form: Record<string, string>, options?: FormRequestOptions): Promise<unknown>;
  /**
   * Sends a JSON REST request with a bearer token from `tokens`. On a 401 it requests
   * a fresh token from `tokens` once and retries once. Returns the parsed JSON
   * response, or null for an empty body.
   */
  request(tokens: BearerTokenSource, method: HttpMethod, path: string, body?: unknown): Promise<unknown>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

// A product token (RFC 9110 section 10.1.5 `product = token ["/" product-version]`)
// whose version starts like semver, because sip-provision parses it.
const APP_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const APP_VERSION_PATTERN = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/;

/** Returns the `X-User-Agent` value `<appName>/<appVersion>`; throws when either part is unusable. */
export function formatAppIdentity(appName: string, appVersion: string): string {
  if (!APP_NAME_PATTERN.test(appName)) {
    throw new Error(`Invalid app name "${appName}" for X-User-Agent: use letters, digits and "-._" without spaces.`);
  }
  if (!APP_VERSION_PATTERN.test(appVersion)) {
    throw new Error(`Invalid app version "${appVersion}" for X-User-Agent: use a semantic version such as 1.2.3.`);
  }
  return `${appName}/${appVersion}`;
}

/** Creates a RingCentral REST client that sends `X-User-Agent` on every request. */
export function createPlatformClient(options: PlatformClientOptions): PlatformClient {
  const appIdentity = formatAppIdentity(options.appName, options.appVersion);
  const defaultTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const logger = options.logger;

  const send = async (method: string, path: string, headers: Headers, body: string | undefined, timeoutMs: number) => {
    const url = `${options.baseUrl()}${path}`;
    headers.set('X-User-Agent', appIdentity);
    headers.set('Accept', 'application/json');

    try {
      return await options.fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      throw new PlatformNetworkError(method, url, timedOut, { cause: error });
    }
  };

  const readAnswer = async (method: string, path: string, response: Response): Promise<unknown> => {
    const text = await readBody(method, response);

    if (!response.ok) {
      const error = parsePlatformError(method, path, response, text, options.now());
      logger.warn('Platform request failed', {
        method,
        path,
        status: error.status,
        errorCode: error.errorCode,
        retryAfterSeconds: error.retryAfterSeconds,
        rateLimitGroup: error.rateLimitGroup,
      });
      throw error;
    }

    if (text.trim() === '') {
      return null;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new InvalidPlatformResponseError(
        method,
        path,
        response.status,
        response.headers.get('content-type'),
        `not JSON (${(error as Error).message})`,
      );
    }
  };

  return {
    async postForm(path, form, formOptions = {}) {
      const headers = new Headers({ 'Content-Type': 'application/x-www-form-urlencoded' });
      if (formOptions.basicAuth !== undefined) {
        const { username, password } = formOptions.basicAuth;
        headers.set('Authorization', `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
      }

      const body = new URLSearchParams(form).toString();
      const response = await send('POST', path, headers, body, formOptions.timeoutMs ?? defaultTimeoutMs);
      return readAnswer('POST', path, response);
    },

    async request(tokens, method, path, body) {
      const json = body === undefined ? undefined : JSON.stringify(body);
      const sendWithToken = (accessToken: string) => {
        const headers = new Headers({ Authorization: `Bearer ${accessToken}` });
        if (json !== undefined) {
          headers.set('Content-Type', 'application/json');
        }
        return send(method, path, headers, json, defaultTimeoutMs);
      };

      const accessToken = await tokens.getAccessToken();
      const response = await sendWithToken(accessToken);
      if (response.status !== 401) {
        return readAnswer(method, path, response);
      }

      // The token may have been revoked or expired early on the server: refresh
      // once and retry once; a second 401 is reported to the caller.
      await response.body?.cancel();
      logger.info('Access token rejected with 401; refreshing and retrying once', { method, path });
      const freshToken = await tokens.refreshAfterRejection(accessToken);
      return readAnswer(method, path, await sendWithToken(freshToken));
    },
  };
}

async function readBody(method: string, response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new PlatformNetworkError(method, response.url, false, { cause: error });
  }
}

/** Builds a `PlatformError` from an error response in either the RingCentral or the OAuth shape. */
export function parsePlatformError(
  method: string,
  path: string,
  response: Pick<Response, 'status' | 'statusText' | 'headers'>,
  bodyText: string,
  now: number,
): PlatformError {
  const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), now);
  const rateLimitGroup = response.headers.get('x-rate-limit-group');
  const fallbackMessage =
    `The platform returned HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} ` +
    `to ${method} ${path} without an error description.`;

  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = null;
  }

  if (!isRecord(body)) {
    return new PlatformError(method, path, response.status, null, fallbackMessage, retryAfterSeconds, rateLimitGroup);
  }

  const errors = Array.isArray(body['errors']) ? body['errors'].filter(isRecord).map(toErrorDetail) : [];
  const firstDetail = errors[0];

  const oauthError = stringOrNull(body['error']);
  const errorCode = stringOrNull(body['errorCode']) ?? oauthError ?? firstDetail?.errorCode ?? null;
  const message =
    stringOrNull(body['message']) ??
    stringOrNull(body['error_description']) ??
    firstDetail?.message ??
    fallbackMessage;

  return new PlatformError(
    method,
    path,
    response.status,
    errorCode,
    message,
    retryAfterSeconds,
    rateLimitGroup,
    errors,
    oauthError,
  );
}

/** Parses `Retry-After` as delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') {
    return null;
  }

  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed);
  }

  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) {
    return null;
  }
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function toErrorDetail(entry: Record<string, unknown>): PlatformErrorDetail {
  return {
    errorCode: stringOrNull(entry['errorCode']),
    message: stringOrNull(entry['message']),
    parameterName: stringOrNull(entry['parameterName']),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) {
    return String(cause);
  }

  // undici puts the system error (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const inner = cause.cause;
  if (inner instanceof Error) {
    const code = (inner as NodeJS.ErrnoException).code;
    return code !== undefined ? `${cause.message} (${code})` : `${cause.message} (${inner.message})`;
  }
  return cause.message;
}
