/** Error responses of the platform stand-in: REST API and OAuth error bodies and the documented codes. */
import type {
  ApiErrorEntry,
  ErrorResponse,
  OAuthErrorBody,
  OAuthErrorName,
  PlatformErrorBody,
  ProvisionErrorCode,
} from './types';

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

// ---------------------------------------------------------------------------
// Endpoint errors shared by several handlers
// ---------------------------------------------------------------------------

export const TOKEN_NOT_FOUND = (): ErrorResponse<OAuthErrorBody> =>
  oauthError(400, 'invalid_grant', 'OAU-213', 'Token not found');

/** 401 responses of /restapi/v1.0 for a missing or bad bearer token. */
export const API_AUTH_ERRORS = {
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

export const API_AUTH_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="RingCentral REST API"' };
