import type { UserFacingError } from '../shared/errors';
import { InvalidTokenResponseError, SessionExpiredError, SignInCancelledError } from './auth-session';
import { KeychainUnavailableError } from './credential-store';
import { PlatformError } from './platform-client';
import { describeCommonPlatformFailure, describeUnknownPlatformError } from './platform-failures';
import { InvalidServerUrlError } from './platform-servers';
import { InvalidExtensionInfoError } from './signed-in-user';

const REQUEST_NAME = 'sign-in';

/** Converts a failed sign-in (token request, keychain, settings) into the error the UI shows. */
export function describeSignInFailure(error: unknown): UserFacingError {
  if (error instanceof KeychainUnavailableError || error instanceof SessionExpiredError) {
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
    return describeOAuthError(error);
  }

  return {
    code: 'INTERNAL_ERROR',
    message: `Sign-in failed inside the app: ${error instanceof Error ? error.message : String(error)}.`,
    action: 'Try again. If it keeps failing, report it to the app developers.',
  };
}

/** OAuth error codes of the token endpoint (RFC 6749 section 5.2) as RingCentral sends them. */
function describeOAuthError(error: PlatformError): UserFacingError {
  switch (error.oauthError) {
    case 'invalid_grant':
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
        message: `The RingCentral platform rejected the client id in the settings: ${error.message}`,
        action:
          'Check the client id. The app it belongs to must allow the JWT auth flow and run on the server ' +
          'selected in the settings (production or sandbox).',
      };
    default:
      return describeUnknownPlatformError(error, REQUEST_NAME);
  }
}
