import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { SipInfo } from 'ringcentral-web-phone/types';

import type { OfficialSdkDriverConfig } from './official-sdk-driver';
import { launchBenchChromium, type BenchBrowser } from './chromium';
import type { KamailioServer } from './kamailio';
import { installPeerConnectionProbe } from './peer-connection-probe';
import type { BenchLine } from './softphone-bench';
import { startStaticServer } from './static-server';

const DRIVER_ENTRY = resolve(__dirname, 'official-sdk-driver.ts');

/** The same markup hooks as the app: see official-sdk-driver.ts. */
const DRIVER_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>ringcentral-web-phone on the bench</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <div class="registration" role="status" aria-label="Registration" data-status="unregistered">Not registered</div>
    <div id="calls"></div>
    <form class="dialer">
      <input type="tel" aria-label="Number to call" autocomplete="off" />
      <button type="submit" class="call">Call</button>
    </form>
    <p id="alert" role="alert"></p>
    <script src="driver.js"></script>
  </body>
</html>
`;

/** A loopback web site serving the driver page for ringcentral-web-phone. */
export interface OfficialSdkSite {
  url: string;
  close(): Promise<void>;
}

/**
 * Bundles official-sdk-driver.ts with the SDK into one minified IIFE, as an app
 * would ship it, and serves it with its page on 127.0.0.1.
 */
export async function startOfficialSdkSite(): Promise<OfficialSdkSite> {
  const folder = await mkdtemp(join(tmpdir(), 'official-sdk-site-'));
  try {
    await build({
      entryPoints: [DRIVER_ENTRY],
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'chrome120',
      outfile: join(folder, 'driver.js'),
      logLevel: 'warning',
    });
    await writeFile(join(folder, 'index.html'), DRIVER_PAGE);
    const server = await startStaticServer(folder);

    return {
      url: server.url,
      async close() {
        await server.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Builds the SDK's `sipInfo` for a bench line, with both proxies on the bench
 * Kamailio's wss port and only the given STUN servers, so that no default of the
 * SDK points outside 127.0.0.1.
 */
export function officialSdkSipInfo(line: BenchLine, kamailio: KamailioServer, stunServers: string[] = []): SipInfo {
  return {
    username: line.username,
    password: line.password,
    authorizationId: line.authorizationId,
    domain: kamailio.domain,
    outboundProxy: kamailio.wssHostPort,
    outboundProxyBackup: kamailio.wssHostPort,
    stunServers,
  };
}

export interface OfficialSdkPhoneOptions {
  siteUrl: string;
  sipInfo: SipInfo;
  /** Functions run in the page before the driver loads (probes and marks). */
  initScripts?: Array<() => void>;
  /** Prefix for the page's console errors in the test output. */
  name: string;
}

export interface OfficialSdkPhone {
  page: Page;
  close(): Promise<void>;
}

/**
 * Opens the driver page in its own bench Chromium, with the peer connection
 * probe installed as in the app's instances. The page registers as soon as it loads.
 */
export async function openOfficialSdkPhone(options: OfficialSdkPhoneOptions): Promise<OfficialSdkPhone> {
  let browser: BenchBrowser | null = null;
  try {
    browser = await launchBenchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        console.log(`[${options.name} official SDK] ${message.type()}: ${message.text()}`);
      }
    });

    const config: OfficialSdkDriverConfig = { sipInfo: options.sipInfo };
    await page.addInitScript((value) => {
      (window as unknown as { __benchOfficialSdk: OfficialSdkDriverConfig }).__benchOfficialSdk = value;
    }, config);
    await page.addInitScript(installPeerConnectionProbe);
    for (const script of options.initScripts ?? []) await page.addInitScript(script);

    await page.goto(options.siteUrl);

    const openedBrowser = browser;
    return { page, close: () => openedBrowser.close() };
  } catch (error) {
    await browser?.close();
    throw error;
  }
}
