import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

import { createSoftphoneBridge } from './bridge';

// Only the listener's payload reaches the page: the IpcRendererEvent (with its
// `sender`) stays in the isolated world.
const bridge = createSoftphoneBridge({
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on(event, listener) {
    const wrapped = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(event, wrapped);
    return () => ipcRenderer.removeListener(event, wrapped);
  },
});

contextBridge.exposeInMainWorld('softphone', bridge);
