import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on the bench: fake microphone and camera (a
 * generated tone), no permission prompts, autoplay without a gesture, loopback
 * ICE candidates, and no background traffic to Google services.
 */
const BENCH_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
];

export interface BenchBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Chromium with HOME, TMPDIR and the XDG folders inside a temporary
 * folder, because Chromium writes outside its profile (crash reports, nssdb,
 * dconf). The profile is temporary too unless `profileDir` names one that
 * outlives the browser, as Electron keeps a window's storage in userData.
 */
export async function launchBenchChromium(extraArgs: string[] = [], profileDir?: string): Promise<BenchBrowser> {
  const root = await mkdtemp(join(tmpdir(), 'softphone-chromium-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    TMPDIR: root,
    XDG_RUNTIME_DIR: root,
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_CACHE_HOME: join(root, 'cache'),
    XDG_DATA_HOME: join(root, 'data'),
  };

  const context = await chromium.launchPersistentContext(profileDir ?? join(root, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreHTTPSErrors: true,
    env,
    args: [...BENCH_FLAGS, ...extraArgs],
  });

  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
