import { describe, expect, it } from 'vitest';

import { createAppUrlMatcher } from '../../src/main/app-urls';
import { decidePermission, installPermissionHandlers, type PermissionSession } from '../../src/main/permissions';
import { createRecordingLogger } from './helpers';

const APP_URL = 'app://softphone/index.html';
const isAppUrl = createAppUrlMatcher({ appUrl: APP_URL, devServerUrl: null });

describe('permission allowlist', () => {
  const granted: [string, string[]][] = [
    ['media', ['audio']],
    ['media', ['unknown']],
    ['speaker-selection', []],
    ['notifications', []],
  ];

  for (const [permission, mediaTypes] of granted) {
    it(`grants ${permission} ${mediaTypes.join(',')} to the app page`, () => {
      const decision = decidePermission({ permission, requestingUrl: APP_URL, mediaTypes }, isAppUrl);

      expect(decision.allowed).toBe(true);
      expect(decision.reason.length).toBeGreaterThan(10);
    });
  }

  it('denies the camera', () => {
    const decision = decidePermission(
      { permission: 'media', requestingUrl: APP_URL, mediaTypes: ['audio', 'video'] },
      isAppUrl,
    );

    expect(decision).toEqual({ allowed: false, reason: 'the app captures audio, never video' });
  });

  it('denies permissions the app does not use', () => {
    const unused = ['geolocation', 'clipboard-read', 'openExternal', 'display-capture', 'midiSysex', 'hid', 'fullscreen', 'unknown'];
    for (const permission of unused) {
      const decision = decidePermission({ permission, requestingUrl: APP_URL, mediaTypes: [] }, isAppUrl);

      expect(decision, permission).toEqual({ allowed: false, reason: 'the app does not use this permission' });
    }
  });

  it('denies other pages and unknown requesters', () => {
    const requesters = ['https://evil.example/', 'file:///tmp/x.html', 'app://other/index.html', 'app://softphone/evil.html', null];
    for (const requestingUrl of requesters) {
      for (const permission of ['media', 'speaker-selection', 'notifications']) {
        const decision = decidePermission({ permission, requestingUrl, mediaTypes: ['audio'] }, isAppUrl);

        expect(decision, `${permission} from ${String(requestingUrl)}`).toEqual({
          allowed: false,
          reason: 'only the app page may use permissions',
        });
      }
    }
  });
});

type RequestHandler = Parameters<PermissionSession['setPermissionRequestHandler']>[0];
type CheckHandler = Parameters<PermissionSession['setPermissionCheckHandler']>[0];
type DeviceHandler = Parameters<PermissionSession['setDevicePermissionHandler']>[0];

function createSessionRecorder() {
  const handlers: { request?: RequestHandler; check?: CheckHandler; device?: DeviceHandler } = {};
  const session: PermissionSession = {
    setPermissionRequestHandler: (handler) => void (handlers.request = handler),
    setPermissionCheckHandler: (handler) => void (handlers.check = handler),
    setDevicePermissionHandler: (handler) => void (handlers.device = handler),
  };
  return { session, handlers };
}

describe('session permission handlers', () => {
  it('answers requests from the table and logs each one', () => {
    const { session, handlers } = createSessionRecorder();
    const logger = createRecordingLogger('permissions');
    installPermissionHandlers(session, isAppUrl, logger);

    const answers: boolean[] = [];
    handlers.request!(null, 'media', (granted) => answers.push(granted), { requestingUrl: APP_URL, mediaTypes: ['audio'] });
    handlers.request!(null, 'geolocation', (granted) => answers.push(granted), { requestingUrl: APP_URL });
    handlers.request!(null, 'notifications', (granted) => answers.push(granted), { requestingUrl: 'https://evil.example/' });

    expect(answers).toEqual([true, false, false]);
    expect(logger.lines.map((line) => [line.level, line.message, line.fields?.['permission']])).toEqual([
      ['info', 'Permission granted', 'media'],
      ['warn', 'Permission denied', 'geolocation'],
      ['warn', 'Permission denied', 'notifications'],
    ]);
    expect(logger.lines[1]!.fields?.['reason']).toBe('the app does not use this permission');
  });

  it('answers checks and logs only denials', () => {
    const { session, handlers } = createSessionRecorder();
    const logger = createRecordingLogger('permissions');
    installPermissionHandlers(session, isAppUrl, logger);

    const speaker = handlers.check!(null, 'speaker-selection', 'app://softphone', { requestingUrl: APP_URL });
    const fromPageUrl = handlers.check!({ getURL: () => APP_URL }, 'media', 'app://softphone', { mediaType: 'audio' });
    const video = handlers.check!(null, 'media', 'app://softphone', { requestingUrl: APP_URL, mediaType: 'video' });
    const noUrl = handlers.check!(null, 'media', '', { mediaType: 'audio' });

    expect([speaker, fromPageUrl, video, noUrl]).toEqual([true, true, false, false]);
    expect(logger.lines.map((line) => line.message)).toEqual(['Permission check denied', 'Permission check denied']);
  });

  it('denies every device and logs it', () => {
    const { session, handlers } = createSessionRecorder();
    const logger = createRecordingLogger('permissions');
    installPermissionHandlers(session, isAppUrl, logger);

    expect(handlers.device!({ deviceType: 'usb', origin: 'app://softphone' })).toBe(false);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]!.level).toBe('warn');
  });
});
