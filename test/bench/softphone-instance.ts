import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { build } from 'esbuild';
import keytar from 'keytar';
import type { Page } from 'playwright-core';

import { createKeytarCredentialStore, type CredentialStore } from '../../src/main/credential-store';
import { createIpcHandlers, registerIpcHandlers } from '../../src/main/ipc-handlers';
import { createLogger } from '../../src/main/logger';
import { createSoftphoneService, type SoftphoneService } from '../../src/main/softphone-service';
import { IpcChannel, IpcEvent } from '../../src/shared/ipc';
import { launchBenchChromium, type BenchBrowser } from './chromium';
import { installPeerConnectionProbe } from './peer-connection-probe';

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
}

export interface SoftphoneInstance {
  name: string;
  page: Page;
  service: SoftphoneService;
  dataDir: string;
  keychainService: string;
  /** Time the page finished loading (performance.timeOrigin-free wall clock, ms). */
  loadedAt: number;
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

  const service = createSoftphoneService({
    fetch: globalThis.fetch,
    credentialStore,
    settingsDir: dataDir,
    appName: 'RCSoftphone',
    appVersion: '0.1.0',
    now: Date.now,
    logger: createLogger(`main:${options.name}`),
  });

  let browser: BenchBrowser | null = null;
  try {
    browser = await launchBenchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        console.log(`[${options.name} renderer] ${message.type()}: ${message.text()}`);
      }
    });

    const handlers = createIpcHandlers(service);
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
    await page.addInitScript({ content: await browserBridgeScript() });
    await page.exposeBinding('__benchIpcInvoke', async (source, channel: IpcChannel, payload: unknown) => {
      const handler = registered.get(channel);
      if (!handler) throw new Error(`No IPC handler for ${channel}`);
      return handler({ senderFrame: { url: source.frame.url() } }, payload);
    });

    const emit = (event: IpcEvent, payload: unknown) =>
      page
        .evaluate(([name, data]) => {
          (window as unknown as { __benchIpcEmit?: (e: string, p: unknown) => void }).__benchIpcEmit?.(name, data);
        }, [event, payload] as const)
        .catch(() => undefined);

    const unsubscribe = service.subscribe((state) => void emit(IpcEvent.StateChanged, state));

    await page.goto(options.rendererUrl);
    const loadedAt = Date.now();

    const openedBrowser = browser;
    return {
      name: options.name,
      page,
      service,
      dataDir,
      keychainService,
      loadedAt,
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
