// The Electron entry point: the only file that imports `electron` and `keytar`.
// Everything it wires together is plain TypeScript that tests run under Node.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { app, BrowserWindow, ipcMain, net, powerMonitor, session } from 'electron';
import * as keytar from 'keytar';

import { IpcEvent, type IpcEventContract } from '../shared/ipc';
import { createAppUrlMatcher } from './app-urls';
import { createKeytarCredentialStore } from './credential-store';
import { createIpcHandlers, registerIpcHandlers } from './ipc-handlers';
import { createLogger } from './logger';
import { decidePermission } from './permissions';
import { createSoftphoneService, type SoftphoneService } from './softphone-service';

/** Maximum wait for the renderer to unregister its SIP line before quitting. */
const QUIT_READY_TIMEOUT_MS = 2_000;

const WINDOW_WIDTH = 380;
const WINDOW_HEIGHT = 640;

const logger = createLogger('main');

// "RC Softphone" from package.json productName; a product token has no spaces.
const appName = app.getName().replace(/\s+/g, '');

const rendererFile = join(__dirname, '../renderer/index.html');
const devServerUrl = process.env['ELECTRON_RENDERER_URL'] ?? null;
const isAppUrl = createAppUrlMatcher({ fileUrl: pathToFileURL(rendererFile).href, devServerUrl });

let mainWindow: BrowserWindow | null = null;
let service: SoftphoneService | null = null;
let quitPhase: 'running' | 'waiting-for-renderer' | 'ready-to-exit' = 'running';

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the SIP registration and the keychain entries.
  logger.info('Another instance is running; quitting');
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.on('before-quit', (event) => {
    if (quitPhase === 'ready-to-exit') {
      return;
    }
    event.preventDefault();
    void quitAfterRendererUnregisters();
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(start).catch((error: unknown) => {
    logger.error('Start-up failed', { error });
    app.exit(1);
  });
}

async function start(): Promise<void> {
  installPermissionHandlers();

  const softphone = createSoftphoneService({
    fetch: net.fetch as typeof fetch,
    credentialStore: createKeytarCredentialStore(keytar, appName),
    settingsDir: app.getPath('userData'),
    appName,
    appVersion: app.getVersion(),
    now: Date.now,
    logger,
    // NOTE: the IPC contract has no way to enter a client secret yet, so apps
    // registered as confidential clients can only be used through this variable.
    clientSecret: process.env['RC_SOFTPHONE_CLIENT_SECRET'] ?? null,
  });

  registerIpcHandlers(ipcMain, createIpcHandlers(softphone), isAppUrl, logger.child('ipc'));
  softphone.subscribe((state) => send(IpcEvent.StateChanged, state));
  powerMonitor.on('resume', () => {
    logger.info('System resumed from sleep');
    send(IpcEvent.PowerResumed, undefined);
  });

  service = softphone;
  mainWindow = createWindow();
  await loadRenderer(mainWindow);
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: WINDOW_WIDTH,
    height: WINDOW_HEIGHT,
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // Calls and ringing must keep running while the window is hidden.
      backgroundThrottling: false,
    },
  });

  window.once('ready-to-show', () => window.show());

  // Closing the window quits the app, and the renderer must unregister first.
  window.on('close', (event) => {
    if (quitPhase === 'running') {
      event.preventDefault();
      app.quit();
    }
  });
  window.on('closed', () => {
    mainWindow = null;
  });

  window.webContents.setWindowOpenHandler(({ url }) => {
    logger.warn('Blocked a new window', { url });
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) {
      logger.warn('Blocked a navigation away from the app', { url: event.url });
      event.preventDefault();
    }
  });
  window.webContents.on('will-attach-webview', (event) => {
    logger.warn('Blocked a webview');
    event.preventDefault();
  });

  return window;
}

function loadRenderer(window: BrowserWindow): Promise<void> {
  if (devServerUrl !== null) {
    return window.loadURL(devServerUrl);
  }
  return window.loadFile(rendererFile);
}

function installPermissionHandlers(): void {
  const permissionLogger = logger.child('permissions');

  session.defaultSession.setPermissionRequestHandler((webContents, permission, callback, details) => {
    const mediaTypes = 'mediaTypes' in details ? (details.mediaTypes ?? []) : [];
    const decision = decidePermission({ permission, requestingUrl: details.requestingUrl, mediaTypes }, isAppUrl);
    const fields = { permission, requestingUrl: details.requestingUrl, mediaTypes, reason: decision.reason };
    if (decision.allowed) {
      permissionLogger.info('Permission granted', fields);
    } else {
      permissionLogger.warn('Permission denied', fields);
    }
    callback(decision.allowed);
  });

  // Checks are frequent (every device enumeration), so only denials are logged.
  session.defaultSession.setPermissionCheckHandler((webContents, permission, _origin, details) => {
    const requestingUrl = details.requestingUrl ?? webContents?.getURL() ?? null;
    const mediaTypes = details.mediaType === undefined ? [] : [details.mediaType];
    const decision = decidePermission({ permission, requestingUrl, mediaTypes }, isAppUrl);
    if (!decision.allowed) {
      permissionLogger.warn('Permission check denied', { permission, requestingUrl, reason: decision.reason });
    }
    return decision.allowed;
  });
}

/** Tells the renderer to unregister, waits for QuitReady (at most 2 s), then exits. */
async function quitAfterRendererUnregisters(): Promise<void> {
  if (quitPhase !== 'running') {
    return;
  }
  quitPhase = 'waiting-for-renderer';

  const window = mainWindow;
  if (window !== null && !window.isDestroyed() && service !== null) {
    const ready = service.waitForQuitReady(QUIT_READY_TIMEOUT_MS);
    send(IpcEvent.WillQuit, undefined);
    const unregistered = await ready;
    if (unregistered) {
      logger.info('Renderer finished unregistering; quitting');
    } else {
      logger.warn('Renderer did not report QuitReady in time; quitting anyway', { timeoutMs: QUIT_READY_TIMEOUT_MS });
    }
  }

  quitPhase = 'ready-to-exit';
  app.quit();
}

function send<E extends IpcEvent>(event: E, payload: IpcEventContract[E]): void {
  const window = mainWindow;
  if (window === null || window.isDestroyed()) {
    return;
  }
  window.webContents.send(event, payload);
}

function showWindow(): void {
  const window = mainWindow;
  if (window === null || window.isDestroyed()) {
    return;
  }
  if (window.isMinimized()) {
    window.restore();
  }
  window.show();
  window.focus();
}
