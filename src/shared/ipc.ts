import type { AppState, PublicSettings } from './app-state';
import type { CallHistorySnapshot, NewCallHistoryEntry } from './call-history';
import type { DesktopPreferences, DialLink, PhoneStatus, SipTraceEntry } from './desktop';
import type { IncomingCallActionEvent, IncomingCallNotice } from './notifications';
import type { Preferences } from './preferences';

/** Channels the renderer invokes; one name per request, shared by both processes. */
export enum IpcChannel {
  GetState = 'softphone:get-state',
  SaveSettings = 'settings:save',
  SignInWithJwt = 'auth:sign-in-jwt',
  /**
   * Signs in with OAuth (authorization code with PKCE) in the system browser.
   * Resolves when the sign-in has finished, failed, timed out or been cancelled.
   */
  SignInWithBrowser = 'auth:sign-in-browser',
  /** Stops a browser sign-in that is waiting for the browser. */
  CancelSignIn = 'auth:cancel-sign-in',
  /** Stores the OAuth client secret in the keychain, or deletes it for null; it is never sent back. */
  SaveClientSecret = 'settings:save-client-secret',
  SignOut = 'auth:sign-out',
  Provision = 'sip:provision',
  /**
   * The SIP engine requests a new SIP profile (a `NOTIFY` with `Event: check-sync`,
   * or the registrar rejected the credentials). The main process decides when the
   * request is sent, within the rate limit; the result arrives as `StateChanged`.
   */
  RequestProvisioning = 'sip:request-provisioning',
  /** The renderer has unregistered after `IpcEvent.WillQuit`; the app may exit. */
  QuitReady = 'app:quit-ready',
  /** Audio devices and dialing country, kept in `preferences.json`. */
  GetPreferences = 'preferences:get',
  SavePreferences = 'preferences:save',
  GetCallHistory = 'history:get',
  /** Records a call that ended; the main process assigns its id. */
  AddCallHistoryEntry = 'history:add',
  /** The user opened the history: the missed-call count drops to 0. */
  MarkMissedCallsSeen = 'history:mark-missed-seen',
  ClearCallHistory = 'history:clear',
  /** An inbound call is ringing: show the OS notification with Answer and Decline. */
  ShowIncomingCallNotification = 'notification:show-incoming-call',
  /** The call stopped ringing: remove its notification. */
  CloseIncomingCallNotification = 'notification:close-incoming-call',
  /** Start at login, Do Not Disturb and the SIP trace switch. */
  GetDesktopPreferences = 'desktop:get-preferences',
  /** Changes any subset of the desktop preferences and returns all of them. */
  SetDesktopPreferences = 'desktop:set-preferences',
  /** Registration and call state for the tray icon, sent whenever either changes. */
  ReportPhoneStatus = 'desktop:report-phone-status',
  /** One sip.js log line; the main process writes it only while the SIP trace is on. */
  WriteSipTrace = 'diagnostics:write-sip-trace',
}

/** Request and response payload of each invoke channel. */
export interface IpcInvokeContract {
  [IpcChannel.GetState]: { request: void; response: AppState };
  [IpcChannel.SaveSettings]: { request: PublicSettings; response: AppState };
  [IpcChannel.SignInWithJwt]: { request: { jwt: string }; response: AppState };
  [IpcChannel.SignInWithBrowser]: { request: void; response: AppState };
  [IpcChannel.CancelSignIn]: { request: void; response: AppState };
  [IpcChannel.SaveClientSecret]: { request: { clientSecret: string | null }; response: AppState };
  [IpcChannel.SignOut]: { request: void; response: AppState };
  [IpcChannel.Provision]: { request: void; response: AppState };
  [IpcChannel.RequestProvisioning]: { request: { reason: ProvisioningRequestReason }; response: void };
  [IpcChannel.QuitReady]: { request: void; response: void };
  [IpcChannel.GetPreferences]: { request: void; response: Preferences };
  [IpcChannel.SavePreferences]: { request: Preferences; response: Preferences };
  [IpcChannel.GetCallHistory]: { request: void; response: CallHistorySnapshot };
  [IpcChannel.AddCallHistoryEntry]: { request: NewCallHistoryEntry; response: CallHistorySnapshot };
  [IpcChannel.MarkMissedCallsSeen]: { request: void; response: CallHistorySnapshot };
  [IpcChannel.ClearCallHistory]: { request: void; response: CallHistorySnapshot };
  [IpcChannel.ShowIncomingCallNotification]: { request: IncomingCallNotice; response: void };
  [IpcChannel.CloseIncomingCallNotification]: { request: { callId: string }; response: void };
  [IpcChannel.GetDesktopPreferences]: { request: void; response: DesktopPreferences };
  [IpcChannel.SetDesktopPreferences]: { request: Partial<DesktopPreferences>; response: DesktopPreferences };
  [IpcChannel.ReportPhoneStatus]: { request: PhoneStatus; response: void };
  [IpcChannel.WriteSipTrace]: { request: SipTraceEntry; response: void };
}

/** Reason the SIP engine gives for a new provisioning request. */
export type ProvisioningRequestReason = 'check-sync' | 'sip-auth-failure';

/** Channels the main process sends to the renderer. */
export enum IpcEvent {
  StateChanged = 'softphone:state-changed',
  /** The machine resumed from sleep: sockets may look open and be dead. */
  PowerResumed = 'system:power-resumed',
  /** The operating system reports a network connection again: reconnect now. */
  NetworkOnline = 'system:network-online',
  /** The operating system reports no network connection. */
  NetworkOffline = 'system:network-offline',
  /** The main process is about to quit: unregister now. */
  WillQuit = 'app:will-quit',
  /** The user answered or declined a call from its OS notification. */
  IncomingCallAction = 'notification:incoming-call-action',
  /** The desktop preferences changed, from the window or the tray menu. */
  DesktopPreferencesChanged = 'desktop:preferences-changed',
  /** The OS opened a tel:, sip: or callto: link: confirm it with the user before dialing. */
  DialLinkOpened = 'desktop:dial-link-opened',
}

export interface IpcEventContract {
  [IpcEvent.StateChanged]: AppState;
  [IpcEvent.PowerResumed]: void;
  [IpcEvent.NetworkOnline]: void;
  [IpcEvent.NetworkOffline]: void;
  [IpcEvent.WillQuit]: void;
  [IpcEvent.IncomingCallAction]: IncomingCallActionEvent;
  [IpcEvent.DesktopPreferencesChanged]: DesktopPreferences;
  [IpcEvent.DialLinkOpened]: DialLink;
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
  signInWithBrowser(): Promise<AppState>;
  cancelSignIn(): Promise<AppState>;
  /** Stores the client secret in the keychain; null deletes it. */
  saveClientSecret(clientSecret: string | null): Promise<AppState>;
  signOut(): Promise<AppState>;
  provision(): Promise<AppState>;
  /** Asks the main process for a new SIP profile; it sends the request when the rate limit allows. */
  requestProvisioning(reason: ProvisioningRequestReason): Promise<void>;
  getPreferences(): Promise<Preferences>;
  savePreferences(preferences: Preferences): Promise<Preferences>;
  getCallHistory(): Promise<CallHistorySnapshot>;
  addCallHistoryEntry(entry: NewCallHistoryEntry): Promise<CallHistorySnapshot>;
  markMissedCallsSeen(): Promise<CallHistorySnapshot>;
  clearCallHistory(): Promise<CallHistorySnapshot>;
  showIncomingCallNotification(notice: IncomingCallNotice): Promise<void>;
  closeIncomingCallNotification(callId: string): Promise<void>;
  getDesktopPreferences(): Promise<DesktopPreferences>;
  setDesktopPreferences(change: Partial<DesktopPreferences>): Promise<DesktopPreferences>;
  reportPhoneStatus(status: PhoneStatus): Promise<void>;
  writeSipTrace(entry: SipTraceEntry): Promise<void>;
  /** Subscribes to a main-process event; returns the unsubscribe function. */
  on<E extends IpcEvent>(event: E, listener: (payload: IpcEventContract[E]) => void): () => void;
  /** Tells the main process that the renderer finished unregistering before quit. */
  quitReady(): Promise<void>;
}
