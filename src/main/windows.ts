import { decideExternalLink } from './external-links';
import type { Logger } from './logger';

export const MAIN_WINDOW_WIDTH = 380;
export const MAIN_WINDOW_HEIGHT = 640;

/** The options `createMainWindow` passes; Electron's `BrowserWindowConstructorOptions` accepts them. */
export interface MainWindowOptions {
  width: number;
  height: number;
  show: boolean;
  webPreferences: {
    preload: string;
    contextIsolation: boolean;
    sandbox: boolean;
    nodeIntegration: boolean;
    nodeIntegrationInWorker: boolean;
    nodeIntegrationInSubFrames: boolean;
    webSecurity: boolean;
    allowRunningInsecureContent: boolean;
    experimentalFeatures: boolean;
    webviewTag: boolean;
    navigateOnDragDrop: boolean;
    spellcheck: boolean;
    disableBlinkFeatures: string;
    backgroundThrottling: boolean;
    autoplayPolicy: 'no-user-gesture-required';
  };
}

/**
 * Creates the main window, hidden until the caller shows it. The renderer runs
 * sandboxed and isolated, without Node. `BrowserWindow` is Electron's class in
 * production and a recorder in tests; the options are written out in the
 * `new BrowserWindow` call because electronegativity checks them there.
 */
export function createMainWindow<Window>(BrowserWindow: new (options: MainWindowOptions) => Window, preloadPath: string): Window {
  return new BrowserWindow({
    width: MAIN_WINDOW_WIDTH,
    height: MAIN_WINDOW_HEIGHT,
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click would otherwise open links as new windows without window.open.
      disableBlinkFeatures: 'Auxclick',
      // sip.js schedules REGISTER refreshes and SIP transaction timers with
      // setTimeout, and Chromium slows timers down in hidden windows.
      backgroundThrottling: false,
      // The ringtone of an incoming call must play before the user has clicked anything.
      autoplayPolicy: 'no-user-gesture-required',
    },
  });
}

/** The cancellable part of Electron's navigation events. */
export interface NavigationEventLike {
  readonly url: string;
  preventDefault(): void;
}

/** Returns the `will-navigate`/`will-redirect` listener: only the app page itself may load. */
export function createNavigationGuard(isAppUrl: (url: string) => boolean, logger: Logger): (event: NavigationEventLike) => void {
  return (event) => {
    if (!isAppUrl(event.url)) {
      logger.warn('Blocked a navigation away from the app', { url: event.url });
      event.preventDefault();
    }
  };
}

/**
 * Returns the `setWindowOpenHandler` handler, which never lets a page open an
 * Electron window. A link whose origin is on the external-link allowlist opens
 * in the system browser instead. Any other link is dropped and logged.
 */
export function createWindowOpenHandler(
  openExternal: (url: string) => Promise<void>,
  logger: Logger,
): (details: { url: string }) => { action: 'deny' } {
  return ({ url }) => {
    const decision = decideExternalLink(url);
    if (!decision.allowed) {
      logger.warn('Blocked a new window', { url, reason: decision.reason });
      return { action: 'deny' };
    }

    logger.info('Opening a link in the system browser', { url, reason: decision.reason });
    openExternal(url).catch((error: unknown) => logger.error('Could not open a link in the system browser', { url, error }));
    return { action: 'deny' };
  };
}

/**
 * Returns the window's `close` listener. Closing hides the window and the app
 * stays in the tray, so calls still ring. Once quitting began, the window closes.
 */
export function createHideOnClose(isQuitting: () => boolean, hide: () => void): (event: { preventDefault(): void }) => void {
  return (event) => {
    if (isQuitting()) {
      return;
    }
    event.preventDefault();
    hide();
  };
}
