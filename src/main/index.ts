// The Electron entry point: the only file that imports `electron`, and with
// keytar-worker.ts the only one that imports `keytar`. Everything it wires
// together is plain TypeScript that tests run under Node.
import { join } from 'node:path';

import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  nativeImage,
  net,
  Notification,
  powerMonitor,
  protocol,
  session,
  shell,
  Tray,
  utilityProcess,
} from 'electron';
import electronLog from 'electron-log/node';
import * as keytar from 'keytar';

import type { AppState } from '../shared/app-state';
import type { DialLink } from '../shared/desktop';
import { IpcEvent, type IpcEventContract } from '../shared/ipc';
import { APP_ID, HIDDEN_SWITCH } from './app-identity';
import { APP_ENTRY_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol';
import { createAppUrlMatcher } from './app-urls';
import { createAutostart, wasLaunchedAtLogin } from './autostart';
import { createCallServices } from './call-services';
import {
  buildContentSecurityPolicy,
  connectSourcesFromState,
  coversWebSocketProxies,
  type ConnectSources,
} from './content-security-policy';
import { createDesktopPreferencesStore } from './desktop-preferences';
import { createDesktopService, type DesktopService } from './desktop-service';
import { createIpcHandlers, registerIpcHandlers } from './ipc-handlers';
import type { KeytarWorker } from './keytar-worker-client';
import { createLogger } from './logger';
import { configureFileLogging, createLogSink, MAIN_LOG_OPTIONS, SIP_TRACE_LOG_OPTIONS } from './logging';
import { startNetworkMonitor } from './network-monitor';
import { installPermissionHandlers } from './permissions';
import { claimFreeDialLinkSchemes, findDialLinkInArgv, parseDialLink } from './protocol-links';
import { createRecoveringCredentialStore } from './recovering-credential-store';
import { rendererJsFlags } from './renderer-js-flags';
import { createSipTraceWriter } from './sip-trace';
import { createSoftphoneService, type SoftphoneService } from './softphone-service';
import { createTrayController } from './tray';
import { renderTrayIcon, TRAY_ICON_SCALES, type TrayIconKind } from './tray-icon';
import { createHideOnClose, createMainWindow, createNavigationGuard, createWindowOpenHandler } from './windows';

/** Maximum wait for the renderer to unregister its SIP line before quitting. */
const QUIT_READY_TIMEOUT_MS = 2_000;

// Without an argument Electron picks the platform's log folder:
// ~/Library/Logs/<app> on macOS and <userData>/logs elsewhere.
app.setAppLogsPath();
configureFileLogging(electronLog, { ...MAIN_LOG_OPTIONS, directory: app.getPath('logs') });
const sipTraceLog = electronLog.create({ logId: 'sip-trace' });
configureFileLogging(sipTraceLog, { ...SIP_TRACE_LOG_OPTIONS, directory: app.getPath('logs') });

const logger = createLogger('main', createLogSink(electronLog));

// "RC Softphone" from package.json productName; a product token has no spaces.
const appName = app.getName().replace(/\s+/g, '');

const rendererDir = join(__dirname, '../renderer');
const devServerUrl = process.env['ELECTRON_RENDERER_URL'] ?? null;
const isAppUrl = createAppUrlMatcher({ appUrl: APP_ENTRY_URL, devServerUrl });

let mainWindow: BrowserWindow | null = null;
let service: SoftphoneService | null = null;
// Kept referenced: a garbage-collected Tray disappears from the tray.
let tray: Tray | null = null;
let quitPhase: 'running' | 'waiting-for-renderer' | 'ready-to-exit' = 'running';
let latestState: AppState | null = null;
/** `connect-src` of the page as last served; null before it was served, or under the dev server. */
let servedSources: ConnectSources | null = null;
let rendererLoaded = false;
/** A dial link that arrived before the renderer could show it. */
let pendingDialLink: DialLink | null = null;

// Before `ready`: a standard, secure scheme gets a real origin for the page.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
// Chromium passes the switch on to each renderer process it starts. The main
// process's V8 is already running and keeps its defaults.
app.commandLine.appendSwitch('js-flags', rendererJsFlags(app.commandLine.getSwitchValue('js-flags')));
if (process.platform === 'win32') {
  app.setAppUserModelId(APP_ID);
}

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the SIP registration and the keychain entries; it
  // receives this launch's arguments (a dial link, say) as `second-instance`.
  logger.info('Another instance is running; quitting');
  app.quit();
} else {
  app.on('second-instance', (_event, argv) => {
    const link = findDialLinkInArgv(argv);
    if (link !== null) {
      openDialLink(link);
    } else if (!argv.includes(HIDDEN_SWITCH)) {
      showWindow();
    }
  });
  // macOS delivers links as `open-url`, also before `ready` when a link started the app.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    openDialLink(url);
  });
  app.on('activate', () => showWindow());
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
  installPermissionHandlers(session.defaultSession, isAppUrl, logger.child('permissions'));
  protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler({ rootDir: rendererDir, contentSecurityPolicy: servePolicy, logger: logger.child('app-protocol') }),
  );
  if (app.isPackaged) {
    claimFreeDialLinkSchemes(app, logger.child('links'));
  }

  const credentialStore = createRecoveringCredentialStore({
    keytar,
    startWorker: startKeytarWorker,
    service: appName,
    logger: logger.child('keychain'),
  });
  app.on('will-quit', () => credentialStore.close());

  const softphone = createSoftphoneService({
    fetch: net.fetch as typeof fetch,
    credentialStore,
    settingsDir: app.getPath('userData'),
    appName,
    appVersion: app.getVersion(),
    now: Date.now,
    logger,
    // Opens only the authorize page, whose URL the main process builds from the validated server URL.
    openExternal: (url) => shell.openExternal(url),
    productName: app.getName(),
  });

  const callServices = createCallServices({
    dataDir: app.getPath('userData'),
    Notification,
    platform: process.platform,
    logger,
    showWindow,
    sendIncomingCallAction: (event) => send(IpcEvent.IncomingCallAction, event),
  });
  app.on('will-quit', () => callServices.incomingCallNotifier.closeAll());

  const desktopService = createDesktopService({
    store: createDesktopPreferencesStore(app.getPath('userData'), logger.child('desktop')),
    autostart: createAutostart({
      platform: process.platform,
      app,
      command: { executable: process.execPath, args: app.isPackaged ? [] : [app.getAppPath()] },
      env: process.env,
      homeDir: app.getPath('home'),
      appName: app.getName(),
      logger: logger.child('autostart'),
    }),
    logger: logger.child('desktop'),
  });
  desktopService.onPreferencesChanged((preferences) => send(IpcEvent.DesktopPreferencesChanged, preferences));
  callServices.callHistory.subscribe((history) => desktopService.setMissedCalls(history.missedCount));
  callServices.callHistory
    .snapshot()
    .then((history) => desktopService.setMissedCalls(history.missedCount))
    .catch((error: unknown) => logger.error('Could not read the call history for the tray', { error }));
  createTray(desktopService);

  const writeSipTrace = createSipTraceWriter(() => desktopService.isSipTraceOn(), createLogger('sip', createLogSink(sipTraceLog)));
  registerIpcHandlers(
    ipcMain,
    createIpcHandlers(softphone, callServices, {
      getPreferences: () => desktopService.getPreferences(),
      setPreferences: (change) => desktopService.setPreferences(change),
      reportPhoneStatus: (status) => desktopService.reportPhoneStatus(status),
      writeSipTrace,
    }),
    isAppUrl,
    logger.child('ipc'),
  );
  softphone.subscribe((state) => {
    latestState = state;
    if (state.session.status === 'signed-in') {
      void desktopService.applyOpenAtLoginDefault();
    }
    if (reloadForNewProxies(state)) {
      return;
    }
    send(IpcEvent.StateChanged, state);
  });
  const network = startNetworkMonitor({
    isOnline: () => net.isOnline(),
    onChange: (online) => {
      softphone.notifyNetworkChange(online);
      send(online ? IpcEvent.NetworkOnline : IpcEvent.NetworkOffline, undefined);
    },
    logger: logger.child('network'),
  });
  app.on('will-quit', () => network.stop());
  // Linux and macOS: unregister the line before the system goes down.
  powerMonitor.on('shutdown', () => {
    logger.info('The system is shutting down; quitting');
    app.quit();
  });
  powerMonitor.on('resume', () => {
    logger.info('System resumed from sleep');
    network.check();
    softphone.notifyResumed();
    send(IpcEvent.PowerResumed, undefined);
  });

  service = softphone;

  // The page's CSP is built from the loaded settings and cached SIP profile, so
  // the renderer is loaded only once they are known.
  await softphone.ready;
  latestState = await softphone.getState();
  await desktopService.ready;

  // Launched at login: stay in the tray, unless the user must sign in first.
  const launchedAtLogin = wasLaunchedAtLogin({
    platform: process.platform,
    argv: process.argv,
    wasOpenedAtLogin: () => app.getLoginItemSettings().wasOpenedAtLogin,
  });
  const startHidden = launchedAtLogin && latestState.session.status === 'signed-in';
  logger.info('Starting', { launchedAtLogin, startHidden, version: app.getVersion() });

  const link = findDialLinkInArgv(process.argv);
  if (link !== null) {
    openDialLink(link);
  }

  mainWindow = createWindow(startHidden);
  await loadRenderer(mainWindow);
}

/**
 * Starts out/main/keytar-worker.js as an Electron utility process.
 *
 * NOTE: this adapter has not run, because Electron cannot start in the test
 * environment. Tests run the same worker script with child_process.fork.
 */
function startKeytarWorker(): KeytarWorker {
  const child = utilityProcess.fork(join(__dirname, 'keytar-worker.js'), [], { serviceName: `${appName} keychain` });
  return {
    postMessage: (request) => child.postMessage(request),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.once('exit', listener),
    kill: () => void child.kill(),
  };
}

function createWindow(startHidden: boolean): BrowserWindow {
  const window = createMainWindow(BrowserWindow, join(__dirname, '../preload/index.js'));

  window.once('ready-to-show', () => {
    if (!startHidden || pendingDialLink !== null) {
      window.show();
    }
  });

  // Closing the window keeps the app in the tray; only Quit unregisters and exits.
  window.on('close', createHideOnClose(() => quitPhase !== 'running', () => window.hide()));
  window.on('closed', () => {
    mainWindow = null;
  });
  // Windows ends the session without `before-quit`, and a window that hides
  // instead of closing would hold up the log-off.
  window.on('session-end', () => {
    logger.info('The OS session is ending; letting the window close');
    quitPhase = 'ready-to-exit';
  });

  const windowLogger = logger.child('window');
  window.webContents.setWindowOpenHandler(createWindowOpenHandler((url) => shell.openExternal(url), windowLogger));
  const navigationGuard = createNavigationGuard(isAppUrl, windowLogger);
  window.webContents.on('will-navigate', navigationGuard);
  window.webContents.on('will-redirect', navigationGuard);
  window.webContents.on('will-attach-webview', (event) => {
    windowLogger.warn('Blocked a webview');
    event.preventDefault();
  });
  window.webContents.on('did-start-loading', () => {
    rendererLoaded = false;
  });
  window.webContents.on('did-finish-load', () => {
    rendererLoaded = true;
    deliverDialLink();
  });
  window.webContents.on('render-process-gone', (_event, details) => {
    windowLogger.error('The renderer process is gone', { reason: details.reason, exitCode: details.exitCode });
  });

  return window;
}

function loadRenderer(window: BrowserWindow): Promise<void> {
  if (devServerUrl !== null) {
    return window.loadURL(devServerUrl);
  }
  return window.loadURL(APP_ENTRY_URL);
}

/** Builds the CSP header of the page from the latest state and records what it allowed. */
function servePolicy(): string {
  const state = latestState;
  if (state === null) {
    servedSources = { platformOrigin: null, webSocketProxies: [] };
    return buildContentSecurityPolicy(servedSources);
  }

  const { sources, rejected } = connectSourcesFromState(state);
  if (rejected.length > 0) {
    logger.warn('Provisioned proxies that are not host:port were left out of the Content-Security-Policy', { rejected });
  }
  servedSources = sources;
  return buildContentSecurityPolicy(sources);
}

/**
 * Reloads the page when the state names a WSS proxy that the page's CSP does
 * not allow, which happens after the first provisioning and when the platform
 * moves the line to other proxies. A loaded page's CSP cannot be widened, and
 * the reloaded page reads the state itself. Returns whether it reloaded.
 */
function reloadForNewProxies(state: AppState): boolean {
  const window = mainWindow;
  if (servedSources === null || window === null || window.isDestroyed() || quitPhase !== 'running') {
    return false;
  }

  const needed = connectSourcesFromState(state).sources;
  if (coversWebSocketProxies(servedSources, needed)) {
    return false;
  }

  logger.info('Reloading the page so its Content-Security-Policy allows the provisioned proxies', {
    proxies: needed.webSocketProxies,
  });
  servedSources = null;
  window.webContents.reload();
  return true;
}

function createTray(desktopService: DesktopService): void {
  const createImage = (kind: TrayIconKind) => {
    const image = nativeImage.createEmpty();
    for (const { scaleFactor, size } of TRAY_ICON_SCALES) {
      image.addRepresentation({ scaleFactor, width: size, height: size, buffer: renderTrayIcon(kind, size) });
    }
    return image;
  };

  tray = new Tray(createImage('offline'));
  const controller = createTrayController({
    tray,
    buildMenu: (items) => Menu.buildFromTemplate(items),
    createImage,
    appName: app.getName(),
    clickOpensWindow: process.platform !== 'darwin',
    onOpen: showWindow,
    onSetDoNotDisturb: (enabled) => {
      desktopService
        .setPreferences({ doNotDisturb: enabled })
        .catch((error: unknown) => logger.error('Could not change Do Not Disturb from the tray', { error }));
    },
    onQuit: () => app.quit(),
  });
  controller.update(desktopService.trayState());
  desktopService.onTrayStateChanged((state) => controller.update(state));
}

/** Parses a link from the OS and shows it in the window, which dials only after the user confirms. */
function openDialLink(link: string): void {
  const country = app.isReady() ? app.getLocaleCountryCode() : '';
  const dialLink = parseDialLink(link, country === '' ? null : country);
  logger.info('Received a dial link', { scheme: link.split(':', 1)[0]?.slice(0, 16), status: dialLink.status });

  pendingDialLink = dialLink;
  deliverDialLink();
  showWindow();
}

function deliverDialLink(): void {
  if (pendingDialLink === null || !rendererLoaded) {
    return;
  }
  send(IpcEvent.DialLinkOpened, pendingDialLink);
  pendingDialLink = null;
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
