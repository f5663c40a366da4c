import { describe, expect, it } from 'vitest';

import {
  buildUserAgentOptions,
  iceServersFromProfile,
  InvalidSipProfileError,
  ringCentralHeaders,
} from '../../src/renderer/sip/user-agent-options';
import type { SipProfile } from '../../src/shared/sip-profile';

const profile: SipProfile = {
  username: '16505550100',
  password: 'Xy12ab',
  authorizationId: '802512345678',
  domain: 'sip.ringcentral.com',
  outboundProxy: 'sip113-1141.ringcentral.com:8083',
  outboundProxyBackup: 'sip131-1241.ringcentral.com:8083',
  switchBackInterval: 3600,
  stunServers: ['stun1.ringcentral.com:19302', 'stun2.ringcentral.com:19302'],
  sipErrorCodes: [408, 502, 503, 504],
  pollingInterval: 7200,
  sipFlags: { voipFeatureEnabled: true, voipCountryBlocked: false, outboundCallsEnabled: true },
  deviceId: '802512345678',
};

const identity = {
  instanceId: '3f2c1c9e-6c1b-4f1e-9d55-2b1f0b9a7c11',
  clientId: 'bench-client',
  userAgentString: 'RCSoftphone/0.1.0',
};

describe('buildUserAgentOptions', () => {
  const options = buildUserAgentOptions(profile, identity, profile.outboundProxy);

  it('connects to wss://<outboundProxy>', () => {
    expect(options.transportOptions).toMatchObject({ server: 'wss://sip113-1141.ringcentral.com:8083' });
  });

  it('uses the AOR and the authorization id for digest', () => {
    expect(options.uri?.toString()).toBe('sip:16505550100@sip.ringcentral.com');
    expect(options.authorizationUsername).toBe('802512345678');
    expect(options.authorizationPassword).toBe('Xy12ab');
  });

  it('keeps the stable instance id', () => {
    expect(options.instanceId).toBe(identity.instanceId);
  });

  it('uses only the provisioned STUN servers', () => {
    const peerConnection = options.sessionDescriptionHandlerFactoryOptions as {
      peerConnectionConfiguration: RTCConfiguration;
    };

    expect(peerConnection.peerConnectionConfiguration.iceServers).toEqual([
      { urls: 'stun:stun1.ringcentral.com:19302' },
      { urls: 'stun:stun2.ringcentral.com:19302' },
    ]);
  });

  it('gives no ICE server when none is provisioned', () => {
    expect(iceServersFromProfile({ ...profile, stunServers: [] })).toEqual([]);
  });

  it('rejects a profile that forms no SIP URI', () => {
    expect(() => buildUserAgentOptions({ ...profile, domain: '' }, identity, profile.outboundProxy)).toThrow(
      InvalidSipProfileError,
    );
  });
});

describe('ringCentralHeaders', () => {
  it('sends the endpoint id and client id', () => {
    expect(ringCentralHeaders(identity)).toEqual([
      'P-rc-endpoint-id: 3f2c1c9e-6c1b-4f1e-9d55-2b1f0b9a7c11',
      'Client-id: bench-client',
    ]);
  });
});
