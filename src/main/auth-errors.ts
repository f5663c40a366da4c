import type { UserFacingError } from '../shared/errors';
import { InvalidTokenResponseError, SessionExpiredError, SignInCancelledError } from './auth-session';
import { BrowserSignInError } from './browser-sign-in';
import { KeychainUnavailableError } from './credential-store';
import { PlatformError } from './platform-client';
import { describeCommonPlatformFailure, describeUnknownPlatformError } from './platform-failures';
import { InvalidServerUrlError } from './platform-servers';
import { InvalidExtensionInfoError } from './signed-in-user';

const REQUEST_NAME = 'sign-in';

/** Sign-in method: OAuth authorization code with PKCE in the browser, or a JWT credential. */
export type SignInMethod = 'browser' | 'jwt';

/**
 * Converts a failed sign-in (browser, token request, keychain, settings) into the
 * error the UI shows. `method` selects the wording of grant and client errors.
 */
export function describeSignInFailure(error: unknown, method: SignInMethod = 'jwt'): UserFacingError {
  if (
    error instanceof KeychainUnavailableError ||
    error instanceof SessionExpiredError ||
    error instanceof BrowserSignInError
  ) {
    return error.userError;
  }

  if (error instanceof InvalidServerUrlError) {
    return { code: 'INVALID_SERVER_URL', message: error.message, action: 'Correct the server URL in the settings.' };
  }

  if (error instanceof SignInCancelledError) {
    return { code: 'SIGN_IN_CANCELLED', message: 'The sign-in was cancelled.', action: 'Sign in again.' };
  }

  if (error instanceof InvalidTokenResponseError || error instanceof InvalidExtensionInfoError) {
    return {
      code: 'INVALID_TOKEN_RESPONSE',
      message: `Sign-in failed: ${error.message}`,
      action: 'Check that the server in the settings is a RingCentral platform, then try again.',
    };
  }

  if (error instanceof PlatformError && error.status === 429) {
    const wait = error.retryAfterSeconds ?? 60;
    return {
      code: error.errorCode ?? 'HTTP-429',
      message: 'The RingCentral platform is limiting sign-in requests from this app and user.',
      action: `Wait ${wait} seconds, then sign in again.`,
    };
  }

  const common = describeCommonPlatformFailure(error, REQUEST_NAME);
  if (common !== null) {
    return common;
  }

  if (error instanceof PlatformError) {
    return describeOAuthError(error, method);
  }

  return {
    code: 'INTERNAL_ERROR',
    message: `Sign-in failed inside the app: ${error instanceof Error ? error.message : String(error)}.`,
    action: 'Try again. If it keeps failing, report it to the app developers.',
  };
}

/** OAuth error codes of the token endpoint (RFC 6749 section 5.2) as RingCentral sends them. */
function describeOAuthError(error: PlatformError, method: SignInMethod): UserFacingError {
  switch (error.oauthError) {
    case 'invalid_grant':
      if (method === 'browser') {
        return {
          code: error.errors[0]?.errorCode ?? 'invalid_grant',
          message: `The RingCentral platform rejected the authorization code from the browser: ${error.message}`,
          action: 'Click "Sign in with browser" again.',
        };
      }
      return {
        code: error.errors[0]?.errorCode ?? 'invalid_grant',
        message: `The RingCentral platform rejected the JWT credential: ${error.message}`,
        action:
          'Paste the whole JWT credential again. If it expired or was revoked, create a new one under ' +
          'Credentials in the RingCentral Developer Console.',
      };
    case 'invalid_client':
    case 'unauthorized_client':
      return {
        code: error.oauthError,
        message: `The RingCentral platform rejected the client id or client secret in the settings: ${error.message}`,
        action:
          method === 'browser'
            ? 'Check the client id and client secret. The app they belong to must allow the Authorization Code ' +
              'flow and run on the server selected in the settings (production or sandbox).'
            : 'Check the client id and client secret. The app they belong to must allow the JWT auth flow and run ' +
              'on the server selected in the settings (production or sandbox).',
      };
    default:
      return describeUnknownPlatformError(error, REQUEST_NAME);
  }
}
