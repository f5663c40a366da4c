import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearerOwner } from '../bench/platform-server';
import { aorOf, benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { dial, signInWithJwt, waitForCallStatus, waitForIdle, waitForRegistered } from '../bench/softphone-ui';
import { storedData } from '../bench/stored-data';

const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
/** Time for a softphone to see the dead connection and register again after Kamailio returns. */
const REREGISTER_TIMEOUT_MS = 20_000;
/**
 * Time for both re-INVITEs after a reconnect to finish. After glare, each is
 * retried up to three times, after at most 4 s each (RFC 3261 section 14.1).
 */
const REINVITE_TIMEOUT_MS = 15_000;
/** Time for the main process to store a call that ended in the renderer. */
const HISTORY_POLL = { timeout: 5_000 };

// WebSocket readyState values (WHATWG WebSockets), which Node 20 has no global for.
const WEBSOCKET_OPEN = 1;
const WEBSOCKET_CLOSED = 3;

const lines = {
  caller: benchLine(41, 'Caller Bench'),
  callee: benchLine(42, 'Callee Bench'),
};

/** Page globals that recordWebSockets() adds. */
interface BenchSocketWindow {
  benchSockets: WebSocket[];
  /** While true, each new WebSocket connects to a closed loopback port, so the app cannot reconnect. */
  benchRefuseSockets: boolean;
}

/**
 * Runs in the page: stores every WebSocket the app opens in `window.benchSockets`,
 * so a test can close it, and makes new ones fail while `window.benchRefuseSockets` is true.
 */
function recordWebSockets(): void {
  const sockets: WebSocket[] = [];
  const NativeWebSocket = window.WebSocket;
  const benchWindow = window as unknown as BenchSocketWindow;
  class RecordedWebSocket extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      // Port 1 on loopback has no listener, so the connection is refused at once.
      super(benchWindow.benchRefuseSockets ? 'wss://127.0.0.1:1/' : url, protocols);
      sockets.push(this);
    }
  }
  Object.assign(window, { benchSockets: sockets, benchRefuseSockets: false, WebSocket: RecordedWebSocket });
}

/** Runs in the page: closes the app's open WebSockets and returns how many there were. */
function closeOpenSockets(): number {
  const sockets = (window as unknown as BenchSocketWindow).benchSockets;
  const open = sockets.filter((socket) => socket.readyState === WebSocket.OPEN);
  for (const socket of open) socket.close(4000, 'bench: connection dropped');
  return open.length;
}

describe('faults during a call on the bench', () => {
  let bench: SoftphoneBench;
  let caller: SoftphoneInstance | null = null;
  let callee: SoftphoneInstance | null = null;

  beforeAll(async () => {
    bench = await startSoftphoneBench(Object.values(lines));
  });

  afterEach(async () => {
    await Promise.all([caller?.close(), callee?.close()]);
    caller = null;
    callee = null;
    await bench.kamailio.start().catch(() => undefined);
  });

  afterAll(async () => {
    await bench?.stop();
  });

  async function startCall(): Promise<[SoftphoneInstance, SoftphoneInstance]> {
    caller = await startSoftphoneInstance({ name: 'caller', rendererUrl: bench.renderer.url });
    callee = await startSoftphoneInstance({ name: 'callee', rendererUrl: bench.renderer.url, initScripts: [recordWebSockets] });
    await Promise.all([
      signInWithJwt(caller.page, bench.platform.url, lines.caller.jwtCredential),
      signInWithJwt(callee.page, bench.platform.url, lines.callee.jwtCredential),
    ]);
    await Promise.all([waitForRegistered(caller.page), waitForRegistered(callee.page)]);

    await dial(caller.page, lines.callee.username);
    await waitForCallStatus(callee.page, 'ringing');
    await callee.page.getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(caller.page, 'established'), waitForCallStatus(callee.page, 'established')]);
    return [caller, callee];
  }

  /**
   * Kills Kamailio during the established call, starts it again and waits until
   * both phones have registered over new WebSocket connections.
   */
  async function restartKamailioMidCall(a: SoftphoneInstance, b: SoftphoneInstance): Promise<void> {
    const dataBefore = await Promise.all([storedData(a), storedData(b)]);
    expect(dataBefore[0].keychain).toEqual(['oauth-tokens', 'signed-in-user', 'sip-profile']);
    expect(dataBefore[1].keychain).toEqual(['oauth-tokens', 'signed-in-user', 'sip-profile']);
    const requestsBefore = bench.platform.requests.length;
    const answeredInvites = () => (bench.kamailio.log().match(/reply 200 OK to INVITE /g) ?? []).length;
    const answeredInvitesBefore = answeredInvites();

    await bench.kamailio.kill();
    await Promise.all([
      a.page.locator('.registration:not([data-status="registered"])').waitFor({ timeout: REREGISTER_TIMEOUT_MS }),
      b.page.locator('.registration:not([data-status="registered"])').waitFor({ timeout: REREGISTER_TIMEOUT_MS }),
    ]);
    await bench.kamailio.start();
    await Promise.all([waitForRegistered(a.page, REREGISTER_TIMEOUT_MS), waitForRegistered(b.page, REREGISTER_TIMEOUT_MS)]);

    expect(await bench.kamailio.contacts(aorOf(lines.caller))).toHaveLength(1);
    expect(await bench.kamailio.contacts(aorOf(lines.callee))).toHaveLength(1);
    const dataAfter = await Promise.all([storedData(a), storedData(b)]);
    expect(dataAfter).toEqual(dataBefore);
    // Reconnecting to the same proxy needs no new SIP credentials: at most one provisioning request per phone.
    const provisions = bench.platform.requests.slice(requestsBefore).filter((request) => request.path === PROVISION_PATH);
    for (const line of [lines.caller, lines.callee]) {
      const own = provisions.filter((request) => bearerOwner(bench.platform, request) === line.ownerId);
      expect(own.length, line.name).toBeLessThanOrEqual(1);
    }
    expect(provisions.length).toBeLessThanOrEqual(2);
    await waitForCallStatus(a.page, 'established');
    await waitForCallStatus(b.page, 'established');
    // Each phone refreshes the dialog with a re-INVITE once it is registered
    // again. The first one may find the other phone still reconnecting (480);
    // the later one succeeds, and then neither phone may show a failure notice.
    await expect
      .poll(() => answeredInvites() - answeredInvitesBefore, { timeout: REINVITE_TIMEOUT_MS })
      .toBeGreaterThanOrEqual(1);
    const callNotices = (phone: SoftphoneInstance) => phone.page.getByRole('status', { name: 'Call notice' }).allTextContents();
    await expect.poll(() => callNotices(a), { timeout: REINVITE_TIMEOUT_MS }).toEqual([]);
    await expect.poll(() => callNotices(b), { timeout: REINVITE_TIMEOUT_MS }).toEqual([]);
  }

  /** Checks that both phones are idle, recorded the call as answered and keep one registered contact each. */
  async function expectCallEndedOnBoth(a: SoftphoneInstance, b: SoftphoneInstance): Promise<void> {
    await waitForIdle(a.page);
    await waitForIdle(b.page);

    const newestEntry = async (phone: SoftphoneInstance) => (await phone.callServices.callHistory.snapshot()).entries[0];
    await expect
      .poll(() => newestEntry(a), HISTORY_POLL)
      .toMatchObject({ direction: 'outbound', number: `+${lines.callee.username}`, result: 'answered' });
    await expect.poll(() => newestEntry(b), HISTORY_POLL).toMatchObject({ direction: 'inbound', result: 'answered' });
    expect((await newestEntry(b))?.number).toContain(lines.caller.username);
    expect(await bench.kamailio.contacts(aorOf(lines.caller))).toHaveLength(1);
    expect(await bench.kamailio.contacts(aorOf(lines.callee))).toHaveLength(1);
  }

  it('registers both again after a Kamailio kill mid-call', async () => {
    const [a, b] = await startCall();
    await restartKamailioMidCall(a, b);

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await expectCallEndedOnBoth(a, b);
  });

  it('ends the call from the callee after a Kamailio kill', async () => {
    const [a, b] = await startCall();
    await restartKamailioMidCall(a, b);

    await b.page.getByRole('button', { name: 'Hang up' }).click();
    await expectCallEndedOnBoth(a, b);
  });

  it('ends the call by remote BYE after the callee reconnects', async () => {
    const [a, b] = await startCall();

    // The callee loses its SIP connection in the middle of the call. The caller keeps its own.
    const closed = await b.page.evaluate(closeOpenSockets);
    expect(closed).toBe(1);
    const socketStates = () =>
      b.page.evaluate(() => (window as unknown as BenchSocketWindow).benchSockets.map((socket) => socket.readyState));
    await expect.poll(socketStates, { timeout: REREGISTER_TIMEOUT_MS }).toEqual([WEBSOCKET_CLOSED, WEBSOCKET_OPEN]);
    await waitForRegistered(b.page, REREGISTER_TIMEOUT_MS);
    await expect.poll(() => bench.kamailio.contacts(aorOf(lines.callee)), { timeout: REREGISTER_TIMEOUT_MS }).toHaveLength(1);
    await waitForCallStatus(b.page, 'established');

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await waitForIdle(a.page);
    await waitForIdle(b.page);
    expect(await bench.kamailio.contacts(aorOf(lines.caller))).toHaveLength(1);
    expect(await bench.kamailio.contacts(aorOf(lines.callee))).toHaveLength(1);
  });

  // The caller hangs up while the callee has no connection, so the BYE gets 480
  // from Kamailio and the caller's call ends alone. The callee's re-INVITE
  // after it reconnects then gets 481 from the caller, which ends the dialog.
  it('ends the call after a lost BYE', async () => {
    const [a, b] = await startCall();

    await b.page.evaluate(() => {
      (window as unknown as BenchSocketWindow).benchRefuseSockets = true;
    });
    expect(await b.page.evaluate(closeOpenSockets)).toBe(1);
    await b.page.locator('.registration:not([data-status="registered"])').waitFor({ timeout: REREGISTER_TIMEOUT_MS });
    await expect.poll(() => bench.kamailio.contacts(aorOf(lines.callee)), { timeout: REREGISTER_TIMEOUT_MS }).toEqual([]);

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await waitForIdle(a.page);
    await waitForCallStatus(b.page, 'established');

    await b.page.evaluate(() => {
      (window as unknown as BenchSocketWindow).benchRefuseSockets = false;
    });
    await b.page.getByRole('button', { name: 'Try again now' }).click();
    await waitForRegistered(b.page, REREGISTER_TIMEOUT_MS);
    await expectCallEndedOnBoth(a, b);
  });
});
