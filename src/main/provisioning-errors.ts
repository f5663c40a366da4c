import type { UserFacingError } from '../shared/errors';
import { PlatformError } from './platform-client';
import { describeCommonPlatformFailure, describeUnknownPlatformError } from './platform-failures';

const REQUEST_NAME = 'SIP provisioning';

/** SIP provisioning failed; `userError` is what the UI shows. */
export class ProvisioningError extends Error {
  override readonly name = 'ProvisioningError';

  constructor(
    readonly userError: UserFacingError,
    options?: { cause?: unknown },
  ) {
    super(`SIP provisioning failed (${userError.code}): ${userError.message}`, options);
  }
}

type Explanation = Pick<UserFacingError, 'message' | 'action'>;

const REPORT_APP_BUG =
  'Update RC Softphone to the latest version. If the error remains, report it to the app developers with this code.';

/**
 * The error codes documented for `POST /restapi/v1.0/client-info/sip-provision`
 * in RingCentral's API reference ("Register SIP Device"), explained for the user.
 */
const DOCUMENTED_ERRORS: Record<string, Explanation> = {
  'CMN-101': {
    message: 'The RingCentral platform rejected the SIP transport this app requested (WSS).',
    action: REPORT_APP_BUG,
  },
  'SPR-114': {
    message: 'The RingCentral platform rejected the device id sent by this app because it is longer than 38 characters.',
    action: REPORT_APP_BUG,
  },
  'SPR-118': {
    message: 'The RingCentral platform rejected the device id sent by this app because it is not a number.',
    action: REPORT_APP_BUG,
  },
  'SPR-129': {
    message: 'The RingCentral platform rejected the list of SIP transports this app requested as incompatible.',
    action: REPORT_APP_BUG,
  },
  'SPR-130': {
    message: 'This device is not allowed to use WebRTC calling on your RingCentral account.',
    action: 'Ask your RingCentral administrator to allow WebRTC (browser-based) calling for your user and device.',
  },
  'BIL-103': {
    message: 'Your RingCentral account does not include the WebPhone feature, so this softphone cannot make calls.',
    action: 'Ask your RingCentral account administrator to enable WebPhone calling or upgrade the service plan.',
  },
  'CMN-401': {
    message: 'The app registered under this client id lacks the "VoIP Calling" permission.',
    action:
      'Whoever manages the app in the RingCentral Developer Console must add the VoIP Calling permission; ' +
      'or enter the client id of an app that has it.',
  },
  'CMN-402': {
    message: 'Your RingCentral user lacks a permission that SIP provisioning needs.',
    action: 'Ask your RingCentral administrator to grant your user the required permission, then try again.',
  },
  'SPR-112': {
    message: 'The app registered under this client id is not allowed to run browser-based (WebRTC) clients for your brand.',
    action:
      'Whoever manages the app in the RingCentral Developer Console must choose a platform type that allows ' +
      'browser-based clients; or enter the client id of such an app.',
  },
  'SPR-122': {
    message: 'The RingCentral platform could not read the app name and version from the request (X-User-Agent header).',
    action: REPORT_APP_BUG,
  },
};

/**
 * Converts any failure of a provisioning request into the error the UI shows.
 * Unknown platform codes keep the platform's own message and code.
 */
export function describeProvisioningFailure(error: unknown): UserFacingError {
  if (error instanceof ProvisioningError) {
    return error.userError;
  }

  const common = describeCommonPlatformFailure(error, REQUEST_NAME);
  if (common !== null) {
    return common;
  }

  if (error instanceof PlatformError) {
    const codes = [error.errorCode, ...error.errors.map((detail) => detail.errorCode)];
    for (const code of codes) {
      const explanation = code === null ? undefined : DOCUMENTED_ERRORS[code];
      if (code !== null && explanation !== undefined) {
        return { code, ...explanation };
      }
    }

    if (error.status === 401) {
      return {
        code: error.errorCode ?? 'HTTP-401',
        message: 'The RingCentral platform rejected the sign-in token even after a refresh.',
        action: 'Sign out and sign in again.',
      };
    }
    return describeUnknownPlatformError(error, REQUEST_NAME);
  }

  return {
    code: 'INTERNAL_ERROR',
    message: `SIP provisioning failed inside the app: ${error instanceof Error ? error.message : String(error)}.`,
    action: REPORT_APP_BUG,
  };
}

/** Wraps any provisioning failure in a `ProvisioningError` with its user-facing description. */
export function toProvisioningError(error: unknown): ProvisioningError {
  if (error instanceof ProvisioningError) {
    return error;
  }
  return new ProvisioningError(describeProvisioningFailure(error), { cause: error });
}
