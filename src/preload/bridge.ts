import {
  IpcChannel,
  type IpcEvent,
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

/** Builds the `window.softphone` API on top of an IPC transport. */
export function createSoftphoneBridge(transport: IpcTransport): SoftphoneBridge {
  const invoke = <C extends IpcChannel>(channel: C, request: IpcRequest<C>) =>
    transport.invoke(channel, request) as Promise<IpcResponse<C>>;

  return {
    getState: () => invoke(IpcChannel.GetState, undefined),
    saveSettings: (settings) => invoke(IpcChannel.SaveSettings, settings),
    signInWithJwt: (jwt) => invoke(IpcChannel.SignInWithJwt, { jwt }),
    signInWithBrowser: () => invoke(IpcChannel.SignInWithBrowser, undefined),
    cancelSignIn: () => invoke(IpcChannel.CancelSignIn, undefined),
    saveClientSecret: (clientSecret) => invoke(IpcChannel.SaveClientSecret, { clientSecret }),
    signOut: () => invoke(IpcChannel.SignOut, undefined),
    provision: () => invoke(IpcChannel.Provision, undefined),
    requestProvisioning: (reason) => invoke(IpcChannel.RequestProvisioning, { reason }),
    quitReady: () => invoke(IpcChannel.QuitReady, undefined),
    getPreferences: () => invoke(IpcChannel.GetPreferences, undefined),
    savePreferences: (preferences) => invoke(IpcChannel.SavePreferences, preferences),
    getCallHistory: () => invoke(IpcChannel.GetCallHistory, undefined),
    addCallHistoryEntry: (entry) => invoke(IpcChannel.AddCallHistoryEntry, entry),
    markMissedCallsSeen: () => invoke(IpcChannel.MarkMissedCallsSeen, undefined),
    clearCallHistory: () => invoke(IpcChannel.ClearCallHistory, undefined),
    showIncomingCallNotification: (notice) => invoke(IpcChannel.ShowIncomingCallNotification, notice),
    closeIncomingCallNotification: (callId) => invoke(IpcChannel.CloseIncomingCallNotification, { callId }),
    getDesktopPreferences: () => invoke(IpcChannel.GetDesktopPreferences, undefined),
    setDesktopPreferences: (change) => invoke(IpcChannel.SetDesktopPreferences, change),
    reportPhoneStatus: (status) => invoke(IpcChannel.ReportPhoneStatus, status),
    writeSipTrace: (entry) => invoke(IpcChannel.WriteSipTrace, entry),
    on<E extends IpcEvent>(event: E, listener: (payload: IpcEventContract[E]) => void) {
      return transport.on(event, (payload) => listener(payload as IpcEventContract[E]));
    },
  };
}
