import { isIPv4, isIPv6 } from 'node:net';

import type CreateSipRegistrationResponse from '@rc-ex/core/definitions/CreateSipRegistrationResponse';
import type SipInfoResponse from '@rc-ex/core/definitions/SipInfoResponse';
import { z } from 'zod';

import type { SipProfile } from '../shared/sip-profile';
import { NotSignedInError, SessionExpiredError } from './auth-session';
import type { BearerTokenSource, PlatformClient } from './platform-client';
import { ProvisioningError, toProvisioningError } from './provisioning-errors';

export const SIP_PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';

/** Request body of a WebRTC client: SIP over secure WebSocket only. */
export const SIP_PROVISION_REQUEST = { sipInfo: [{ transport: 'WSS' }] } as const;

/** Defaults for fields the platform may leave out, as RingCentral's web phone SDKs assume them. */
export const SIP_PROFILE_DEFAULTS = {
  switchBackIntervalSeconds: 3600,
  sipErrorCodes: [408, 502, 503, 504],
  pollingIntervalSeconds: 7200,
} as const;

const nonEmptyString = z.string().trim().min(1);

/**
 * A host name as SIP URIs allow it (RFC 3261 section 25.1): dot-separated
 * labels whose last label starts with a letter. The trailing dot that the RFC
 * allows is rejected, because sip.js 0.21 does not parse it in a WebSocket URL.
 */
const HOSTNAME_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
/**
 * The user part of a SIP URI (RFC 3261 section 25.1: unreserved, escaped and
 * user-unreserved characters), such as RingCentral's `16505550100*101`.
 */
const SIP_USER_PATTERN = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
/** A digest user name travels in a quoted string: printable ASCII without `"` and `\`. */
const DIGEST_USER_PATTERN = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

/** Tells whether `value` is a host name, an IPv4 address or an IPv6 address in brackets. */
function isHost(value: string): boolean {
  if (value.startsWith('[') && value.endsWith(']')) return isIPv6(value.slice(1, -1));
  return isIPv4(value) || (value.length <= 253 && HOSTNAME_PATTERN.test(value));
}

/** Tells whether `value` is `host` or `host:port` with a port from 1 to 65535, as in outboundProxy and stunServers. */
function isHostPort(value: string): boolean {
  const match = /^(.*?)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) return false;

  const [, host = '', port] = match;
  return isHost(host) && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535));
}

const hostPortString = nonEmptyString.refine(isHostPort, 'expected host or host:port');

// The fields a WSS entry needs to register. An entry that lacks one of them is
// skipped, and so is one whose value cannot form the SIP URI or WebSocket URL.
const usableWssEntrySchema = z.object({
  transport: z.literal('WSS'),
  username: nonEmptyString.regex(SIP_USER_PATTERN),
  password: nonEmptyString,
  authorizationId: nonEmptyString.regex(DIGEST_USER_PATTERN),
  domain: nonEmptyString.refine(isHost, 'expected a host name or IP address'),
  outboundProxy: hostPortString,
} satisfies { [K in keyof SipInfoResponse]?: z.ZodType });

// Optional fields of the chosen entry: missing is fine, a wrong type is an
// error. A backup proxy or STUN server that is not `host:port` is left out.
const wssEntryOptionsSchema = z.object({
  outboundProxyBackup: z.string().optional(),
  switchBackInterval: z.number().nonnegative().optional(),
  stunServers: z.array(z.string()).optional(),
} satisfies { [K in keyof SipInfoResponse]?: z.ZodType });

const sipErrorCodeSchema = z.union([
  z.number().int().min(100).max(699),
  z
    .string()
    .regex(/^[1-6]\d\d$/, 'expected a SIP status code')
    .transform(Number),
]);

const responseSchema = z.object({
  sipInfo: z.array(z.unknown()),
  device: z.object({ id: z.union([z.string(), z.number()]).optional() }).optional(),
  sipFlags: z
    .object({
      voipFeatureEnabled: z.boolean().optional(),
      voipCountryBlocked: z.boolean().optional(),
      outboundCallsEnabled: z.boolean().optional(),
    })
    .optional(),
  sipErrorCodes: z.array(sipErrorCodeSchema).optional(),
  pollingInterval: z.number().positive().optional(),
} satisfies { [K in keyof CreateSipRegistrationResponse]?: z.ZodType });

/** A cached `SipProfile`, checked again when read back from the keychain. */
export const sipProfileSchema = z.object({
  username: nonEmptyString,
  password: nonEmptyString,
  authorizationId: nonEmptyString,
  domain: nonEmptyString,
  outboundProxy: nonEmptyString,
  outboundProxyBackup: z.string().min(1).nullable(),
  switchBackInterval: z.number().nonnegative(),
  stunServers: z.array(z.string()),
  sipErrorCodes: z.array(z.number().int()),
  pollingInterval: z.number().positive(),
  sipFlags: z.object({
    voipFeatureEnabled: z.boolean(),
    voipCountryBlocked: z.boolean(),
    outboundCallsEnabled: z.boolean(),
  }),
  deviceId: z.string().nullable(),
}) satisfies z.ZodType<SipProfile>;

/**
 * Registers this softphone as a SIP device (`POST client-info/sip-provision`) and
 * returns its profile. Throws `ProvisioningError` for every platform, network or
 * format failure; session errors (`SessionExpiredError`, `NotSignedInError`) pass
 * through unchanged so the caller can end the session.
 */
export async function provisionSipProfile(client: PlatformClient, tokens: BearerTokenSource): Promise<SipProfile> {
  let body: unknown;
  try {
    body = await client.request(tokens, 'POST', SIP_PROVISION_PATH, SIP_PROVISION_REQUEST);
  } catch (error) {
    if (isSessionError(error)) {
      throw error;
    }
    throw toProvisioningError(error);
  }
  return parseSipProvisionResponse(body);
}

/**
 * Validates a sip-provision response into a `SipProfile`: the first `sipInfo` entry
 * with transport WSS and a password, and a username, authorizationId, domain
 * and outboundProxy that form a valid SIP URI and WebSocket URL. Unknown fields
 * are ignored, and so are a backup proxy or STUN server that is not `host:port`.
 * Throws `ProvisioningError` when there is no such entry or a field the app
 * reads has the wrong type.
 */
export function parseSipProvisionResponse(body: unknown): SipProfile {
  const response = responseSchema.safeParse(body);
  if (!response.success) {
    throw invalidAnswer(describeIssue(response.error));
  }

  const entryIndex = response.data.sipInfo.findIndex((entry) => usableWssEntrySchema.safeParse(entry).success);
  if (entryIndex === -1) {
    throw invalidAnswer(
      'it has no sipInfo entry for transport WSS with a valid username, password, authorizationId, domain and outboundProxy',
    );
  }

  const rawEntry = response.data.sipInfo[entryIndex];
  const entry = usableWssEntrySchema.parse(rawEntry);
  const entryOptions = wssEntryOptionsSchema.safeParse(rawEntry);
  if (!entryOptions.success) {
    throw invalidAnswer(describeIssue(entryOptions.error, `sipInfo.${entryIndex}`));
  }

  const { outboundProxyBackup, switchBackInterval, stunServers } = entryOptions.data;
  const { device, sipFlags, sipErrorCodes, pollingInterval } = response.data;

  return {
    username: entry.username,
    password: entry.password,
    authorizationId: entry.authorizationId,
    domain: entry.domain,
    outboundProxy: entry.outboundProxy,
    outboundProxyBackup: usableBackup(outboundProxyBackup, entry.outboundProxy),
    switchBackInterval: switchBackInterval ?? SIP_PROFILE_DEFAULTS.switchBackIntervalSeconds,
    stunServers: (stunServers ?? []).map((server) => server.trim()).filter(isHostPort),
    sipErrorCodes: sipErrorCodes ?? [...SIP_PROFILE_DEFAULTS.sipErrorCodes],
    pollingInterval: pollingInterval ?? SIP_PROFILE_DEFAULTS.pollingIntervalSeconds,
    sipFlags: {
      voipFeatureEnabled: sipFlags?.voipFeatureEnabled ?? true,
      voipCountryBlocked: sipFlags?.voipCountryBlocked ?? false,
      outboundCallsEnabled: sipFlags?.outboundCallsEnabled ?? true,
    },
    deviceId: device?.id === undefined ? null : String(device.id),
  };
}

/** Returns the backup proxy when it is a `host:port` other than the primary, else null. */
function usableBackup(value: string | undefined, primary: string): string | null {
  const backup = value?.trim() ?? '';
  return isHostPort(backup) && backup !== primary ? backup : null;
}

function invalidAnswer(reason: string): ProvisioningError {
  return new ProvisioningError({
    code: 'INVALID_SIP_PROVISION_RESPONSE',
    message: `The RingCentral platform's SIP provisioning response cannot be used: ${reason}.`,
    action: 'Try again later. If it keeps failing, contact your RingCentral administrator or support.',
  });
}

/** Names the first problem by its field path, without dumping the zod error. */
function describeIssue(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  if (issue === undefined) {
    return 'it does not have the expected shape';
  }

  const path = [prefix, ...issue.path.map(String)].filter((part) => part !== undefined && part !== '').join('.');
  if (path === '') {
    return 'it is not a JSON object';
  }
  return `field "${path}" is missing or has the wrong type`;
}

function isSessionError(error: unknown): boolean {
  return error instanceof SessionExpiredError || error instanceof NotSignedInError;
}
