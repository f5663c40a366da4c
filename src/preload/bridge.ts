import {
  IpcChannel,
  IpcEvent,
  type IpcEventContract,
  type IpcRequest,
  type IpcResponse,
  type SoftphoneBridge,
} from '../shared/ipc';

/**
 * The two IPC primitives the bridge needs. In Electron they are `ipcRenderer.invoke`
 * and `ipcRenderer.on`; the test bench supplies its own over Chromium bindings.
 */
export interface IpcTransport {
  invoke(channel: IpcChannel, payload: unknown): Promise<unknown>;
  on(event: IpcEvent, listener: (payload: unknown) => void): () => void;
}

/**
 * Read-only requests the page makes as it starts, each with the event that makes
 * an early response stale (null when only this window changes the data).
 */
const STARTUP_READS = [
  [IpcChannel.GetState, IpcEvent.StateChanged],
  [IpcChannel.GetPreferences, null],
  [IpcChannel.GetCallHistory, null],
  [IpcChannel.GetDesktopPreferences, IpcEvent.DesktopPreferencesChanged],
] as const;

type StartupRead = (typeof STARTUP_READS)[number][0];

/**
 * Sends the start-up reads at once, so that their round trips to the main
 * process overlap the loading of the page's scripts. Each early response serves
 * the first matching request only, and only if no change event arrived since
 * it was sent. Otherwise that request goes to the main process again.
 */
function prefetchStartupReads(transport: IpcTransport) {
  const early = new Map<StartupRead, Promise<unknown>>();

  for (const [channel, staleAfter] of STARTUP_READS) {
    let response: Promise<unknown>;
    try {
      response = transport.invoke(channel, undefined);
    } catch {
      // A transport that cannot send yet leaves the read to the page's own request.
      continue;
    }
    // A failed early read is reported to the request that takes it, not as unhandled.
    response.catch(() => undefined);
    early.set(channel, response);

    if (staleAfter !== null) {
      const stopWatching = transport.on(staleAfter, () => {
        early.delete(channel);
        stopWatching();
      });
    }
  }

  return <C extends StartupRead>(channel: C): Promise<IpcResponse<C>> | null => {
    const response = early.get(channel);
    if (response === undefined) return null;
    early.delete(channel);
    return response as Promise<IpcResponse<C>>;
  };
}

/** Builds the `window.softphone` API on top of an IPC transport. */
export function createSoftphoneBridge(transport: IpcTransport): SoftphoneBridge {
  const invoke = <C extends IpcChannel>(channel: C, request: IpcRequest<C>) =>
    transport.invoke(channel, request) as Promise<IpcResponse<C>>;
  const takeEarly = prefetchStartupReads(transport);
  const read = <C extends StartupRead>(channel: C) => takeEarly(channel) ?? invoke(channel, undefined);

  return {
    getState: () => read(IpcChannel.GetState),
    saveSettings: (settings) => invoke(IpcChannel.SaveSettings, settings),
    signInWithJwt: (jwt) => invoke(IpcChannel.SignInWithJwt, { jwt }),
    signInWithBrowser: () => invoke(IpcChannel.SignInWithBrowser, undefined),
    cancelSignIn: () => invoke(IpcChannel.CancelSignIn, undefined),
    saveClientSecret: (clientSecret) => invoke(IpcChannel.SaveClientSecret, { clientSecret }),
    signOut: () => invoke(IpcChannel.SignOut, undefined),
    provision: () => invoke(IpcChannel.Provision, undefined),
    requestProvisioning: (reason) => invoke(IpcChannel.RequestProvisioning, { reason }),
    quitReady: () => invoke(IpcChannel.QuitReady, undefined),
    getPreferences: () => read(IpcChannel.GetPreferences),
    savePreferences: (preferences) => invoke(IpcChannel.SavePreferences, preferences),
    getCallHistory: () => read(IpcChannel.GetCallHistory),
    addCallHistoryEntry: (entry) => invoke(IpcChannel.AddCallHistoryEntry, entry),
    markMissedCallsSeen: () => invoke(IpcChannel.MarkMissedCallsSeen, undefined),
    clearCallHistory: () => invoke(IpcChannel.ClearCallHistory, undefined),
    showIncomingCallNotification: (notice) => invoke(IpcChannel.ShowIncomingCallNotification, notice),
    closeIncomingCallNotification: (callId) => invoke(IpcChannel.CloseIncomingCallNotification, { callId }),
    getDesktopPreferences: () => read(IpcChannel.GetDesktopPreferences),
    setDesktopPreferences: (change) => invoke(IpcChannel.SetDesktopPreferences, change),
    reportPhoneStatus: (status) => invoke(IpcChannel.ReportPhoneStatus, status),
    writeSipTrace: (entry) => invoke(IpcChannel.WriteSipTrace, entry),
    on<E extends IpcEvent>(event: E, listener: (payload: IpcEventContract[E]) => void) {
      return transport.on(event, (payload) => listener(payload as IpcEventContract[E]));
    },
  };
}
