import type { AppState, PublicSettings } from './app-state';

/** Channels the renderer invokes; one name per request, shared by both processes. */
export enum IpcChannel {
  GetState = 'softphone:get-state',
  SaveSettings = 'settings:save',
  SignInWithJwt = 'auth:sign-in-jwt',
  SignOut = 'auth:sign-out',
  Provision = 'sip:provision',
  /** The renderer has unregistered after `IpcEvent.WillQuit`; the app may exit. */
  QuitReady = 'app:quit-ready',
}

/** Request and response payload of each invoke channel. */
export interface IpcInvokeContract {
  [IpcChannel.GetState]: { request: void; response: AppState };
  [IpcChannel.SaveSettings]: { request: PublicSettings; response: AppState };
  [IpcChannel.SignInWithJwt]: { request: { jwt: string }; response: AppState };
  [IpcChannel.SignOut]: { request: void; response: AppState };
  [IpcChannel.Provision]: { request: void; response: AppState };
  [IpcChannel.QuitReady]: { request: void; response: void };
}

/** Channels the main process sends to the renderer. */
export enum IpcEvent {
  StateChanged = 'softphone:state-changed',
  /** The machine resumed from sleep: sockets may look open and be dead. */
  PowerResumed = 'system:power-resumed',
  /** The main process is about to quit: unregister now. */
  WillQuit = 'app:will-quit',
}

export interface IpcEventContract {
  [IpcEvent.StateChanged]: AppState;
  [IpcEvent.PowerResumed]: void;
  [IpcEvent.WillQuit]: void;
}

export type IpcRequest<C extends IpcChannel> = IpcInvokeContract[C]['request'];
export type IpcResponse<C extends IpcChannel> = IpcInvokeContract[C]['response'];

/**
 * The API the preload script exposes on `window.softphone`. Narrow on purpose:
 * state, settings, sign-in and provisioning, and events; no tokens.
 */
export interface SoftphoneBridge {
  getState(): Promise<AppState>;
  saveSettings(settings: PublicSettings): Promise<AppState>;
  signInWithJwt(jwt: string): Promise<AppState>;
  signOut(): Promise<AppState>;
  provision(): Promise<AppState>;
  /** Subscribes to a main-process event; returns the unsubscribe function. */
  on<E extends IpcEvent>(event: E, listener: (payload: IpcEventContract[E]) => void): () => void;
  /** Tells the main process that the renderer finished unregistering before quit. */
  quitReady(): Promise<void>;
}
