import type { UserFacingError } from '../shared/errors';
import { InvalidPlatformResponseError, PlatformError, PlatformNetworkError } from './platform-client';

/**
 * Describes the failures any platform request can meet: rate limits, server
 * errors, network failures and unusable responses. Returns null for other errors,
 * which the caller describes in its own terms.
 */
export function describeCommonPlatformFailure(error: unknown, requestName: string): UserFacingError | null {
  if (error instanceof PlatformNetworkError) {
    return {
      code: error.timedOut ? 'NETWORK_TIMEOUT' : 'NETWORK_ERROR',
      message: `The ${requestName} request could not reach the RingCentral platform at ${originOf(error.url)} (${
        error.timedOut ? 'timed out' : 'no connection'
      }).`,
      action: 'Check your internet connection, proxy or firewall and the server selected in the settings, then try again.',
    };
  }

  if (error instanceof InvalidPlatformResponseError) {
    const contentType = error.contentType ?? 'no content type';
    return {
      code: 'INVALID_RESPONSE',
      message:
        `The RingCentral platform responded to the ${requestName} request with a body that is not JSON ` +
        `(HTTP ${error.status}, ${contentType}).`,
      action: 'Check that the server in the settings is a RingCentral platform, then try again.',
    };
  }

  if (!(error instanceof PlatformError)) {
    return null;
  }

  if (error.status === 429) {
    const wait = error.retryAfterSeconds !== null ? `${error.retryAfterSeconds} seconds` : 'a minute';
    const group = error.rateLimitGroup !== null ? ` (rate limit group ${error.rateLimitGroup})` : '';
    return {
      code: error.errorCode ?? 'HTTP-429',
      message: `The RingCentral platform rejected the ${requestName} request because too many requests were sent${group}.`,
      action: `Wait ${wait}, then try again.`,
    };
  }

  if (error.status >= 500) {
    return {
      code: error.errorCode ?? `HTTP-${error.status}`,
      message: `The RingCentral platform failed to process the ${requestName} request (HTTP ${error.status}: ${error.message}).`,
      action: 'This is a problem on the server side: try again in a few minutes.',
    };
  }

  return null;
}

/** Describes a platform error without a specific mapping by the platform's own message and code. */
export function describeUnknownPlatformError(error: PlatformError, requestName: string): UserFacingError {
  const code = error.errorCode ?? `HTTP-${error.status}`;
  return {
    code,
    message: `The RingCentral platform rejected the ${requestName} request: ${error.message} (${code}, HTTP ${error.status}).`,
    action: `Try again. If it keeps failing, contact your RingCentral administrator or support and quote the code ${code}.`,
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
