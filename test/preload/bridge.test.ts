import { describe, expect, it } from 'vitest';

import { createSoftphoneBridge, type IpcTransport } from '../../src/preload/bridge';
import type { AppState } from '../../src/shared/app-state';
import { IpcChannel, IpcEvent } from '../../src/shared/ipc';

function appState(clientId: string): AppState {
  return {
    settings: { server: 'production', customServerUrl: '', clientId },
    clientSecretStored: false,
    session: { status: 'signed-out', error: null },
    provisioning: { status: 'idle' },
  };
}

/**
 * A transport like ipcRenderer: it records each request, responds to GetState with
 * the main process's current state, and delivers events to the listeners.
 */
function createTransport(options: { failReads?: boolean; throwFirstReads?: number } = {}) {
  let throwsLeft = options.throwFirstReads ?? 0;
  const requests: IpcChannel[] = [];
  const listeners = new Map<IpcEvent, Set<(payload: unknown) => void>>();
  let mainState = appState('first');

  const transport: IpcTransport = {
    invoke(channel) {
      if (throwsLeft > 0) {
        throwsLeft -= 1;
        throw new Error('the transport is not ready');
      }
      requests.push(channel);
      if (options.failReads) return Promise.reject(new Error(`${channel} failed`));
      return Promise.resolve(channel === IpcChannel.GetState ? mainState : { channel });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
  };

  return {
    transport,
    requests,
    listenerCount: (event: IpcEvent) => listeners.get(event)?.size ?? 0,
    changeState(state: AppState) {
      mainState = state;
      for (const listener of listeners.get(IpcEvent.StateChanged) ?? []) listener(state);
    },
  };
}

const STARTUP_READS = [
  IpcChannel.GetState,
  IpcChannel.GetPreferences,
  IpcChannel.GetCallHistory,
  IpcChannel.GetDesktopPreferences,
];

describe('softphone bridge start-up reads', () => {
  it('sends the start-up reads on creation', () => {
    const main = createTransport();
    createSoftphoneBridge(main.transport);

    expect(main.requests).toEqual(STARTUP_READS);
  });

  it('serves the first reads from the early responses', async () => {
    const main = createTransport();
    const bridge = createSoftphoneBridge(main.transport);

    expect(await bridge.getState()).toEqual(appState('first'));
    expect(await bridge.getPreferences()).toEqual({ channel: IpcChannel.GetPreferences });
    expect(await bridge.getCallHistory()).toEqual({ channel: IpcChannel.GetCallHistory });
    expect(await bridge.getDesktopPreferences()).toEqual({ channel: IpcChannel.GetDesktopPreferences });
    expect(main.requests).toEqual(STARTUP_READS);
  });

  it('asks the main process again on later reads', async () => {
    const main = createTransport();
    const bridge = createSoftphoneBridge(main.transport);
    await bridge.getState();

    main.changeState(appState('second'));

    expect(await bridge.getState()).toEqual(appState('second'));
    expect(main.requests.filter((channel) => channel === IpcChannel.GetState)).toHaveLength(2);
  });

  it('drops an early state on a StateChanged event', async () => {
    const main = createTransport();
    const bridge = createSoftphoneBridge(main.transport);

    main.changeState(appState('second'));

    expect(await bridge.getState()).toEqual(appState('second'));
    expect(main.requests.filter((channel) => channel === IpcChannel.GetState)).toHaveLength(2);
    expect(main.listenerCount(IpcEvent.StateChanged)).toBe(0);
  });

  it('reports a failed early read to its request', async () => {
    const main = createTransport({ failReads: true });
    const bridge = createSoftphoneBridge(main.transport);

    await expect(bridge.getPreferences()).rejects.toThrow(`${IpcChannel.GetPreferences} failed`);
    expect(main.requests).toEqual(STARTUP_READS);
  });

  it('reads again when the transport threw at creation', async () => {
    const main = createTransport({ throwFirstReads: STARTUP_READS.length });
    const bridge = createSoftphoneBridge(main.transport);

    expect(main.requests).toEqual([]);
    expect(await bridge.getState()).toEqual(appState('first'));
    expect(main.requests).toEqual([IpcChannel.GetState]);
  });
});
