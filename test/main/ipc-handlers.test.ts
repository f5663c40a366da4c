import { describe, expect, expectTypeOf, it } from 'vitest';

import type { AppState, PublicSettings } from '../../src/shared/app-state';
import { IpcChannel, type IpcRequest, type IpcResponse } from '../../src/shared/ipc';
import { createAppUrlMatcher } from '../../src/main/app-urls';
import {
  createIpcHandlers,
  IpcPayloadError,
  type CallServices,
  ipcRequestSchemas,
  registerIpcHandlers,
  UntrustedSenderError,
  type IpcHandlers,
  type IpcInvokeEventLike,
  type IpcMainLike,
} from '../../src/main/ipc-handlers';
import { createQuitHandshake } from '../../src/main/quit-handshake';
import type { SoftphoneService } from '../../src/main/softphone-service';
import { DEFAULT_PREFERENCES } from '../../src/shared/preferences';
import { createMemoryDesktop } from './helpers';

const STATE: AppState = {
  settings: { server: 'production', customServerUrl: '', clientId: 'abc' },
  clientSecretStored: false,
  session: { status: 'signed-out', error: null },
  provisioning: { status: 'idle' },
};

/** A service stand-in that records which method ran with which argument. */
function createRecordingService(): SoftphoneService & { calls: string[] } {
  const calls: string[] = [];
  const quit = createQuitHandshake();
  return {
    calls,
    ready: Promise.resolve(),
    getState: async () => {
      calls.push('getState');
      return STATE;
    },
    subscribe: () => () => {},
    saveSettings: async (settings) => {
      calls.push(`saveSettings ${JSON.stringify(settings)}`);
      return { ...STATE, settings };
    },
    signInWithJwt: async (jwt) => {
      calls.push(`signInWithJwt ${jwt}`);
      return STATE;
    },
    signInWithBrowser: async () => {
      calls.push('signInWithBrowser');
      return STATE;
    },
    cancelSignIn: async () => {
      calls.push('cancelSignIn');
      return STATE;
    },
    saveClientSecret: async (clientSecret) => {
      // Records only whether a secret came, as the app's logs do.
      calls.push(`saveClientSecret ${clientSecret === null ? 'null' : `${clientSecret.length} chars`}`);
      return { ...STATE, clientSecretStored: clientSecret !== null };
    },
    signOut: async () => {
      calls.push('signOut');
      return STATE;
    },
    provision: async () => {
      calls.push('provision');
      return STATE;
    },
    requestProvisioning: (reason) => {
      calls.push(`requestProvisioning ${reason}`);
    },
    notifyNetworkChange: (online) => {
      calls.push(`notifyNetworkChange ${online}`);
    },
    notifyResumed: () => {
      calls.push('notifyResumed');
    },
    notifyQuitReady: () => {
      calls.push('notifyQuitReady');
      quit.notifyReady();
    },
    waitForQuitReady: (timeoutMs) => quit.waitForReady(timeoutMs),
  };
}

/** Call services over an empty history and default preferences; test/main/call-ipc-handlers.test.ts covers them. */
function createStubCallServices(): CallServices {
  const snapshot = { entries: [], missedCount: 0 };
  return {
    preferences: { load: async () => DEFAULT_PREFERENCES, save: async (preferences) => preferences },
    callHistory: {
      snapshot: async () => snapshot,
      add: async () => snapshot,
      markMissedSeen: async () => snapshot,
      clear: async () => snapshot,
      subscribe: () => () => {},
    },
    incomingCallNotifier: { show: () => true, close: () => {}, closeAll: () => {} },
  };
}

type RegisteredListener = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;

/** Creates a stand-in for Electron's ipcMain that records every `handle` call. */
function createFakeIpcMain(): IpcMainLike & { handlers: Map<string, RegisteredListener> } {
  const handlers = new Map<string, RegisteredListener>();
  return {
    handlers,
    handle(channel, listener) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, listener);
    },
  };
}

const APP_URL = 'app://softphone/index.html';
const isAppUrl = createAppUrlMatcher({ appUrl: APP_URL, devServerUrl: null });
const fromApp: IpcInvokeEventLike = { senderFrame: { url: APP_URL } };

const VALID_SETTINGS: PublicSettings = { server: 'custom', customServerUrl: 'http://127.0.0.1:8080', clientId: 'abc' };

describe('IPC handler table', () => {
  it('has a handler and a schema for every channel', () => {
    expectTypeOf<IpcHandlers[IpcChannel.SaveSettings]>().toEqualTypeOf<
      (request: IpcRequest<IpcChannel.SaveSettings>) => Promise<IpcResponse<IpcChannel.SaveSettings>>
    >();
    expectTypeOf<keyof IpcHandlers>().toEqualTypeOf<IpcChannel>();
    expectTypeOf<keyof typeof ipcRequestSchemas>().toEqualTypeOf<IpcChannel>();

    const handlers = createIpcHandlers(createRecordingService(), createStubCallServices(), createMemoryDesktop());

    expect(Object.keys(handlers).sort()).toEqual(Object.values(IpcChannel).sort());
    expect(Object.keys(ipcRequestSchemas).sort()).toEqual(Object.values(IpcChannel).sort());
    for (const handler of Object.values(handlers)) {
      expect(typeof handler).toBe('function');
    }
  });

  it('passes valid requests to the service', async () => {
    const service = createRecordingService();
    const handlers = createIpcHandlers(service, createStubCallServices(), createMemoryDesktop());

    await handlers[IpcChannel.GetState](undefined);
    await handlers[IpcChannel.SaveSettings](VALID_SETTINGS);
    await handlers[IpcChannel.SignInWithJwt]({ jwt: ' header.payload.signature ' });
    await handlers[IpcChannel.SignInWithBrowser](undefined);
    await handlers[IpcChannel.CancelSignIn](undefined);
    await handlers[IpcChannel.SaveClientSecret]({ clientSecret: ' s3cret-Value ' });
    await handlers[IpcChannel.SaveClientSecret]({ clientSecret: null });
    await handlers[IpcChannel.SignOut](undefined);
    await handlers[IpcChannel.Provision](undefined);
    await handlers[IpcChannel.RequestProvisioning]({ reason: 'check-sync' });
    await handlers[IpcChannel.RequestProvisioning]({ reason: 'sip-auth-failure' });
    await handlers[IpcChannel.QuitReady](undefined);

    expect(service.calls).toEqual([
      'getState',
      `saveSettings ${JSON.stringify(VALID_SETTINGS)}`,
      'signInWithJwt header.payload.signature',
      'signInWithBrowser',
      'cancelSignIn',
      'saveClientSecret 12 chars',
      'saveClientSecret null',
      'signOut',
      'provision',
      'requestProvisioning check-sync',
      'requestProvisioning sip-auth-failure',
      'notifyQuitReady',
    ]);
  });

  const badPayloads: [IpcChannel, unknown, RegExp][] = [
    [IpcChannel.SignInWithJwt, undefined, /expected object/],
    [IpcChannel.SignInWithJwt, { jwt: '' }, /jwt: the JWT credential is empty/],
    [IpcChannel.SignInWithJwt, { jwt: 'a b' }, /whitespace/],
    [IpcChannel.SignInWithJwt, { jwt: 42 }, /jwt: .*expected string/],
    [IpcChannel.SignInWithJwt, { jwt: 'x'.repeat(20_000) }, /longer than 16384/],
    [IpcChannel.SignInWithJwt, { jwt: 'ok', extra: true }, /extra/],
    [IpcChannel.SaveSettings, { ...VALID_SETTINGS, server: 'moon' }, /server/],
    [IpcChannel.SaveSettings, { ...VALID_SETTINGS, customServerUrl: 42 }, /customServerUrl/],
    [IpcChannel.SaveSettings, { ...VALID_SETTINGS, customServerUrl: 'x'.repeat(3000) }, /longer than 2048/],
    [IpcChannel.SaveSettings, { ...VALID_SETTINGS, clientSecret: 'x' }, /clientSecret/],
    [IpcChannel.SaveSettings, 'settings', /expected object/],
    [IpcChannel.Provision, { force: true }, /expected undefined|expected null|Invalid input/],
    [IpcChannel.GetState, 'please', /Invalid input|expected/],
    [IpcChannel.SignInWithBrowser, { prompt: 'login' }, /expected undefined|expected null|Invalid input/],
    [IpcChannel.CancelSignIn, 'now', /expected undefined|expected null|Invalid input/],
    [IpcChannel.SaveClientSecret, undefined, /expected object/],
    [IpcChannel.SaveClientSecret, { clientSecret: '' }, /client secret is empty/],
    [IpcChannel.SaveClientSecret, { clientSecret: 'two words' }, /printable ASCII characters without spaces/],
    [IpcChannel.SaveClientSecret, { clientSecret: 'x'.repeat(600) }, /longer than 512/],
    [IpcChannel.SaveClientSecret, { clientSecret: 'ok', clientId: 'abc' }, /clientId/],
    [IpcChannel.RequestProvisioning, undefined, /expected object/],
    [IpcChannel.RequestProvisioning, { reason: 'because' }, /reason/],
    [IpcChannel.RequestProvisioning, { reason: 'check-sync', now: true }, /now/],
  ];

  for (const [channel, payload, message] of badPayloads) {
    it(`rejects ${JSON.stringify(payload)?.slice(0, 40)} on ${channel}`, async () => {
      const service = createRecordingService();
      const handler = createIpcHandlers(service, createStubCallServices(), createMemoryDesktop())[channel] as (request: unknown) => Promise<unknown>;

      const error = await handler(payload).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(IpcPayloadError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(channel);
      expect(service.calls).toEqual([]);
    });
  }

  it('does not echo a rejected JWT in the error', async () => {
    const handlers = createIpcHandlers(createRecordingService(), createStubCallServices(), createMemoryDesktop());

    const error = (await handlers[IpcChannel.SignInWithJwt]({ jwt: 'secret part' }).catch((caught: unknown) => caught)) as Error;

    expect(error.message).not.toContain('secret part');
  });

  it('does not echo a rejected client secret in the error', async () => {
    const handlers = createIpcHandlers(createRecordingService(), createStubCallServices(), createMemoryDesktop());

    const error = (await handlers[IpcChannel.SaveClientSecret]({ clientSecret: 'secret part' }).catch(
      (caught: unknown) => caught,
    )) as Error;

    expect(error).toBeInstanceOf(IpcPayloadError);
    expect(error.message).not.toContain('secret part');
  });
});

describe('IPC registration', () => {
  it('registers every channel once with ipcMain.handle', () => {
    const ipcMain = createFakeIpcMain();

    registerIpcHandlers(ipcMain, createIpcHandlers(createRecordingService(), createStubCallServices(), createMemoryDesktop()), isAppUrl);

    expect([...ipcMain.handlers.keys()].sort()).toEqual(Object.values(IpcChannel).sort());
  });

  it('handles calls from the app page', async () => {
    const ipcMain = createFakeIpcMain();
    const service = createRecordingService();
    registerIpcHandlers(ipcMain, createIpcHandlers(service, createStubCallServices(), createMemoryDesktop()), isAppUrl);

    const state = await ipcMain.handlers.get(IpcChannel.GetState)!(fromApp, undefined);
    const saved = await ipcMain.handlers.get(IpcChannel.SaveSettings)!(
      { senderFrame: { url: `${APP_URL}#/settings` } },
      VALID_SETTINGS,
    );

    expect(state).toEqual(STATE);
    expect(saved).toMatchObject({ settings: VALID_SETTINGS });
  });

  const untrustedSenders: [string, IpcInvokeEventLike][] = [
    ['a web page', { senderFrame: { url: 'https://evil.example/index.html' } }],
    ['another local file', { senderFrame: { url: 'file:///tmp/index.html' } }],
    ['a destroyed frame', { senderFrame: null }],
    ['a blank page', { senderFrame: { url: 'about:blank' } }],
  ];

  for (const [name, event] of untrustedSenders) {
    it(`rejects calls from ${name}`, async () => {
      const ipcMain = createFakeIpcMain();
      const service = createRecordingService();
      registerIpcHandlers(ipcMain, createIpcHandlers(service, createStubCallServices(), createMemoryDesktop()), isAppUrl);

      for (const channel of Object.values(IpcChannel)) {
        const listener = ipcMain.handlers.get(channel)!;
        await expect(Promise.resolve().then(() => listener(event, undefined))).rejects.toBeInstanceOf(UntrustedSenderError);
      }
      expect(service.calls).toEqual([]);
    });
  }

  it('lets QuitReady end the wait of the quit sequence', async () => {
    const ipcMain = createFakeIpcMain();
    const service = createRecordingService();
    registerIpcHandlers(ipcMain, createIpcHandlers(service, createStubCallServices(), createMemoryDesktop()), isAppUrl);

    const waiting = service.waitForQuitReady(2_000);
    await ipcMain.handlers.get(IpcChannel.QuitReady)!(fromApp, undefined);

    expect(await waiting).toBe(true);
  });

  it('gives up waiting for QuitReady after the timeout', async () => {
    const service = createRecordingService();

    expect(await service.waitForQuitReady(20)).toBe(false);
  });
});

describe('app URL matcher', () => {
  it('accepts the dev server origin only in development', () => {
    const matcher = createAppUrlMatcher({ appUrl: APP_URL, devServerUrl: 'http://localhost:5173' });

    expect(matcher('http://localhost:5173/')).toBe(true);
    expect(matcher('http://localhost:5173/index.html?x=1')).toBe(true);
    expect(matcher('http://localhost:5174/')).toBe(false);
    expect(matcher(APP_URL)).toBe(true);
    expect(isAppUrl('http://localhost:5173/')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('desktop IPC channels', () => {
  it('passes valid requests to the desktop target', async () => {
    const desktop = createMemoryDesktop();
    const handlers = createIpcHandlers(createRecordingService(), createStubCallServices(), desktop);

    const changed = await handlers[IpcChannel.SetDesktopPreferences]({ doNotDisturb: true });
    const read = await handlers[IpcChannel.GetDesktopPreferences](undefined);
    await handlers[IpcChannel.ReportPhoneStatus]({ registration: 'registered', inCall: true });
    await handlers[IpcChannel.WriteSipTrace]({ level: 'log', category: 'sip.Transport', content: 'REGISTER sip:example.com SIP/2.0' });

    expect(changed).toEqual({ openAtLogin: false, doNotDisturb: true, sipTrace: false });
    expect(read).toEqual(changed);
    expect(desktop.phoneStatuses).toEqual([{ registration: 'registered', inCall: true }]);
    expect(desktop.sipTrace).toEqual([{ level: 'log', category: 'sip.Transport', content: 'REGISTER sip:example.com SIP/2.0' }]);
  });

  const badPayloads: [IpcChannel, unknown, RegExp][] = [
    [IpcChannel.GetDesktopPreferences, { all: true }, /expected undefined|expected null|Invalid input/],
    [IpcChannel.SetDesktopPreferences, { doNotDisturb: 'yes' }, /doNotDisturb/],
    [IpcChannel.SetDesktopPreferences, { openAtLogin: true, runAsAdmin: true }, /runAsAdmin/],
    [IpcChannel.SetDesktopPreferences, null, /expected object/],
    [IpcChannel.ReportPhoneStatus, { registration: 'hacked', inCall: false }, /registration/],
    [IpcChannel.ReportPhoneStatus, { registration: 'registered' }, /inCall/],
    [IpcChannel.ReportPhoneStatus, { registration: 'registered', inCall: false, missedCalls: 3 }, /missedCalls/],
    [IpcChannel.WriteSipTrace, { level: 'trace', category: 'sip', content: 'x' }, /level/],
    [IpcChannel.WriteSipTrace, { level: 'log', category: '../../etc/passwd', content: 'x' }, /category/],
    [IpcChannel.WriteSipTrace, { level: 'log', category: 'sip', content: 'x'.repeat(300_000) }, /content/],
    [IpcChannel.WriteSipTrace, { level: 'log', category: 'sip', content: 42 }, /content/],
  ];

  for (const [channel, payload, message] of badPayloads) {
    it(`rejects ${JSON.stringify(payload)?.slice(0, 50)} on ${channel}`, async () => {
      const desktop = createMemoryDesktop();
      const handler = createIpcHandlers(createRecordingService(), createStubCallServices(), desktop)[channel] as (
        request: unknown,
      ) => Promise<unknown>;

      const error = await handler(payload).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(IpcPayloadError);
      expect((error as Error).message).toMatch(message);
      expect(desktop.phoneStatuses).toEqual([]);
      expect(desktop.sipTrace).toEqual([]);
    });
  }
});
