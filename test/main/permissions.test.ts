import { describe, expect, it } from 'vitest';

import { createAppUrlMatcher } from '../../src/main/app-urls';
import { decidePermission } from '../../src/main/permissions';

const APP_URL = 'file:///opt/rc-softphone/out/renderer/index.html';
const isAppUrl = createAppUrlMatcher({ fileUrl: APP_URL, devServerUrl: null });

describe('permission allowlist', () => {
  it('grants the microphone to the app page', () => {
    const decision = decidePermission({ permission: 'media', requestingUrl: APP_URL, mediaTypes: ['audio'] }, isAppUrl);

    expect(decision.allowed).toBe(true);
  });

  it('grants output device selection to the app page', () => {
    expect(decidePermission({ permission: 'speaker-selection', requestingUrl: APP_URL, mediaTypes: [] }, isAppUrl).allowed).toBe(
      true,
    );
  });

  it('denies the camera', () => {
    const decision = decidePermission(
      { permission: 'media', requestingUrl: APP_URL, mediaTypes: ['audio', 'video'] },
      isAppUrl,
    );

    expect(decision).toEqual({ allowed: false, reason: 'the app captures audio, never video' });
  });

  it('denies permissions the app does not use', () => {
    for (const permission of ['geolocation', 'notifications', 'clipboard-read', 'openExternal', 'display-capture']) {
      expect(decidePermission({ permission, requestingUrl: APP_URL, mediaTypes: [] }, isAppUrl).allowed, permission).toBe(
        false,
      );
    }
  });

  it('denies other pages and unknown requesters', () => {
    for (const requestingUrl of ['https://evil.example/', 'file:///tmp/x.html', null]) {
      const decision = decidePermission({ permission: 'media', requestingUrl, mediaTypes: ['audio'] }, isAppUrl);

      expect(decision.allowed, String(requestingUrl)).toBe(false);
    }
  });
});
