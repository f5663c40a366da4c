import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

import type { CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LAST_SIP_SERVER_KEY } from '../../src/renderer/sip/early-sip-socket';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';

/** One WebSocket the page created, as Chromium's DevTools protocol reports it. */
interface CreatedSocket {
  url: string;
  /** The script whose code constructed it (the innermost frame of the stack). */
  script: string;
}

/** Records the WebSockets the page creates, including those of scripts that run before any init script could wrap `WebSocket`. */
async function watchWebSockets(page: Page): Promise<{ created: CreatedSocket[]; closed: string[]; cdp: CDPSession }> {
  const cdp = await page.context().newCDPSession(page);
  const created: CreatedSocket[] = [];
  const closed: string[] = [];
  const urls = new Map<string, string>();
  cdp.on('Network.webSocketCreated', (event) => {
    urls.set(event.requestId, event.url);
    const frame = event.initiator?.stack?.callFrames[0];
    // DevTools reports the URL in its normalized form, with a path of '/'.
    created.push({ url: new URL(event.url).origin, script: frame?.url ?? '' });
  });
  cdp.on('Network.webSocketClosed', (event) => closed.push(new URL(urls.get(event.requestId) ?? 'wss://unknown').origin));
  await cdp.send('Network.enable');
  return { created, closed, cdp };
}

function rememberedServer(page: Page): Promise<string | null> {
  return page.evaluate((key) => localStorage.getItem(key), LAST_SIP_SERVER_KEY);
}

/** Returns a TCP port on 127.0.0.1 with nothing listening. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const line = benchLine(41, 'Early Bench');
const noStorageLine = benchLine(42, 'No Storage Bench');
let bench: SoftphoneBench;

beforeAll(async () => {
  bench = await startSoftphoneBench([line, noStorageLine]);
}, 60_000);

afterAll(async () => {
  await bench?.stop();
});

describe('WebSocket opened before the bundle loads', () => {
  let phone: SoftphoneInstance;
  let aor: string;

  beforeAll(async () => {
    aor = `sip:${line.username}@${bench.kamailio.domain}`;
    phone = await startSoftphoneInstance({ name: 'early', rendererUrl: bench.renderer.url });
    await signInWithJwt(phone.page, bench.platform.url, line.jwtCredential);
    await waitForRegistered(phone.page);
  }, 60_000);

  afterAll(async () => {
    await phone?.quit();
    await phone?.close();
  });

  it('registers over the early socket alone', async () => {
    expect(await rememberedServer(phone.page)).toBe(bench.kamailio.wssUrl);

    const sockets = await watchWebSockets(phone.page);
    try {
      await phone.page.reload();
      await waitForRegistered(phone.page);

      expect(sockets.created).toEqual([{ url: bench.kamailio.wssUrl, script: expect.stringMatching(/\/assets\/early-sip-socket\.js$/) }]);
      await expect.poll(() => bench.kamailio.contacts(aor)).toHaveLength(1);
    } finally {
      await sockets.cdp.detach();
    }
  });

  it('replaces an early socket to a stale server', async () => {
    const stale = `wss://127.0.0.1:${await unusedPort()}`;
    await phone.page.evaluate(([key, url]) => localStorage.setItem(key, url), [LAST_SIP_SERVER_KEY, stale] as const);

    const sockets = await watchWebSockets(phone.page);
    try {
      await phone.page.reload();
      await waitForRegistered(phone.page);

      expect(sockets.created.map((socket) => socket.url)).toEqual([stale, bench.kamailio.wssUrl]);
      expect(sockets.created[0]!.script).toMatch(/\/assets\/early-sip-socket\.js$/);
      await expect.poll(() => sockets.closed).toContain(stale);
      expect(await rememberedServer(phone.page)).toBe(bench.kamailio.wssUrl);
      await expect.poll(() => bench.kamailio.contacts(aor)).toHaveLength(1);
    } finally {
      await sockets.cdp.detach();
    }
  });

  it('opens no socket after sign-out', async () => {
    await phone.page.getByRole('button', { name: 'Sign out' }).click();
    await phone.page.getByRole('button', { name: 'Sign in with browser' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => rememberedServer(phone.page)).toBeNull();
    await expect.poll(() => bench.kamailio.contacts(aor)).toEqual([]);

    const sockets = await watchWebSockets(phone.page);
    try {
      await phone.page.reload();
      await phone.page.getByRole('button', { name: 'Sign in with browser' }).waitFor({ timeout: 10_000 });
      // The head script runs during parsing, so by the time the signed-out screen shows, it has decided.
      expect(sockets.created).toEqual([]);
    } finally {
      await sockets.cdp.detach();
    }
  });

  it('forgets a server left from an earlier session at a signed-out start', async () => {
    // As after a session that ended while the app was not running.
    await phone.page.evaluate(([key, url]) => localStorage.setItem(key, url), [LAST_SIP_SERVER_KEY, bench.kamailio.wssUrl] as const);

    await phone.page.reload();
    await phone.page.getByRole('button', { name: 'Sign in with browser' }).waitFor({ timeout: 10_000 });

    await expect.poll(() => rememberedServer(phone.page), { timeout: 5_000 }).toBeNull();
  });
});

/**
 * Makes `window.localStorage` throw on access, as Chromium does when the page
 * may not use storage ("Access is denied for this document").
 */
function blockLocalStorage(): void {
  Object.defineProperty(window, 'localStorage', {
    configurable: true,
    get() {
      throw new DOMException("Failed to read the 'localStorage' property from 'Window': Access is denied for this document.", 'SecurityError');
    },
  });
}

describe('page without local storage', () => {
  let phone: SoftphoneInstance;

  beforeAll(async () => {
    phone = await startSoftphoneInstance({ name: 'no-storage', rendererUrl: bench.renderer.url, initScripts: [blockLocalStorage] });
  }, 60_000);

  afterAll(async () => {
    await phone?.quit();
    await phone?.close();
  });

  it('registers without the early socket', async () => {
    await signInWithJwt(phone.page, bench.platform.url, noStorageLine.jwtCredential);
    await waitForRegistered(phone.page);
    await expect.poll(() => bench.kamailio.contacts(`sip:${noStorageLine.username}@${bench.kamailio.domain}`)).toHaveLength(1);
  });
});
