import {
  Invitation,
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type IncomingResponse,
  type Session,
  type Web,
} from 'sip.js';

import type { UserFacingError } from '../../shared/errors';
import type { SipProfile } from '../../shared/sip-profile';
import { Backoff } from './backoff';
import { createCallMachine, type CallDirection, type CallEndReason, type CallState } from './call-state';
import { parseDialTarget } from './dial-target';
import { createRegistrationMachine, type RegistrationState } from './registration-state';
import type { StateMachine } from './state-machine';
import {
  addressOfRecord,
  buildUserAgentOptions,
  ringCentralHeaders,
  type SoftphoneIdentity,
} from './user-agent-options';

/** REGISTER expiry requested from the registrar, in seconds. */
const REGISTER_EXPIRES_S = 600;
/** Time allowed for the un-REGISTER on stop before the transport closes anyway. */
const UNREGISTER_TIMEOUT_MS = 2000;
const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 60_000;

const AUDIO_ONLY = { constraints: { audio: true, video: false } };

/** What the UI shows of one call. */
export interface CallInfo {
  id: string;
  direction: CallDirection;
  /** Name or number of the other party as it should be displayed. */
  remoteDisplay: string;
  remoteUri: string;
  startedAt: number;
  state: CallState;
}

/** Plays a call's remote audio; the default uses an `<audio>` element per call. */
export interface RemoteAudioOutput {
  attach(callId: string, stream: MediaStream): void;
  detach(callId: string): void;
}

export interface SoftphoneEngineOptions {
  profile: SipProfile;
  identity: SoftphoneIdentity;
  audioOutput: RemoteAudioOutput;
  now?: () => number;
}

interface TrackedCall {
  session: Session;
  machine: StateMachine<CallState>;
  info: Omit<CallInfo, 'state'>;
  /** Set when this side ends the call, so the end reason is known. */
  localEndReason: CallEndReason | null;
  rejection: { reason: CallEndReason; detail: string } | null;
}

export class NotRegisteredError extends Error {
  constructor(status: string) {
    super(`Cannot place a call while the phone line is ${status}. Wait until it shows Registered.`);
    this.name = 'NotRegisteredError';
  }
}

export class OutboundCallsDisabledError extends Error {
  constructor() {
    super(
      'This line can receive calls but not place them: the account has no digital line for outbound calls. Ask your RingCentral administrator to assign one.',
    );
    this.name = 'OutboundCallsDisabledError';
  }
}

/**
 * The SIP side of the softphone: one sip.js UserAgent over WSS, its Registerer,
 * and the calls. It owns no UI; listeners are told when anything changes and
 * read `registration.state` and `calls()`.
 */
export class SoftphoneEngine {
  readonly registration: StateMachine<RegistrationState> = createRegistrationMachine();

  readonly #profile: SipProfile;
  readonly #identity: SoftphoneIdentity;
  readonly #audioOutput: RemoteAudioOutput;
  readonly #now: () => number;
  readonly #calls = new Map<string, TrackedCall>();
  readonly #listeners = new Set<() => void>();
  readonly #endedListeners = new Set<(call: CallInfo) => void>();
  readonly #backoff = new Backoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS);
  readonly #userAgent: UserAgent;
  readonly #registerer: Registerer;
  #server: string;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #stopping = false;
  #nextCallNumber = 1;

  constructor(options: SoftphoneEngineOptions) {
    this.#profile = options.profile;
    this.#identity = options.identity;
    this.#audioOutput = options.audioOutput;
    this.#now = options.now ?? Date.now;
    this.#server = options.profile.outboundProxy;

    this.#userAgent = new UserAgent({
      ...buildUserAgentOptions(this.#profile, this.#identity, this.#server),
      delegate: {
        onInvite: (invitation) => this.#onInvite(invitation),
        onDisconnect: (error) => this.#onTransportLost(error),
      },
    });

    this.#registerer = new Registerer(this.#userAgent, {
      expires: REGISTER_EXPIRES_S,
      regId: 1,
      extraHeaders: ringCentralHeaders(this.#identity),
    });
    this.#registerer.stateChange.addListener((state) => this.#onRegistererState(state));

    this.registration.subscribe(() => this.#emit());
  }

  /** Subscribes to any change of registration or calls; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes to calls that ended, with their final state. */
  onCallEnded(listener: (call: CallInfo) => void): () => void {
    this.#endedListeners.add(listener);
    return () => this.#endedListeners.delete(listener);
  }

  calls(): CallInfo[] {
    return [...this.#calls.values()].map((call) => ({ ...call.info, state: call.machine.state }));
  }

  get addressOfRecord(): string {
    return addressOfRecord(this.#profile);
  }

  /** Connects to the outbound proxy and registers; failures retry with backoff. */
  async start(): Promise<void> {
    this.#stopping = false;
    await this.#connectAndRegister();
  }

  /**
   * Hangs up every call, un-REGISTERs (waiting at most a short time for the
   * answer) and closes the WebSocket. Called on sign-out and before the app quits.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearRetry();

    for (const id of this.#calls.keys()) await this.hangUp(id).catch(() => undefined);

    if (this.#registerer.state === RegistererState.Registered) {
      this.registration.transition({ status: 'unregistering' });
      await this.#unregister();
    }

    await this.#userAgent.stop();
    if (this.registration.state.status !== 'unregistered') {
      this.registration.transition({ status: 'unregistered' });
    }
  }

  /** Places a call to what the user typed; returns the call id. */
  async call(input: string): Promise<string> {
    const registration = this.registration.state;
    if (registration.status !== 'registered') throw new NotRegisteredError(registration.status);
    if (!this.#profile.sipFlags.outboundCallsEnabled) throw new OutboundCallsDisabledError();

    const target = parseDialTarget(input, this.#profile.domain);
    const targetUri = UserAgent.makeURI(target.uri);
    if (!targetUri) throw new Error(`"${target.uri}" is not a valid SIP URI.`);

    const inviter = new Inviter(this.#userAgent, targetUri, {
      extraHeaders: ringCentralHeaders(this.#identity),
      sessionDescriptionHandlerOptions: AUDIO_ONLY,
    });
    const call = this.#track(inviter, 'outbound', target.display, target.uri, { status: 'dialing' });

    inviter
      .invite({
        requestDelegate: {
          onProgress: (response) => this.#onOutboundProgress(call, response),
          onReject: (response) => {
            call.rejection = rejectionOf(response);
          },
        },
      })
      .catch((error: unknown) => {
        call.rejection = { reason: 'failed', detail: errorText(error) };
        this.#endCall(call);
      });

    return call.info.id;
  }

  async answer(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (!(call.session instanceof Invitation) || call.machine.state.status !== 'ringing') return;

    call.machine.transition({ status: 'answering' });
    await call.session.accept({ sessionDescriptionHandlerOptions: AUDIO_ONLY });
  }

  /** Rejects a ringing inbound call with 603 Decline (RFC 3261 §21.6.2). */
  async decline(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (!(call.session instanceof Invitation) || call.machine.state.status !== 'ringing') return;

    call.localEndReason = 'declined';
    await call.session.reject({ statusCode: 603 });
  }

  /** Ends a call in whatever way its state needs: CANCEL, a rejection or BYE. */
  async hangUp(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    const session = call.session;

    switch (session.state) {
      case SessionState.Initial:
      case SessionState.Establishing:
        if (session instanceof Inviter) {
          call.localEndReason = 'cancelled';
          await session.cancel();
        } else if (session instanceof Invitation) {
          call.localEndReason = 'declined';
          await session.reject({ statusCode: 603 });
        }
        return;
      case SessionState.Established:
        call.localEndReason = 'hung-up-locally';
        await session.bye();
        return;
      default:
        return;
    }
  }

  async #connectAndRegister(): Promise<void> {
    this.#clearRetry();
    if (this.#stopping) return;

    this.registration.transition({ status: 'connecting', server: this.#server });
    try {
      if (this.#userAgent.isConnected()) {
        // Already connected, for example after a rejected REGISTER.
      } else if (this.#userAgent.state === 'Started') {
        await this.#userAgent.reconnect();
      } else {
        await this.#userAgent.start();
      }
    } catch (error) {
      this.#fail({
        code: 'SIP-TRANSPORT',
        message: `Could not connect to the SIP server wss://${this.#server}: ${errorText(error)}`,
        action: 'Check the network connection. The softphone keeps trying.',
      });
      return;
    }

    if (this.#stopping) return;
    this.registration.transition({ status: 'registering', server: this.#server });
    await this.#registerer
      .register({
        requestDelegate: {
          onReject: (response) => this.#onRegisterRejected(response),
        },
      })
      .catch((error: unknown) => {
        this.#fail({
          code: 'SIP-REGISTER',
          message: `Sending REGISTER failed: ${errorText(error)}`,
          action: 'The softphone keeps trying.',
        });
      });
  }

  #onRegistererState(state: RegistererState): void {
    if (this.#stopping) return;

    if (state === RegistererState.Registered) {
      this.#backoff.reset();
      const current = this.registration.state;
      const since = current.status === 'registered' ? current.since : this.#now();
      this.registration.transition({ status: 'registered', server: this.#server, since });
      return;
    }

    if (state === RegistererState.Unregistered && this.registration.state.status === 'registered') {
      this.#fail({
        code: 'SIP-REGISTRATION-LOST',
        message: 'The SIP registration expired or was removed by the server.',
        action: 'The softphone registers again automatically.',
      });
    }
  }

  #onRegisterRejected(response: IncomingResponse): void {
    const { statusCode, reasonPhrase } = response.message;

    // 401/407 reaching this point means the digest credentials were rejected
    // after the challenge: retrying with the same password would only lock the
    // device out, so the user is told to provision again.
    const isAuthFailure = statusCode === 401 || statusCode === 403 || statusCode === 407;
    this.#fail(
      {
        code: `SIP-${statusCode}`,
        message: `The SIP server rejected the registration: ${statusCode} ${reasonPhrase}.`,
        action: isAuthFailure
          ? 'The SIP credentials were not accepted. Sign out and sign in again to get new ones.'
          : 'The softphone tries again shortly.',
      },
      !isAuthFailure,
    );
  }

  #onTransportLost(error: Error | undefined): void {
    if (this.#stopping) return;

    this.#fail({
      code: 'SIP-TRANSPORT',
      message: `Lost the connection to the SIP server wss://${this.#server}${error ? `: ${error.message}` : ''}.`,
      action: 'Check the network connection. The softphone reconnects automatically.',
    });
  }

  #fail(error: UserFacingError, retry = true): void {
    if (this.#stopping) return;

    const delay = retry ? this.#backoff.nextDelayMs() : null;
    this.registration.transition({
      status: 'failed',
      error,
      retryAt: delay === null ? null : this.#now() + delay,
    });

    this.#clearRetry();
    if (delay !== null) {
      this.#retryTimer = setTimeout(() => void this.#connectAndRegister(), delay);
    }
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  async #unregister(): Promise<void> {
    const unregistered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, UNREGISTER_TIMEOUT_MS);
      this.#registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Unregistered || state === RegistererState.Terminated) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

    await this.#registerer.unregister().catch(() => undefined);
    await unregistered;
  }

  #onInvite(invitation: Invitation): void {
    const identity = invitation.remoteIdentity;
    const remoteDisplay = identity.displayName || identity.uri.user || identity.uri.toString();
    const call = this.#track(invitation, 'inbound', remoteDisplay, identity.uri.toString(), {
      status: 'ringing',
    });

    invitation.progress().catch((error: unknown) => {
      call.rejection = { reason: 'failed', detail: errorText(error) };
    });
  }

  #onOutboundProgress(call: TrackedCall, response: IncomingResponse): void {
    const status = response.message.statusCode;
    if ((status === 180 || status === 183) && call.machine.state.status === 'dialing') {
      call.machine.transition({ status: 'ringing' });
    }
  }

  #track(
    session: Session,
    direction: CallDirection,
    remoteDisplay: string,
    remoteUri: string,
    initial: CallState,
  ): TrackedCall {
    const id = `call-${this.#nextCallNumber++}`;
    const call: TrackedCall = {
      session,
      machine: createCallMachine(initial),
      info: { id, direction, remoteDisplay, remoteUri, startedAt: this.#now() },
      localEndReason: null,
      rejection: null,
    };

    this.#calls.set(id, call);
    call.machine.subscribe(() => this.#emit());
    session.stateChange.addListener((state) => this.#onSessionState(call, state));
    this.#emit();
    return call;
  }

  #onSessionState(call: TrackedCall, state: SessionState): void {
    if (state === SessionState.Established) {
      call.machine.transition({ status: 'established', establishedAt: this.#now() });
      const handler = call.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
      if (handler) this.#audioOutput.attach(call.info.id, handler.remoteMediaStream);
      return;
    }

    if (state === SessionState.Terminated) this.#endCall(call);
  }

  #endCall(call: TrackedCall): void {
    if (call.machine.state.status === 'ended') return;

    const wasEstablished = call.machine.state.status === 'established';
    const reason =
      call.localEndReason ??
      call.rejection?.reason ??
      (wasEstablished ? 'hung-up-remotely' : call.info.direction === 'inbound' ? 'missed' : 'failed');

    call.machine.transition({
      status: 'ended',
      reason,
      detail: call.rejection?.detail ?? null,
      endedAt: this.#now(),
    });

    this.#audioOutput.detach(call.info.id);
    this.#calls.delete(call.info.id);

    const final: CallInfo = { ...call.info, state: call.machine.state };
    for (const listener of this.#endedListeners) listener(final);
    this.#emit();
  }

  #requireCall(callId: string): TrackedCall {
    const call = this.#calls.get(callId);
    if (!call) throw new Error(`No call with id ${callId}; it may have ended already.`);
    return call;
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

function rejectionOf(response: IncomingResponse): { reason: CallEndReason; detail: string } {
  const { statusCode, reasonPhrase } = response.message;
  const detail = `${statusCode} ${reasonPhrase}`;

  if (statusCode === 486 || statusCode === 600) return { reason: 'busy', detail };
  if (statusCode === 603) return { reason: 'declined', detail };
  return { reason: 'rejected', detail };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
