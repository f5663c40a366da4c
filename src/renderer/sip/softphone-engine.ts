import { UserAgent } from 'sip.js';

import type { SipProfile } from '../../shared/sip-profile';
import { CallController, type CallInfo, type RemoteAudioOutput } from './call-controller';
import { RegistrationController } from './registration-controller';
import type { RegistrationState } from './registration-state';
import type { StateMachine } from './state-machine';
import {
  addressOfRecord,
  buildUserAgentOptions,
  ringCentralHeaders,
  type SoftphoneIdentity,
} from './user-agent-options';

export type { CallInfo, RemoteAudioOutput } from './call-controller';
export { NotRegisteredError, OutboundCallsDisabledError } from './call-controller';

export interface SoftphoneEngineOptions {
  profile: SipProfile;
  identity: SoftphoneIdentity;
  audioOutput: RemoteAudioOutput;
  now?: () => number;
}

/**
 * The SIP side of the softphone: one sip.js UserAgent over WSS, the controller
 * that keeps it registered, and the calls. It owns no UI; listeners are told
 * when anything changes and read `registration.state` and `calls()`.
 */
export class SoftphoneEngine {
  readonly #profile: SipProfile;
  readonly #userAgent: UserAgent;
  readonly #registration: RegistrationController;
  readonly #calls: CallController;
  readonly #listeners = new Set<() => void>();

  constructor(options: SoftphoneEngineOptions) {
    const now = options.now ?? Date.now;
    const extraHeaders = ringCentralHeaders(options.identity);
    this.#profile = options.profile;

    this.#userAgent = new UserAgent({
      ...buildUserAgentOptions(options.profile, options.identity, options.profile.outboundProxy),
      delegate: {
        onInvite: (invitation) => this.#calls.receive(invitation),
        onDisconnect: (error) => this.#registration.onTransportLost(error),
      },
    });

    this.#registration = new RegistrationController({
      userAgent: this.#userAgent,
      server: options.profile.outboundProxy,
      extraHeaders,
      now,
    });

    this.#calls = new CallController({
      profile: options.profile,
      userAgent: () => this.#userAgent,
      extraHeaders,
      audioOutput: options.audioOutput,
      isRegistered: () => ({
        registered: this.#registration.isRegistered,
        status: this.#registration.machine.state.status,
      }),
      now,
    });

    this.#registration.machine.subscribe(() => this.#emit());
    this.#calls.subscribe(() => this.#emit());
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
    await this.#registration.stop();
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

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}
