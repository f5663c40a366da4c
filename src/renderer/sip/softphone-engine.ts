import { UserAgent, type LogConnector, type Notification } from 'sip.js';

import type { ProvisioningRequestReason } from '../../shared/ipc';
import type { SipProfile } from '../../shared/sip-profile';
import { CallController, type CallInfo, type CallMedia, type RemoteAudioOutput } from './call-controller';
import type { DialingContext } from './dial-target';
import { PreparedMicrophone } from './prepared-microphone';
import { RegistrationController } from './registration-controller';
import type { RegistrationState } from './registration-state';
import type { StateMachine } from './state-machine';
import {
  addressOfRecord,
  buildUserAgentOptions,
  ringCentralHeaders,
  type SoftphoneIdentity,
} from './user-agent-options';

export type { CallInfo, CallMedia, CallNotice, RemoteAudioOutput } from './call-controller';
export { NotRegisteredError, OutboundCallsDisabledError } from './call-controller';

export interface SoftphoneEngineOptions {
  profile: SipProfile;
  identity: SoftphoneIdentity;
  audioOutput: RemoteAudioOutput;
  now?: () => number;
  /** getUserMedia audio constraints for each new call; see `CallControllerOptions`. */
  audioConstraints?: () => MediaTrackConstraints;
  /** How numbers typed without a country code are read. */
  dialingContext?: () => DialingContext;
  /** Callback that requests a new SIP profile from the main process (check-sync NOTIFY, rejected credentials). */
  requestProvisioning?: (reason: ProvisioningRequestReason) => void;
  /** Random numbers in [0, 1) for backoff and switch-back jitter; Math.random unless set. */
  random?: () => number;
  /**
   * Receives every sip.js log line down to debug level, SIP messages included.
   * The caller decides which lines to keep. Without it, sip.js logs nowhere.
   */
  sipLog?: LogConnector;
  /** Storage for the server the SIP transport reached, read by the next start's early socket. */
  sipServerStorage?: Storage;
}

/**
 * The SIP side of the softphone: one sip.js UserAgent over WSS, the controller
 * that keeps it registered, and the calls. It owns no UI: subscribers are
 * notified of every change and read `registration.state` and `calls()`.
 */
export class SoftphoneEngine {
  readonly #profile: SipProfile;
  readonly #requestProvisioning: (reason: ProvisioningRequestReason) => void;
  readonly #registration: RegistrationController;
  readonly #calls: CallController;
  readonly #listeners = new Set<() => void>();
  readonly #microphone = new PreparedMicrophone();

  constructor(options: SoftphoneEngineOptions) {
    const now = options.now ?? Date.now;
    const extraHeaders = ringCentralHeaders(options.identity);
    this.#profile = options.profile;
    this.#requestProvisioning = options.requestProvisioning ?? (() => undefined);
    const profile = options.profile;

    // One UserAgent per proxy: the registration controller builds a new one
    // when the line moves between outboundProxy and outboundProxyBackup.
    this.#registration = new RegistrationController({
      createUserAgent: (server, onDisconnect) =>
        new UserAgent({
          ...buildUserAgentOptions(profile, options.identity, server, this.#microphone.mediaStreamFactory, options.sipServerStorage),
          ...(options.sipLog === undefined ? {} : { logLevel: 'debug' as const, logConnector: options.sipLog }),
          delegate: {
            onInvite: (invitation) => this.#calls.receive(invitation),
            onMessage: (message) => this.#calls.receiveMessage(message),
            onNotify: (notification) => this.#onNotify(notification),
            onDisconnect,
          },
        }),
      primaryServer: profile.outboundProxy,
      backupServer: profile.outboundProxyBackup,
      sipErrorCodes: profile.sipErrorCodes,
      switchBackIntervalS: profile.switchBackInterval,
      extraHeaders,
      hasActiveCalls: () => this.#calls.calls().some((call) => call.state.status !== 'ended'),
      onCredentialsRejected: () => this.#requestProvisioning('sip-auth-failure'),
      now,
      random: options.random,
    });

    this.#calls = new CallController({
      profile: options.profile,
      userAgent: () => this.#registration.userAgent,
      extraHeaders,
      audioOutput: options.audioOutput,
      audioConstraints: options.audioConstraints,
      preparedMicrophone: this.#microphone,
      dialingContext: options.dialingContext,
      isRegistered: () => ({
        registered: this.#registration.isRegistered,
        status: this.#registration.machine.state.status,
      }),
      now,
    });

    this.#registration.machine.subscribe((state, previous) => {
      // A renewed registration means a new WebSocket, usually after a network
      // change: the media path of each call may be gone too.
      if (state.status === 'registered' && previous.status !== 'registered') this.#calls.restartIce();
      this.#emit();
    });
    this.#calls.subscribe(() => {
      this.#registration.callsChanged();
      this.#emit();
    });
  }

  /** The SIP profile this engine registers with. */
  get profile(): SipProfile {
    return this.#profile;
  }

  get registration(): StateMachine<RegistrationState> {
    return this.#registration.machine;
  }

  get addressOfRecord(): string {
    return addressOfRecord(this.#profile);
  }

  /** Subscribes to any change of registration or calls; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes to calls that ended, with their final state. */
  onCallEnded(listener: (call: CallInfo) => void): () => void {
    return this.#calls.onCallEnded(listener);
  }

  /** Peer connections and local streams of the current calls, for changing the microphone mid-call. */
  callMedia(): CallMedia[] {
    return this.#calls.callMedia();
  }

  calls(): CallInfo[] {
    return this.#calls.calls();
  }

  /** Connects to the outbound proxy and registers; failures retry with backoff. */
  async start(): Promise<void> {
    await this.#registration.start();
  }

  /**
   * Hangs up every call, un-REGISTERs and closes the WebSocket. Called on
   * sign-out and before the app quits.
   */
  async stop(): Promise<void> {
    await this.#calls.hangUpAll();
    this.#calls.dispose();
    this.#microphone.release();
    await this.#registration.stop();
  }

  /** Opens a new WebSocket and registers again, after a resume from sleep or when the network is back. */
  reconnect(cause: 'resume' | 'network-online'): void {
    this.#registration.reconnect(cause);
  }

  /** Records that the operating system reports no network, so registration retries wait for `reconnect`. */
  networkOffline(): void {
    this.#registration.networkOffline();
  }

  /** Retries the registration now, for the user's "Try again". */
  retryRegistration(): void {
    this.#registration.retryNow();
  }

  /** Tells the registration that provisioning returned the profile this engine already uses. */
  profileConfirmed(): void {
    this.#registration.credentialsUnchanged();
  }

  /** Opens the microphone ahead of a call the user is about to place, so the INVITE leaves sooner. */
  prepareCall(): void {
    this.#calls.prepareCall();
  }

  call(input: string): Promise<string> {
    return this.#calls.call(input);
  }

  answer(callId: string): Promise<void> {
    return this.#calls.answer(callId);
  }

  decline(callId: string): Promise<void> {
    return this.#calls.decline(callId);
  }

  hangUp(callId: string): Promise<void> {
    return this.#calls.hangUp(callId);
  }

  /** Ends every call the way its state needs (CANCEL, a rejection or BYE) and ignores failures. */
  hangUpAll(): Promise<void> {
    return this.#calls.hangUpAll();
  }

  sendToVoicemail(callId: string): Promise<void> {
    return this.#calls.sendToVoicemail(callId);
  }

  setMuted(callId: string, muted: boolean): void {
    this.#calls.setMuted(callId, muted);
  }

  hold(callId: string): Promise<void> {
    return this.#calls.hold(callId);
  }

  /** Takes a call off hold, holding any other connected call first (swap). */
  resume(callId: string): Promise<void> {
    return this.#calls.resume(callId);
  }

  sendDtmf(callId: string, tones: string): void {
    this.#calls.sendDtmf(callId, tones);
  }

  /** Blind transfer to what the user typed. */
  transfer(callId: string, target: string): Promise<void> {
    return this.#calls.transfer(callId, target);
  }

  /**
   * Starts a warm transfer: holds the call and calls `target`. Returns the
   * consultation call's id, or null when the hold failed.
   */
  consult(callId: string, target: string): Promise<string | null> {
    return this.#calls.consult(callId, target);
  }

  completeTransfer(consultCallId: string): Promise<void> {
    return this.#calls.completeTransfer(consultCallId);
  }

  park(callId: string): Promise<void> {
    return this.#calls.park(callId);
  }

  flip(callId: string, target: string): Promise<void> {
    return this.#calls.flip(callId, target);
  }

  setRecording(callId: string, recording: boolean): Promise<void> {
    return this.#calls.setRecording(callId, recording);
  }

  /**
   * Responds to an out-of-dialog NOTIFY. RingCentral sends `Event: check-sync`
   * to request a new provisioning. Other events have no subscription here, so
   * they get 489 Bad Event (RFC 6665).
   */
  #onNotify(notification: Notification): void {
    const event = notification.request.getHeader('Event') ?? '';
    const eventType = event.split(';')[0]!.trim().toLowerCase();

    if (eventType === 'check-sync') {
      console.info('[engine] NOTIFY check-sync: requesting a new SIP profile');
      void notification.accept().catch(() => undefined);
      this.#requestProvisioning('check-sync');
      return;
    }

    void notification.reject({ statusCode: 489 }).catch(() => undefined);
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}
