import { describe, expect, it } from 'vitest';

import { APP_ENTRY_URL } from '../../src/main/app-protocol';
import { createAppUrlMatcher } from '../../src/main/app-urls';
import { decideExternalLink } from '../../src/main/external-links';
import {
  createHideOnClose,
  createMainWindow,
  createNavigationGuard,
  createWindowOpenHandler,
  type MainWindowOptions,
} from '../../src/main/windows';
import { createRecordingLogger } from './helpers';

const isAppUrl = createAppUrlMatcher({ appUrl: APP_ENTRY_URL, devServerUrl: null });

describe('main window', () => {
  class RecordingWindow {
    constructor(readonly options: MainWindowOptions) {}
  }

  it('isolates and sandboxes the renderer without Node', () => {
    const { options } = createMainWindow(RecordingWindow, '/app/out/preload/index.js');

    expect(options.show).toBe(false);
    expect(options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
    });
  });

  it('keeps timers running while hidden', () => {
    expect(createMainWindow(RecordingWindow, '/p').options.webPreferences.backgroundThrottling).toBe(false);
  });
});

function navigation(url: string) {
  const event = { url, prevented: false, preventDefault: () => void (event.prevented = true) };
  return event;
}

describe('navigation guard', () => {
  it('lets the app page reload', () => {
    const guard = createNavigationGuard(isAppUrl, createRecordingLogger());
    const event = navigation(`${APP_ENTRY_URL}#/calls`);

    guard(event);

    expect(event.prevented).toBe(false);
  });

  it('blocks every other page and logs it', () => {
    const logger = createRecordingLogger();
    const guard = createNavigationGuard(isAppUrl, logger);

    const events = ['https://evil.example/', 'file:///etc/passwd', 'app://softphone/assets/x.js', 'javascript:alert(1)'].map(navigation);
    events.forEach(guard);

    expect(events.map((event) => event.prevented)).toEqual([true, true, true, true]);
    expect(logger.lines).toHaveLength(4);
  });
});

describe('window.open handler', () => {
  it('denies every window and opens allowlisted links in the browser', async () => {
    const opened: string[] = [];
    const handler = createWindowOpenHandler(async (url) => void opened.push(url), createRecordingLogger());

    const answers = [
      handler({ url: 'https://support.ringcentral.com/article/123.html' }),
      handler({ url: 'https://evil.example/' }),
      handler({ url: 'http://support.ringcentral.com/' }),
      handler({ url: 'https://support.ringcentral.com.evil.example/' }),
      handler({ url: 'https://user:pass@support.ringcentral.com/' }),
      handler({ url: 'file:///etc/passwd' }),
      handler({ url: 'app://softphone/index.html' }),
    ];

    expect(answers.every((answer) => answer.action === 'deny')).toBe(true);
    expect(opened).toEqual(['https://support.ringcentral.com/article/123.html']);
  });

  it('logs a failure to open the browser', async () => {
    const logger = createRecordingLogger();
    const handler = createWindowOpenHandler(() => Promise.reject(new Error('no browser')), logger);

    handler({ url: 'https://developers.ringcentral.com/guide' });
    await new Promise((resolve) => setImmediate(resolve));

    expect(logger.lines.map((line) => line.message)).toContain('Could not open a link in the system browser');
  });
});

describe('external link allowlist', () => {
  it('gives a reason for each decision', () => {
    expect(decideExternalLink('https://developers.ringcentral.com/guide')).toMatchObject({ allowed: true });
    expect(decideExternalLink('https://evil.example/')).toEqual({ allowed: false, reason: 'https://evil.example is not on the allowlist' });
    expect(decideExternalLink('not a url')).toEqual({ allowed: false, reason: 'not an absolute URL' });
    expect(decideExternalLink('smb://server/share').allowed).toBe(false);
  });
});

describe('closing the window', () => {
  it('hides the window while the app runs', () => {
    const calls: string[] = [];
    const onClose = createHideOnClose(() => false, () => calls.push('hide'));

    onClose({ preventDefault: () => calls.push('preventDefault') });

    expect(calls).toEqual(['preventDefault', 'hide']);
  });

  it('closes for real while quitting', () => {
    const calls: string[] = [];
    const onClose = createHideOnClose(() => true, () => calls.push('hide'));

    onClose({ preventDefault: () => calls.push('preventDefault') });

    expect(calls).toEqual([]);
  });
});
