import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { build } from 'esbuild';
import keytar from 'keytar';
import type { Page } from 'playwright-core';

import { createKeytarCredentialStore, type CredentialStore } from '../../src/main/credential-store';
import { createCallServices } from '../../src/main/call-services';
import { createIpcHandlers, registerIpcHandlers, type CallServices } from '../../src/main/ipc-handlers';
import { createLogger } from '../../src/main/logger';
import { RENDERER_JS_FLAGS } from '../../src/main/renderer-js-flags';
import { createSoftphoneService, type SoftphoneService } from '../../src/main/softphone-service';
import { IpcChannel, IpcEvent } from '../../src/shared/ipc';
import { createMemoryDesktop } from '../main/helpers';
import { launchBenchChromium, type BenchBrowser } from './chromium';
import { installPeerConnectionProbe } from './peer-connection-probe';
import { createStandInNotifications, type StandInNotifications } from './stand-in-notification';

const repositoryRoot = resolve(__dirname, '../..');

let bridgeBundle: Promise<string> | null = null;

/** Bundles test/bench/browser-bridge.ts (and the real preload bridge it imports) once. */
function browserBridgeScript(): Promise<string> {
  bridgeBundle ??= build({
    entryPoints: [join(repositoryRoot, 'test/bench/browser-bridge.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'chrome120',
  }).then((result) => result.outputFiles[0]!.text);
  return bridgeBundle;
}

export interface SoftphoneInstanceOptions {
  /** Label for logs and the keychain service name. */
  name: string;
  /** URL of the built renderer, served on 127.0.0.1. */
  rendererUrl: string;
  /** Folder of the app's data (settings, instance id); a new temp folder when absent. */
  dataDir?: string;
  /** Keychain to use; a real keytar store under `keychainService` when absent. */
  credentialStore?: CredentialStore;
  /** Keychain service name; pass the one of an earlier instance to restart that installation. */
  keychainService?: string;
  /** Functions run in the page before the app loads (probes and marks). */
  initScripts?: Array<() => void>;
  /** Runs after the init scripts and before the app loads, for example to install `page.clock`. */
  beforeLoad?: (page: Page) => Promise<void>;
  /** Platform the notifier assumes; 'darwin' (the default) gives notifications Answer and Decline buttons. */
  notificationPlatform?: NodeJS.Platform;
}

export interface SoftphoneInstance {
  name: string;
  page: Page;
  service: SoftphoneService;
  dataDir: string;
  /** Chromium's profile folder, inside `dataDir`; Chromium's browser process has it on its command line. */
  chromiumProfileDir: string;
  keychainService: string;
  /** Wall-clock time (epoch ms) at which the page finished loading. */
  loadedAt: number;
  /** Tabs the app opened with `openExternal` (the browser sign-in), newest last. */
  externalPages: Page[];
  /** The main process's preferences, call history and notifier, over files in `dataDir`. */
  callServices: CallServices;
  /** Notifications the main process showed, with buttons the test can press. */
  notifications: StandInNotifications;
  /** How often the main process brought the window to the front. */
  windowShownCount(): number;
  /** Sends a main-process event to the renderer, as `webContents.send` does (resume, network changes). */
  emit(event: IpcEvent, payload?: unknown): Promise<void>;
  /** Runs the app's quit sequence: WillQuit to the renderer, then wait for QuitReady. */
  quit(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * One softphone as the user runs it, minus the Electron binary: the renderer in
 * Chromium and the main-process service in this Node process, joined by the
 * real IPC handler table through a stand-in `ipcMain`.
 */
export async function startSoftphoneInstance(options: SoftphoneInstanceOptions): Promise<SoftphoneInstance> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `softphone-${options.name}-`)));
  const keychainService = options.keychainService ?? `rc-softphone-bench-${options.name}-${randomUUID()}`;
  const credentialStore = options.credentialStore ?? createKeytarCredentialStore(keytar, keychainService);

  // The app's shell.openExternal: a new tab of this instance's Chromium plays the system browser.
  const externalPages: Page[] = [];
  let openTab: ((url: string) => Promise<void>) | null = null;

  const service = createSoftphoneService({
    fetch: globalThis.fetch,
    credentialStore,
    settingsDir: dataDir,
    appName: 'RCSoftphone',
    appVersion: '0.1.0',
    now: Date.now,
    logger: createLogger(`main:${options.name}`),
    openExternal: async (url) => {
      if (openTab === null) throw new Error('the bench Chromium is not running');
      await openTab(url);
    },
  });

  const chromiumProfileDir = join(dataDir, 'chromium-profile');
  let browser: BenchBrowser | null = null;
  try {
    // The renderer's storage lives in the data folder, as Electron keeps it in userData.
    // Its V8 gets the flags that the main process gives Electron's renderers.
    browser = await launchBenchChromium([`--js-flags=${RENDERER_JS_FLAGS}`], chromiumProfileDir);
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const { context } = browser;
    openTab = async (url) => {
      const tab = await context.newPage();
      externalPages.push(tab);
      // Like shell.openExternal, return once the browser has the URL, not when the page has loaded.
      void tab.goto(url).catch(() => undefined);
    };
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        console.log(`[${options.name} renderer] ${message.type()}: ${message.text()}`);
      }
    });
    // Errors thrown in SIP callbacks and Svelte effects reach no console call.
    page.on('pageerror', (error) => console.log(`[${options.name} renderer] uncaught: ${error.stack ?? error.message}`));

    const notifications = createStandInNotifications();
    let windowShownCount = 0;
    const callServices = createCallServices({
      dataDir,
      Notification: notifications.Notification,
      // macOS and Windows get Answer and Decline buttons on the notification.
      platform: options.notificationPlatform ?? 'darwin',
      logger: createLogger(`main:${options.name}`),
      showWindow: () => {
        windowShownCount += 1;
      },
      sendIncomingCallAction: (event) => void emit(IpcEvent.IncomingCallAction, event),
    });

    const handlers = createIpcHandlers(service, callServices, createMemoryDesktop());
    const registered = new Map<string, (event: { senderFrame: { url: string } }, payload: unknown) => unknown>();
    registerIpcHandlers(
      {
        handle: (channel: string, handler: (event: { senderFrame: { url: string } }, payload: unknown) => unknown) => {
          registered.set(channel, handler);
        },
      },
      handlers,
      (url: string) => url.startsWith(options.rendererUrl),
    );

    await page.addInitScript(installPeerConnectionProbe);
    for (const script of options.initScripts ?? []) await page.addInitScript(script);
    // The binding comes first: the bridge, like the Electron preload, sends its start-up reads as it is created.
    await page.exposeBinding('__benchIpcInvoke', async (source, channel: IpcChannel, payload: unknown) => {
      const handler = registered.get(channel);
      if (!handler) throw new Error(`No IPC handler for ${channel}`);
      return handler({ senderFrame: { url: source.frame.url() } }, payload);
    });
    await page.addInitScript({ content: await browserBridgeScript() });

    const emit = (event: IpcEvent, payload: unknown) =>
      page
        .evaluate(([name, data]) => {
          (window as unknown as { __benchIpcEmit?: (e: string, p: unknown) => void }).__benchIpcEmit?.(name, data);
        }, [event, payload] as const)
        .catch(() => undefined);

    const unsubscribe = service.subscribe((state) => void emit(IpcEvent.StateChanged, state));

    await options.beforeLoad?.(page);
    await page.goto(options.rendererUrl);
    const loadedAt = Date.now();

    const openedBrowser = browser;
    return {
      name: options.name,
      page,
      service,
      dataDir,
      chromiumProfileDir,
      keychainService,
      loadedAt,
      externalPages,
      callServices,
      notifications,
      windowShownCount: () => windowShownCount,
      emit: (event, payload) => emit(event, payload),
      async quit(timeoutMs = 2000) {
        const ready = service.waitForQuitReady(timeoutMs);
        await emit(IpcEvent.WillQuit, undefined);
        return ready;
      },
      async close() {
        unsubscribe();
        await openedBrowser.close();
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    throw error;
  }
}

/** The channel list, for tests that check every channel reached the page. */
export const BENCH_CHANNELS = Object.values(IpcChannel);
