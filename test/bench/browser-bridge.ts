/**
 * Runs inside the bench's Chromium page in place of the Electron preload: it
 * builds the same `window.softphone` API with `createSoftphoneBridge`, over a
 * transport made of two Playwright bindings instead of ipcRenderer.
 */
import { createSoftphoneBridge } from '../../src/preload/bridge';
import type { IpcChannel, IpcEvent } from '../../src/shared/ipc';

interface BenchWindow {
  /** Exposed by the bench with `page.exposeBinding`; runs the main-process IPC handler. */
  __benchIpcInvoke(channel: IpcChannel, payload: unknown): Promise<unknown>;
  /** Called by the bench with `page.evaluate` to deliver a main-process event. */
  __benchIpcEmit?: (event: IpcEvent, payload: unknown) => void;
  softphone?: unknown;
}

const benchWindow = window as unknown as BenchWindow;
const listeners = new Map<IpcEvent, Set<(payload: unknown) => void>>();

benchWindow.__benchIpcEmit = (event, payload) => {
  for (const listener of listeners.get(event) ?? []) listener(payload);
};

benchWindow.softphone = Object.freeze(
  createSoftphoneBridge({
    invoke: (channel, payload) => benchWindow.__benchIpcInvoke(channel, payload),
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
  }),
);
