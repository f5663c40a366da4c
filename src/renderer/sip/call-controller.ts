import { Invitation, Inviter, SessionState, UserAgent, type Core, type Session, type Web } from 'sip.js';

import type { SipProfile } from '../../shared/sip-profile';
import { createCallMachine, type CallDirection, type CallEndReason, type CallState } from './call-state';
import { parseDialTarget } from './dial-target';
import type { StateMachine } from './state-machine';

type IncomingResponse = Core.IncomingResponse;

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

export interface CallControllerOptions {
  profile: SipProfile;
  /** The current UserAgent; a getter because the engine may replace it (another proxy). */
  userAgent: () => UserAgent;
  /** Extra headers for INVITEs (RingCentral's endpoint and client ids). */
  extraHeaders: string[];
  audioOutput: RemoteAudioOutput;
  /** Tells whether the line is registered now; calls are placed only then. */
  isRegistered: () => { registered: boolean; status: string };
  now: () => number;
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

/** The calls of one line: placing, answering, declining and ending them. */
export class CallController {
  readonly #options: CallControllerOptions;
  readonly #calls = new Map<string, TrackedCall>();
  readonly #listeners = new Set<() => void>();
  readonly #endedListeners = new Set<(call: CallInfo) => void>();
  #nextCallNumber = 1;

  constructor(options: CallControllerOptions) {
    this.#options = options;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onCallEnded(listener: (call: CallInfo) => void): () => void {
    this.#endedListeners.add(listener);
    return () => this.#endedListeners.delete(listener);
  }

  calls(): CallInfo[] {
    return [...this.#calls.values()].map((call) => ({ ...call.info, state: call.machine.state }));
  }

  /** Places a call to what the user typed; returns the call id. */
  async call(input: string): Promise<string> {
    const registration = this.#options.isRegistered();
    if (!registration.registered) throw new NotRegisteredError(registration.status);
    if (!this.#options.profile.sipFlags.outboundCallsEnabled) throw new OutboundCallsDisabledError();

    const target = parseDialTarget(input, this.#options.profile.domain);
    const targetUri = UserAgent.makeURI(target.uri);
    if (!targetUri) throw new Error(`"${target.uri}" is not a valid SIP URI.`);

    const inviter = new Inviter(this.#options.userAgent(), targetUri, {
      extraHeaders: this.#options.extraHeaders,
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

  /** Takes an inbound INVITE: tracks it as ringing and sends 180 Ringing. */
  receive(invitation: Invitation): void {
    const identity = invitation.remoteIdentity;
    const remoteDisplay = identity.displayName || identity.uri.user || identity.uri.toString();
    const call = this.#track(invitation, 'inbound', remoteDisplay, identity.uri.toString(), {
      status: 'ringing',
    });

    invitation.progress().catch((error: unknown) => {
      call.rejection = { reason: 'failed', detail: errorText(error) };
    });
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

  async hangUpAll(): Promise<void> {
    for (const id of [...this.#calls.keys()]) await this.hangUp(id).catch(() => undefined);
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
      info: { id, direction, remoteDisplay, remoteUri, startedAt: this.#options.now() },
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
      call.machine.transition({ status: 'established', establishedAt: this.#options.now() });
      const handler = call.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
      if (handler) this.#options.audioOutput.attach(call.info.id, handler.remoteMediaStream);
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
      endedAt: this.#options.now(),
    });

    this.#options.audioOutput.detach(call.info.id);
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
