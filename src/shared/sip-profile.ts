/**
 * SIP credentials and settings for one WebRTC line, as validated from the
 * RingCentral `client-info/sip-provision` answer. The renderer builds its sip.js
 * UserAgent from this; it holds the SIP password but never an OAuth token.
 */
export interface SipProfile {
  /** AOR user part, usually the phone number (`sip:<username>@<domain>`). */
  username: string;
  /** SIP digest password. */
  password: string;
  /** Digest user name, a device id on RingCentral. */
  authorizationId: string;
  /** SIP domain, also the digest realm and the REGISTER request-URI host. */
  domain: string;
  /** `host:port` of the WebSocket proxy; the client connects to `wss://<outboundProxy>`. */
  outboundProxy: string;
  /** `host:port` of the backup proxy, when the platform provides one. */
  outboundProxyBackup: string | null;
  /** Seconds to stay on the backup proxy before trying the primary again. */
  switchBackInterval: number;
  /** STUN servers as `host:port`; the only ICE servers the client may use. */
  stunServers: string[];
  /** SIP status codes of a rejected REGISTER that mean "switch to the other proxy". */
  sipErrorCodes: number[];
  /** Seconds until the profile should be provisioned again. */
  pollingInterval: number;
  sipFlags: SipFlags;
  /** Device id of this softphone line on the account, when the platform gives one. */
  deviceId: string | null;
}

export interface SipFlags {
  voipFeatureEnabled: boolean;
  voipCountryBlocked: boolean;
  /** False when the user can receive calls but has no digital line to place them. */
  outboundCallsEnabled: boolean;
}
