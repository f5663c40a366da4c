import { SIPExtension, UserAgent, type UserAgentOptions, type Web } from 'sip.js';

import type { SipProfile } from '../../shared/sip-profile';
import { createCallSessionDescriptionHandlerFactory } from './call-session-description-handler';
import { DEFAULT_ICE_GATHERING_BOUNDS } from './ice-gathering';
import { rememberSipServer } from './early-sip-socket';
import { SipWebSocketTransport, type SipWebSocketTransportOptions } from './websocket-transport';

/** Identity of this app in SIP and in RingCentral's extra headers. */
export interface SoftphoneIdentity {
  /** Stable per-installation UUID, sent as `+sip.instance` so restarts reuse one contact. */
  instanceId: string;
  /** The RingCentral app's client id, sent as `Client-id`. */
  clientId: string;
  /** `User-Agent` of SIP requests, `Name/version`. */
  userAgentString: string;
}

/**
 * Maximum time an SDP offer or answer waits for ICE candidates. Without a bound,
 * a STUN server that never answers holds the INVITE for the browser's full
 * gathering time. IceGatheringPolicy (ice-gathering.ts) usually ends the wait
 * far sooner, once the UDP candidates are in.
 */
export const ICE_GATHERING_TIMEOUT_MS = DEFAULT_ICE_GATHERING_BOUNDS.maxMs;

export function webSocketServerUrl(hostPort: string): string {
  return `wss://${hostPort}`;
}

/**
 * ICE servers from the provisioned `stunServers` (`host:port`) and nothing else:
 * sip.js would otherwise fall back to a public Google STUN server.
 */
export function iceServersFromProfile(profile: SipProfile): RTCIceServer[] {
  return profile.stunServers.map((hostPort) => ({ urls: `stun:${hostPort}` }));
}

/**
 * Headers RingCentral's web clients send on REGISTER, INVITE, REFER and INFO:
 * the endpoint id and the app's client id.
 */
export function ringCentralHeaders(identity: SoftphoneIdentity): string[] {
  return [`P-rc-endpoint-id: ${identity.instanceId}`, `Client-id: ${identity.clientId}`];
}

export class InvalidSipProfileError extends Error {
  constructor(field: string, value: string) {
    super(`The SIP profile's ${field} '${value}' does not form a valid SIP URI`);
    this.name = 'InvalidSipProfileError';
  }
}

/** AOR `sip:<username>@<domain>`. */
export function addressOfRecord(profile: SipProfile): string {
  return `sip:${profile.username}@${profile.domain}`;
}

/** Builds the sip.js UserAgent options for one proxy (`host:port`) of the profile. */
export function buildUserAgentOptions(
  profile: SipProfile,
  identity: SoftphoneIdentity,
  server: string,
  /** Where calls get their microphone stream; a new getUserMedia per call when absent. */
  mediaStreamFactory?: Web.MediaStreamFactory,
  /** Storage for the server the transport reached, read by the next start's early socket. */
  sipServerStorage?: Storage,
): UserAgentOptions {
  const aor = addressOfRecord(profile);
  const uri = UserAgent.makeURI(aor);
  if (!uri) throw new InvalidSipProfileError('address of record', aor);

  return {
    uri,
    transportConstructor: SipWebSocketTransport,
    transportOptions: {
      server: webSocketServerUrl(server),
      connectionTimeout: 5,
      // A function, so that sip.js's debug dump of the options (JSON) leaves the storage out.
      rememberServer: sipServerStorage === undefined ? undefined : (url) => rememberSipServer(sipServerStorage, url),
    } satisfies SipWebSocketTransportOptions,
    authorizationUsername: profile.authorizationId,
    authorizationPassword: profile.password,
    instanceId: identity.instanceId,
    userAgentString: identity.userAgentString,
    sessionDescriptionHandlerFactory: createCallSessionDescriptionHandlerFactory(
      DEFAULT_ICE_GATHERING_BOUNDS,
      mediaStreamFactory,
    ),
    sessionDescriptionHandlerFactoryOptions: {
      peerConnectionConfiguration: { iceServers: iceServersFromProfile(profile) },
      iceGatheringTimeout: ICE_GATHERING_TIMEOUT_MS,
    },
    // Accept INVITEs with Replaces (RFC 3891), which complete a warm transfer at its target.
    sipExtensionReplaces: SIPExtension.Supported,
    logBuiltinEnabled: false,
    logLevel: 'warn',
  };
}
