import {
  Invitation,
  Inviter,
  SessionState,
  UserAgent,
  type Core,
  type Message,
  type Referral,
  type Session,
  type SessionDelegate,
  type Web,
} from 'sip.js';

import type { SipProfile } from '../../shared/sip-profile';
import { describeCaller, parseAssertedIdentity, sipIdentityOf, type RemoteParty } from './caller-identity';
import { createCallMachine, isConnected, type CallDirection, type CallEndReason, type CallState } from './call-state';
import {
  formatDialString,
  InvalidDialTargetError,
  parseDialTarget,
  type DialingContext,
  type DialTarget,
} from './dial-target';
import { DTMF_DURATION_MS, DTMF_INTER_TONE_GAP_MS, normalizeDtmf } from './dtmf';
import { endsDialog, rejectCrossingReinvites, sendReinvite, type ReinviteOutcome } from './glare';
import { watchMediaPath } from './media-path-watch';
import {
  commandOf,
  describeInfoResult,
  isForClient,
  parseRcMessage,
  rcCaller,
  RC_MESSAGE_CONTENT_TYPE,
  RcCommand,
  type RcInfoCommand,
  type RcInfoResult,
  type RcMessage,
} from './rc-call-control';
import type { PreparedMicrophone } from './prepared-microphone';
import { RcCommands, readRcHeader } from './rc-commands';
import {
  audioDirectionOf,
  callInfoOf,
  isHeldLocally,
  isNegotiatedHold,
  sessionDescriptionHandlerOf,
  type CallInfo,
  type TrackedCall,
} from './tracked-call';
import { referAndWait, ReferProgressNotifier, type TransferOutcome } from './transfer';

export type { CallInfo, CallNotice } from './tracked-call';

/** Pause between the call connecting and an extension's tones, as the "," pause of a dial string (WebRTC 1.0 §7.2). */
const EXTENSION_DTMF_PAUSE_MS = 2000;
/** Maximum wait after that pause for the media path, before the extension counts as not dialed. */
const EXTENSION_MEDIA_WAIT_MS = 10_000;
const EXTENSION_MEDIA_POLL_MS = 250;

type IncomingResponse = Core.IncomingResponse;

/** Audio constraints when the controller is given none: any microphone, the browser's default processing. */
const ANY_MICROPHONE: MediaTrackConstraints | boolean = true;

/**
 * How long a ringing call waits for the server's CANCEL after this client sent
 * RingCentral's reject or voicemail command, or heard that another instance
 * answered. Without a CANCEL by then the client rejects the INVITE itself.
 */
const RC_CANCEL_WAIT_MS = 5_000;
/** Time this end waits for the other end's BYE after a transfer or park completed, before sending its own. */
const BYE_AFTER_TRANSFER_WAIT_MS = 5_000;

/** Plays a call's remote audio; the default uses an `<audio>` element per call. */
export interface RemoteAudioOutput {
  attach(callId: string, stream: MediaStream): void;
  detach(callId: string): void;
}

export interface CallControllerOptions {
  profile: SipProfile;
  /** The current UserAgent; a getter because the engine may replace it (another proxy). */
  userAgent: () => UserAgent;
  /** Extra headers for INVITE, REFER and INFO (RingCentral's endpoint and client ids). */
  extraHeaders: string[];
  audioOutput: RemoteAudioOutput;
  /** Tells whether the line is registered now; calls are placed only then. */
  isRegistered: () => { registered: boolean; status: string };
  now: () => number;
  /**
   * getUserMedia audio constraints for each new call (the chosen microphone,
   * echo cancellation, noise suppression, auto gain); any microphone when absent.
   */
  audioConstraints?: () => MediaTrackConstraints;
  /** How numbers typed without a country code are read; only full E.164 numbers when absent. */
  dialingContext?: () => DialingContext;
  /** Opens the microphone ahead of a call; the UserAgent's media stream factory hands it to the call. */
  preparedMicrophone?: PreparedMicrophone;
  /** Waits before a re-INVITE retry; setTimeout unless set. */
  sleep?: (milliseconds: number) => Promise<void>;
  /** Random numbers in [0, 1) for the glare retry delay; Math.random unless set. */
  random?: () => number;
}

/** A connected call's peer connection and the local stream sip.js sends and stops at hang-up. */
export interface CallMedia {
  callId: string;
  peerConnection: RTCPeerConnection;
  localStream: MediaStream;
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

/** An in-call action asked of a call in a state that does not allow it. */
export class CallStateError extends Error {
  constructor(action: string, state: CallState) {
    super(`Cannot ${action} a call that is ${state.status}.`);
    this.name = 'CallStateError';
  }
}

/**
 * The calls of one line: placing, answering, declining and ending them, and
 * everything in between: mute, hold, DTMF, transfers, call waiting and
 * RingCentral's call-control commands.
 */
export class CallController {
  readonly #options: CallControllerOptions;
  readonly #calls = new Map<string, TrackedCall>();
  readonly #listeners = new Set<() => void>();
  readonly #endedListeners = new Set<(call: CallInfo) => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #sleep: (milliseconds: number) => Promise<void>;
  readonly #rcCommands: RcCommands;
  #nextCallNumber = 1;

  constructor(options: CallControllerOptions) {
    this.#options = options;
    this.#rcCommands = new RcCommands(options.profile, options.userAgent, options.extraHeaders);
    this.#sleep = options.sleep ?? ((milliseconds) => new Promise((resolve) => this.#setTimer(resolve, milliseconds)));
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
    return [...this.#calls.values()].map(callInfoOf);
  }

  /** The media of every call that has a peer connection, for changing the microphone mid-call. */
  callMedia(): CallMedia[] {
    const media: CallMedia[] = [];
    for (const [callId, call] of this.#calls) {
      const handler = sessionDescriptionHandlerOf(call);
      const peerConnection = handler?.peerConnection;
      if (handler && peerConnection) media.push({ callId, peerConnection, localStream: handler.localMediaStream });
    }
    return media;
  }

  /** Stops the timers this controller started; calls end with the UserAgent. */
  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const call of this.#calls.values()) call.mediaPath?.dispose();
  }

  // ---------------------------------------------------------------------------
  // Placing, receiving and ending calls
  // ---------------------------------------------------------------------------

  /** Opens the microphone for a call the user is about to place or answer. */
  prepareCall(): void {
    this.#options.preparedMicrophone?.prepare(this.#mediaOptions(false).constraints as MediaStreamConstraints);
  }

  /**
   * Places a call to what the user typed and returns the call id. Other
   * connected calls are put on hold first, so only one call has live audio.
   */
  async call(input: string, options: { consultFor?: string } = {}): Promise<string> {
    const registration = this.#options.isRegistered();
    if (!registration.registered) throw new NotRegisteredError(registration.status);
    if (!this.#options.profile.sipFlags.outboundCallsEnabled) throw new OutboundCallsDisabledError();

    const target = this.#parseTarget(input);
    const targetUri = UserAgent.makeURI(target.uri);
    if (!targetUri) throw new InvalidDialTargetError(input, 'invalid-sip-uri');

    await this.#holdOtherCalls(null, 'place a new call');

    const inviter = new Inviter(this.#options.userAgent(), targetUri, {
      extraHeaders: this.#options.extraHeaders,
      sessionDescriptionHandlerOptions: this.#mediaOptions(false),
    });
    const party: RemoteParty = { name: null, number: target.display, display: target.display };
    const call = this.#track(inviter, 'outbound', party, target.uri, { status: 'dialing' });
    call.info.consultFor = options.consultFor ?? null;
    call.info.dialedExtension = target.extension;
    call.pendingExtension = target.extension;

    this.#invite(call, inviter);
    return call.info.id;
  }

  /**
   * Takes an inbound INVITE. A call that replaces one of this line's calls
   * (RFC 3891, the last step of a warm transfer) is answered at once; any other
   * rings: 180 Ringing, then RingCentral's receive confirmation when the
   * INVITE carries `P-rc`.
   */
  receive(invitation: Invitation): void {
    const rcInvite = readRcHeader(invitation.request);
    const party = describeCaller(
      rcInvite ? rcCaller(rcInvite) : null,
      parseAssertedIdentity(invitation.request.getHeader('P-Asserted-Identity')),
      sipIdentityOf(invitation.remoteIdentity),
      (number) => this.#formatNumber(number),
    );

    const replaced = invitation.replacee ? this.#findBySession(invitation.replacee) : null;
    if (replaced && isConnected(replaced.machine.state)) {
      this.#takeOverReplacedCall(invitation, party, replaced);
      return;
    }

    const call = this.#track(invitation, 'inbound', party, invitation.remoteIdentity.uri.toString(), {
      status: 'ringing',
    });
    call.rcInvite = rcInvite;
    call.info.rcCallControl = rcInvite !== null;
    this.#emit();
    this.prepareCall();

    invitation
      .progress()
      .then(() => {
        if (rcInvite) return this.#sendRcCommand(call, RcCommand.ReceiveConfirm);
      })
      .catch((error: unknown) => {
        console.warn(`[calls] ${call.info.id}: 180 or receive confirmation failed: ${errorText(error)}`);
      });
  }

  /**
   * Answers a ringing inbound call. A connected call is put on hold first (call
   * waiting); when that hold fails the new call keeps ringing and the error says why.
   */
  async answer(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (!(call.session instanceof Invitation) || call.machine.state.status !== 'ringing') return;

    await this.#holdOtherCalls(callId, `answer the call from ${call.info.remoteDisplay}`);
    if (statusOf(call) !== 'ringing') return;

    call.machine.transition({ status: 'answering' });
    await call.session.accept({ sessionDescriptionHandlerOptions: this.#mediaOptions(false) });
  }

  /**
   * Declines a ringing inbound call. With RingCentral call control, command 12
   * goes to the server, which cancels the INVITE for every instance of the
   * line. Without it the INVITE is rejected with 603 Decline (RFC 3261 §21.6.2).
   */
  async decline(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (!(call.session instanceof Invitation) || call.machine.state.status !== 'ringing') return;

    call.localEndReason = 'declined';
    if (call.rcInvite) {
      this.#endRingingViaServer(call, RcCommand.Reject, 603);
      return;
    }
    await call.session.reject({ statusCode: 603 });
  }

  /**
   * Sends a ringing inbound call to voicemail with RingCentral's command 11.
   * Only calls with RingCentral call control (`rcCallControl`) can be sent.
   */
  async sendToVoicemail(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (!(call.session instanceof Invitation) || call.machine.state.status !== 'ringing') return;
    if (!call.rcInvite) {
      throw new Error('This call cannot be sent to voicemail: it did not come through RingCentral call control.');
    }

    call.localEndReason = 'sent-to-voicemail';
    this.#endRingingViaServer(call, RcCommand.ToVoicemail, 486);
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
        call.localEndReason ??= 'hung-up-locally';
        await session.bye();
        return;
      default:
        return;
    }
  }

  async hangUpAll(): Promise<void> {
    for (const id of [...this.#calls.keys()]) await this.hangUp(id).catch(() => undefined);
  }

  /**
   * Handles an out-of-dialog MESSAGE. RingCentral's call-control messages
   * (`x-rc/agent`) for this instance act on the ringing call with the same SID;
   * everything else is acknowledged and ignored.
   */
  receiveMessage(message: Message): void {
    const request = message.request;
    void message.accept().catch(() => undefined);

    const contentType = (request.getHeader('Content-Type') ?? '').toLowerCase();
    if (!contentType.startsWith(RC_MESSAGE_CONTENT_TYPE)) return;

    let rcMessage: RcMessage;
    try {
      rcMessage = parseRcMessage(request.body);
    } catch (error) {
      console.warn(`[calls] ignoring a call-control MESSAGE: ${errorText(error)}`);
      return;
    }

    if (!isForClient(rcMessage, this.#options.profile.authorizationId)) {
      console.info(`[calls] ignoring command ${rcMessage.header.Cmd} for client ${rcMessage.body.Cln}`);
      return;
    }

    const call = [...this.#calls.values()].find((candidate) => candidate.rcInvite?.header.SID === rcMessage.header.SID);
    if (!call) return;

    if (commandOf(rcMessage) === RcCommand.AlreadyProcessed && call.machine.state.status === 'ringing') {
      // RingCentral also sends command 7 to the instance that answered; only a
      // call still ringing here was answered elsewhere.
      call.localEndReason = 'answered-elsewhere';
      this.#endCall(call);
      this.#rejectUnlessCancelled(call, 480);
    }
  }

  // ---------------------------------------------------------------------------
  // In-call controls
  // ---------------------------------------------------------------------------

  /** Mutes or unmutes the microphone of a call; the media keeps flowing as silence. */
  setMuted(callId: string, muted: boolean): void {
    const call = this.#requireCall(callId);
    call.muted = muted;
    this.#applyLocalAudio(call);
    this.#emit();
  }

  // The in-call commands below report a failed outcome (a rejected re-INVITE,
  // REFER or INFO) in the call's notice, the call screen's place for command
  // results. They throw only when the call's state or the input rules the
  // command out.

  /**
   * Puts a call on hold with a re-INVITE offering a=sendonly (RFC 3264 §8.4).
   * The microphone stops at once. A failed hold leaves the call connected.
   */
  async hold(callId: string): Promise<void> {
    await this.#hold(this.#requireCall(callId));
  }

  /**
   * Takes a call off hold (re-INVITE with a=sendrecv). Any other connected call
   * is put on hold first, so resuming one of two calls swaps between them.
   */
  async resume(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (call.machine.state.status !== 'held') throw new CallStateError('resume', call.machine.state);

    await this.#holdOtherCalls(callId, `resume the call with ${call.info.remoteDisplay}`);
    if (statusOf(call) !== 'held') return;

    const { establishedAt } = call.machine.state;
    call.machine.transition({ status: 'resuming', establishedAt });

    const outcome = await this.#enqueue(call, () => this.#reinvite(call, { hold: false }));
    if (statusOf(call) !== 'resuming') return;

    if (outcome.ok) {
      call.machine.transition({ status: 'established', establishedAt });
      call.notice = null;
    } else {
      call.machine.transition({ status: 'held', establishedAt });
      call.notice = { ok: false, text: `Resume failed: ${outcome.reason}.` };
    }
    this.#applyLocalAudio(call);
    this.#emit();
  }

  /** Sends DTMF as RFC 4733 telephone-events in the call's audio. */
  sendDtmf(callId: string, tones: string): void {
    const call = this.#requireCall(callId);
    if (call.machine.state.status !== 'established') throw new CallStateError('send tones on', call.machine.state);

    const normalized = normalizeDtmf(tones);
    const sender = dtmfSenderOf(call);

    if (!sender?.dtmf?.canInsertDTMF) {
      throw new Error('Tones cannot be sent on this call: the other side did not accept tones (RFC 4733 telephone-events).');
    }
    sender.dtmf.insertDTMF(sender.dtmf.toneBuffer + normalized, DTMF_DURATION_MS, DTMF_INTER_TONE_GAP_MS);
  }

  /**
   * Sends the dialed number's extension as DTMF after a pause, because an
   * auto-attendant picks up the call first and then waits for the digits. The
   * browser can send tones only once the media path is up, which may come
   * after the SIP dialog is established. A call put on hold meanwhile gets its
   * extension once it is resumed. When the tones cannot be sent, the call's
   * notice shows why and points the user to the keypad.
   */
  async #dialExtension(call: TrackedCall): Promise<void> {
    const extension = call.pendingExtension;
    if (extension === null) return;
    call.pendingExtension = null;
    call.notice = { ok: true, text: `Dialing extension ${extension} in a moment.` };
    this.#emit();

    await this.#sleep(EXTENSION_DTMF_PAUSE_MS);
    let waitedForMedia = 0;
    while (!(statusOf(call) === 'established' && this.#canSendDtmf(call))) {
      if (!isConnected(call.machine.state)) return;
      // Time on hold does not count: the tones wait for the resume.
      if (statusOf(call) === 'established') waitedForMedia += EXTENSION_MEDIA_POLL_MS;
      if (waitedForMedia > EXTENSION_MEDIA_WAIT_MS) break;
      await this.#sleep(EXTENSION_MEDIA_POLL_MS);
    }

    try {
      this.sendDtmf(call.info.id, extension);
      call.notice = { ok: true, text: `Dialed extension ${extension}.` };
    } catch (error) {
      const cause = this.#canSendDtmf(call) ? errorText(error) : 'the call has no audio path for tones yet.';
      const text = `Extension ${extension} was not dialed: ${cause} Dial it on the keypad once you hear the other side.`;
      call.notice = { ok: false, text };
    }
    this.#emit();
  }

  #canSendDtmf(call: TrackedCall): boolean {
    return dtmfSenderOf(call)?.dtmf?.canInsertDTMF === true;
  }

  /**
   * Blind transfer: a REFER (RFC 3515) asks the other party to call `input`.
   * The call ends when the other party reports that the new call was answered;
   * on failure it stays (held if it was) and its notice says why.
   */
  async transfer(callId: string, input: string): Promise<void> {
    const call = this.#requireCall(callId);
    const target = this.#parseTarget(input);
    if (target.extension !== null) {
      // A REFER names only where to call; nothing would dial the extension there.
      throw new Error(
        `A transfer cannot dial extension ${target.extension}: transfer to ${target.display} without it, or use a consult transfer and dial the extension first.`,
      );
    }
    const targetUri = UserAgent.makeURI(target.uri);
    if (!targetUri) throw new InvalidDialTargetError(input, 'invalid-sip-uri');

    await this.#runTransfer(call, target.display, () =>
      referAndWait(call.session, targetUri, this.#options.extraHeaders),
    );
  }

  /**
   * Starts a warm transfer: holds the call and places a consultation call to
   * `input`; `completeTransfer` with the consultation call's id finishes it.
   * Returns the consultation call's id, or null when the hold failed.
   */
  async consult(callId: string, input: string): Promise<string | null> {
    const call = this.#requireCall(callId);
    if (!isConnected(call.machine.state)) throw new CallStateError('transfer', call.machine.state);

    this.#parseTarget(input);
    const held = await this.#hold(call);
    if (!held.ok) return null;
    return this.call(input, { consultFor: callId });
  }

  /**
   * Finishes a warm transfer: a REFER on the held call with Refer-To naming the
   * consultation call's dialog in a Replaces parameter (RFC 3891), so the held
   * party's new call takes the consultation call's place at the target.
   */
  async completeTransfer(consultCallId: string): Promise<void> {
    const consultation = this.#requireCall(consultCallId);
    const originalId = consultation.info.consultFor;
    const original = originalId ? this.#calls.get(originalId) : undefined;
    if (!original) throw new Error('The call to transfer has ended; there is nothing to complete.');
    if (!isConnected(consultation.machine.state) || consultation.session.state !== SessionState.Established) {
      throw new Error(`Wait until ${consultation.info.remoteDisplay} answers before completing the transfer.`);
    }

    const completed = await this.#runTransfer(original, consultation.info.remoteDisplay, () =>
      referAndWait(original.session, consultation.session, this.#options.extraHeaders),
    );

    if (completed) {
      consultation.localEndReason = 'transferred';
      this.#byeUnlessEndedBy(consultation, BYE_AFTER_TRANSFER_WAIT_MS);
    } else {
      consultation.notice = original.notice;
      this.#emit();
    }
  }

  /**
   * Parks the call with RingCentral's `callpark` command. Once it is parked the
   * server ends this leg; without that BYE the call ends from here.
   */
  async park(callId: string): Promise<void> {
    const call = this.#requireCall(callId);
    const result = await this.#runInfoCommand(call, 'callpark');

    if (result?.code === 0) {
      call.localEndReason = 'parked';
      call.endDetail = describeInfoResult(result);
      // NOTE: RingCentral's web phone SDK 2.x ends its session without a BYE
      // after a park, so the server is taken to end the leg itself; that is
      // not confirmed against the live service.
      this.#byeUnlessEndedBy(call, BYE_AFTER_TRANSFER_WAIT_MS);
    }
  }

  /**
   * Moves the call to one of the user's flip numbers (`target`, as numbered in
   * the RingCentral settings). RingCentral ends this leg once the flip number answers.
   */
  async flip(callId: string, target: string): Promise<void> {
    const call = this.#requireCall(callId);
    if (!/^\d{1,2}$/.test(target.trim())) {
      throw new Error(`"${target}" is not a flip number: use the number of a flip target such as 1.`);
    }

    const result = await this.#runInfoCommand(call, 'callflip', { target: target.trim() });
    if (result?.code === 0) {
      call.localEndReason = 'flipped';
      call.endDetail = describeInfoResult(result);
    }
  }

  /** Starts or stops RingCentral's recording of the call. */
  async setRecording(callId: string, recording: boolean): Promise<void> {
    const call = this.#requireCall(callId);
    const result = await this.#runInfoCommand(call, recording ? 'startcallrecord' : 'stopcallrecord');
    if (result?.code === 0) {
      call.recording = recording;
      this.#emit();
    }
  }

  /**
   * Renegotiates ICE on every connected call (a re-INVITE with a new ICE ufrag
   * and password, RFC 8445 §9), after a network change moved the media path.
   */
  restartIce(): void {
    for (const call of this.#calls.values()) this.#restartIce(call);
  }

  // ---------------------------------------------------------------------------
  // Tracking and session events
  // ---------------------------------------------------------------------------

  #track(
    session: Session,
    direction: CallDirection,
    party: RemoteParty,
    remoteUri: string,
    initial: CallState,
  ): TrackedCall {
    const id = `call-${this.#nextCallNumber++}`;
    rejectCrossingReinvites(session);
    const call: TrackedCall = {
      session,
      machine: createCallMachine(initial),
      info: {
        id,
        direction,
        remoteDisplay: party.display,
        remoteName: party.name,
        remoteNumber: party.number,
        remoteUri,
        startedAt: this.#options.now(),
        rcCallControl: false,
        consultFor: null,
        dialedExtension: null,
      },
      muted: false,
      recording: false,
      remoteHold: false,
      notice: null,
      localEndReason: null,
      endDetail: null,
      rejection: null,
      rcInvite: null,
      ownsCallId: session instanceof Inviter,
      dialogQueue: Promise.resolve(),
      iceRestartQueued: null,
      iceRestartNotice: null,
      mediaPath: null,
      mediaPathNotice: null,
      referredAway: false,
      pendingExtension: null,
    };

    this.#calls.set(id, call);
    call.machine.subscribe(() => this.#emit());
    session.delegate = this.#sessionDelegate(call);
    session.stateChange.addListener((state) => this.#onSessionState(call, state));
    this.#emit();
    return call;
  }

  #sessionDelegate(call: TrackedCall): SessionDelegate {
    return {
      onInfo: (info) => this.#rcCommands.receiveInfo(call.session, info),
      onInvite: (request, _response, statusCode) => this.#onReinvite(call, request, statusCode),
      onRefer: (referral) => void this.#onRefer(call, referral),
      onNotify: (notification) => void notification.accept().catch(() => undefined),
      onSessionDescriptionHandler: (handler) => this.#watchIce(call, handler as Web.SessionDescriptionHandler),
    };
  }

  #invite(
    call: TrackedCall,
    inviter: Inviter,
    delegate: { onAccept?(): void; onReject?(response: IncomingResponse): void } = {},
  ): void {
    inviter
      .invite({
        requestDelegate: {
          onProgress: (response) => this.#onOutboundProgress(call, response),
          onAccept: () => delegate.onAccept?.(),
          onReject: (response) => {
            call.rejection = rejectionOf(response);
            delegate.onReject?.(response);
          },
        },
      })
      .catch((error: unknown) => {
        call.rejection = { reason: 'failed', detail: errorText(error) };
        this.#endCall(call);
      });
  }

  #onOutboundProgress(call: TrackedCall, response: IncomingResponse): void {
    const status = response.message.statusCode;
    if ((status === 180 || status === 183) && call.machine.state.status === 'dialing') {
      call.machine.transition({ status: 'ringing' });
    }
  }

  #onSessionState(call: TrackedCall, state: SessionState): void {
    if (state === SessionState.Established) {
      if (call.machine.state.status === 'ended') return;
      call.machine.transition({ status: 'established', establishedAt: this.#options.now() });
      this.#resetReinviteOptions(call);

      const handler = sessionDescriptionHandlerOf(call);
      if (handler) this.#options.audioOutput.attach(call.info.id, handler.remoteMediaStream);
      void this.#dialExtension(call);
      return;
    }

    if (state !== SessionState.Terminated) return;

    // sip.js 0.21.2 moves a rejected Inviter to Terminated before it calls the
    // request delegate's onReject, so an outbound call that never connected
    // ends a microtask later, once the rejection (486 busy, 603 declined) is known.
    if (call.session instanceof Inviter && !isConnected(call.machine.state)) {
      queueMicrotask(() => this.#endCall(call));
      return;
    }
    this.#endCall(call);
  }

  #endCall(call: TrackedCall): void {
    if (call.machine.state.status === 'ended') return;

    let reason = call.localEndReason ?? call.rejection?.reason;
    if (!reason) {
      if (isConnected(call.machine.state)) reason = 'hung-up-remotely';
      else reason = call.info.direction === 'inbound' ? 'missed' : 'failed';
    }

    call.machine.transition({
      status: 'ended',
      reason,
      detail: call.rejection?.detail ?? call.endDetail,
      endedAt: this.#options.now(),
    });

    call.mediaPath?.dispose();
    this.#options.audioOutput.detach(call.info.id);
    this.#calls.delete(call.info.id);
    // A microphone opened for a ringing call closes with it when nobody answered.
    if (call.info.direction === 'inbound' && call.session.state !== SessionState.Established) {
      this.#options.preparedMicrophone?.release();
    }

    const final = callInfoOf(call);
    for (const listener of this.#endedListeners) listener(final);
    this.#emit();
  }

  /** Handles a re-INVITE from the other end: a=sendonly or a=inactive means it put the call on hold. */
  #onReinvite(call: TrackedCall, request: Core.IncomingRequestMessage, statusCode: number): void {
    if (statusCode !== 200) return;

    // After both ends reconnect, the first one's re-INVITE can fail with 480
    // while the other end has no connection yet. The other end's later
    // re-INVITE renegotiated the media, and this end's 2xx to it carried this
    // end's Contact, so that failure no longer describes the call.
    if (call.notice !== null && call.notice === call.iceRestartNotice) {
      call.notice = null;
      this.#emit();
    }
    call.iceRestartNotice = null;
    if (!request.body) return;

    const direction = audioDirectionOf(request.body);
    call.remoteHold = direction === 'sendonly' || direction === 'inactive';
    this.#emit();
  }

  #watchIce(call: TrackedCall, handler: Web.SessionDescriptionHandler): void {
    const peerConnection = handler.peerConnection;
    if (!peerConnection) return;

    call.mediaPath?.dispose();
    call.mediaPath = watchMediaPath(peerConnection, {
      restart: (attempt) => {
        console.warn(`[calls] ${call.info.id}: the media path failed, restarting ICE (attempt ${attempt})`);
        return this.#restartIce(call, { untilPathUp: true });
      },
      giveUp: () => {
        console.warn(`[calls] ${call.info.id}: the media path is still down after the last ICE restart`);
        call.notice = { ok: false, text: 'The audio connection could not be restored. Hang up and call again.' };
        call.mediaPathNotice = call.notice;
        this.#emit();
      },
      recovered: () => {
        console.info(`[calls] ${call.info.id}: the media path works again`);
        // A failed restart or the give-up no longer describes the call.
        if (call.notice !== null && (call.notice === call.mediaPathNotice || call.notice === call.iceRestartNotice)) {
          call.notice = null;
          this.#emit();
        }
        call.mediaPathNotice = null;
        call.iceRestartNotice = null;
      },
    });
  }

  // ---------------------------------------------------------------------------
  // Hold, re-INVITEs and local audio
  // ---------------------------------------------------------------------------

  async #hold(call: TrackedCall): Promise<ReinviteOutcome> {
    const state = call.machine.state;
    if (state.status === 'held') return { ok: true };
    if (state.status !== 'established') throw new CallStateError('hold', state);

    const { establishedAt } = state;
    call.machine.transition({ status: 'holding', establishedAt });
    this.#applyLocalAudio(call);

    const outcome = await this.#enqueue(call, () => this.#reinvite(call, { hold: true }));
    if (statusOf(call) !== 'holding') return outcome;

    if (outcome.ok) {
      call.machine.transition({ status: 'held', establishedAt });
      call.notice = null;
    } else {
      call.machine.transition({ status: 'established', establishedAt });
      call.notice = { ok: false, text: `Hold failed: ${outcome.reason}.` };
    }
    this.#applyLocalAudio(call);
    this.#emit();
    return outcome;
  }

  /** Puts every other connected call on hold; throws when one cannot be held. */
  async #holdOtherCalls(exceptId: string | null, purpose: string): Promise<void> {
    for (const other of [...this.#calls.values()]) {
      if (other.info.id === exceptId) continue;

      // A hold or resume in flight settles first.
      await other.dialogQueue.catch(() => undefined);
      if (other.machine.state.status !== 'established') continue;

      const outcome = await this.#hold(other);
      // A call whose dialog turned out lost is ending, so it no longer needs holding.
      if (!outcome.ok && !endsDialog(outcome)) {
        throw new Error(
          `Could not put ${other.info.remoteDisplay} on hold (${outcome.reason}), so the softphone did not ${purpose}.`,
        );
      }
    }
  }

  /**
   * Queues an ICE restart and returns true. Returns false when the call is not
   * connected or a restart is queued already.
   *
   * With `untilPathUp`, the restart is dropped when ICE has connected again by
   * the time it would go out or be retried, as after the other end's own
   * restart. A restart without it, after a network change, goes out even when
   * ICE still looks connected on the old path.
   */
  #restartIce(call: TrackedCall, options: { untilPathUp?: boolean } = {}): boolean {
    if (!isConnected(call.machine.state)) return false;

    const mode = options.untilPathUp === true ? 'until-path-up' : 'always';
    if (call.iceRestartQueued !== null) {
      if (mode === 'always') call.iceRestartQueued = 'always';
      return false;
    }

    call.iceRestartQueued = mode;
    void this.#enqueue(call, async () => {
      const queuedMode = call.iceRestartQueued;
      call.iceRestartQueued = null;
      const pathUp = () => queuedMode === 'until-path-up' && call.mediaPath?.isUp() === true;
      if (pathUp()) return { ok: true } as const;

      const outcome = await this.#reinvite(call, { hold: isNegotiatedHold(call.machine.state), iceRestart: true }, pathUp);
      if (!outcome.ok && isConnected(call.machine.state)) {
        console.warn(`[calls] ${call.info.id}: the ICE restart re-INVITE failed: ${outcome.reason}`);
        call.notice = { ok: false, text: `Reconnecting the audio failed: ${outcome.reason}.` };
        call.iceRestartNotice = call.notice;
        this.#emit();
      }
      return outcome;
    });
    return true;
  }

  /** Sends one re-INVITE (with glare retries) and leaves the session's re-INVITE options matching the result. */
  async #reinvite(
    call: TrackedCall,
    change: { hold: boolean; iceRestart?: boolean },
    superseded?: () => boolean,
  ): Promise<ReinviteOutcome> {
    const options: Web.SessionDescriptionHandlerOptions = {
      ...this.#mediaOptions(change.hold),
      ...(change.iceRestart ? { offerOptions: { iceRestart: true } } : {}),
    };

    const outcome = await sendReinvite(call.session, options, {
      ownsCallId: call.ownsCallId,
      sleep: this.#sleep,
      random: this.#options.random,
      superseded,
    });

    this.#resetReinviteOptions(call, outcome.ok ? change.hold : undefined);
    if (endsDialog(outcome)) this.#endLostDialog(call, outcome);
    return outcome;
  }

  /**
   * Ends a call whose dialog is lost: its re-INVITE got 481, for example because
   * the other end's BYE was lost while this end reconnected, or the other end's
   * re-INVITE never got its ACK. sip.js still sends a BYE, in case the dialog exists there.
   */
  #endLostDialog(call: TrackedCall, outcome: ReinviteOutcome): void {
    if (outcome.ok || call.session.state !== SessionState.Established) return;

    console.warn(`[calls] ${call.info.id}: ending the call, its dialog is lost: ${outcome.reason}`);
    call.localEndReason ??= outcome.statusCode === 481 ? 'hung-up-remotely' : 'failed';
    call.endDetail = outcome.reason;
    void call.session.bye().catch(() => undefined);
  }

  /**
   * sip.js answers the other end's re-INVITEs with the options of this end's
   * last re-INVITE, so they must say whether this end holds the call, and must
   * not restart ICE again.
   */
  #resetReinviteOptions(call: TrackedCall, hold = isNegotiatedHold(call.machine.state)): void {
    call.session.sessionDescriptionHandlerOptionsReInvite = this.#mediaOptions(hold);
  }

  /** Runs `operation` after the dialog's earlier re-INVITEs and REFERs. */
  #enqueue<T>(call: TrackedCall, operation: () => Promise<T>): Promise<T> {
    const result = call.dialogQueue.catch(() => undefined).then(operation);
    call.dialogQueue = result;
    return result;
  }

  /** Sends the microphone only while the call is neither muted, held nor being handed over. */
  #applyLocalAudio(call: TrackedCall): void {
    const handler = sessionDescriptionHandlerOf(call);
    if (!handler?.peerConnection) return;

    const held = isHeldLocally(call.machine.state);
    handler.enableSenderTracks(!call.muted && !held && !call.referredAway);
    handler.enableReceiverTracks(!held);
  }

  #mediaOptions(hold: boolean): Web.SessionDescriptionHandlerOptions {
    return { constraints: { audio: this.#options.audioConstraints?.() ?? ANY_MICROPHONE, video: false }, hold };
  }

  // ---------------------------------------------------------------------------
  // Transfers
  // ---------------------------------------------------------------------------

  /** Runs a REFER on `call` as a transfer; returns true when it succeeded and the call is ending. */
  async #runTransfer(call: TrackedCall, targetDisplay: string, refer: () => Promise<TransferOutcome>): Promise<boolean> {
    const state = call.machine.state;
    if (state.status !== 'established' && state.status !== 'held') throw new CallStateError('transfer', state);

    const wasHeld = state.status === 'held';
    const { establishedAt } = state;
    call.machine.transition({ status: 'transferring', establishedAt, wasHeld, target: targetDisplay });

    const outcome = await this.#enqueue(call, refer);
    if (statusOf(call) !== 'transferring') return outcome.ok;

    if (outcome.ok) {
      call.localEndReason = 'transferred';
      call.endDetail = `to ${targetDisplay}`;
      if (call.session.state === SessionState.Established) await call.session.bye().catch(() => undefined);
      return true;
    }

    call.machine.transition({ status: wasHeld ? 'held' : 'established', establishedAt });
    call.notice = { ok: false, text: `Transfer to ${targetDisplay} failed: ${outcome.reason}.` };
    this.#emit();
    return false;
  }

  /**
   * Follows a REFER from the other party (this end is the transferee): accepts
   * it, calls the Refer-To target, reports the progress in NOTIFYs and leaves
   * the referring call once the new call is answered.
   */
  async #onRefer(call: TrackedCall, referral: Referral): Promise<void> {
    if (!isConnected(call.machine.state)) {
      await referral.reject({ statusCode: 603 }).catch(() => undefined);
      return;
    }

    const referTo = referral.referTo;
    const party: RemoteParty = describeCaller(null, null, sipIdentityOf(referTo), (number) =>
      this.#formatNumber(number),
    );
    await referral.accept();

    const notifier = new ReferProgressNotifier(call.session);
    notifier.progress(100, 'Trying');

    call.referredAway = true;
    this.#applyLocalAudio(call);
    call.notice = { ok: true, text: `Transferring you to ${party.display}…` };

    // Referral.makeInviter() would also make sip.js send its own NOTIFYs, each
    // marked terminated; ReferProgressNotifier sends them instead.
    const targetUri = referTo.uri.clone();
    targetUri.clearHeaders();
    const extraHeaders = [...this.#options.extraHeaders];
    if (referral.replaces) extraHeaders.push(`Replaces: ${decodeURIComponent(referral.replaces)}`);
    if (referral.referredBy) extraHeaders.push(`Referred-By: ${referral.referredBy}`);

    const inviter = new Inviter(this.#options.userAgent(), targetUri, {
      extraHeaders,
      sessionDescriptionHandlerOptions: this.#mediaOptions(false),
    });
    const newCall = this.#track(inviter, 'outbound', party, targetUri.toString(), { status: 'dialing' });

    this.#invite(newCall, inviter, {
      onAccept: () => {
        notifier.finish(200, 'OK');
        call.localEndReason = 'transferred';
        call.endDetail = `to ${party.display}`;
        this.#byeUnlessEndedBy(call, BYE_AFTER_TRANSFER_WAIT_MS);
      },
      onReject: (response) => {
        const { statusCode = 500, reasonPhrase = '' } = response.message;
        notifier.finish(statusCode, reasonPhrase);
        call.referredAway = false;
        this.#applyLocalAudio(call);
        call.notice = { ok: false, text: `The transfer to ${party.display} failed: ${statusCode} ${reasonPhrase}.` };
        this.#emit();
      },
    });
  }

  /**
   * Answers at once an INVITE whose Replaces header names one of this line's
   * connected calls; sip.js sends that call a BYE once the new one is up.
   */
  #takeOverReplacedCall(invitation: Invitation, party: RemoteParty, replaced: TrackedCall): void {
    replaced.localEndReason = 'replaced';
    replaced.endDetail = `by the call from ${party.display}`;

    const call = this.#track(invitation, 'inbound', party, invitation.remoteIdentity.uri.toString(), {
      status: 'answering',
    });
    invitation.accept({ sessionDescriptionHandlerOptions: this.#mediaOptions(false) }).catch((error: unknown) => {
      call.rejection = { reason: 'failed', detail: errorText(error) };
      replaced.localEndReason = null;
      replaced.endDetail = null;
    });
  }

  /** Sends BYE on a call unless the other end ends it within `waitMs`. */
  #byeUnlessEndedBy(call: TrackedCall, waitMs: number): void {
    this.#setTimer(() => {
      if (call.session.state === SessionState.Established) void call.session.bye().catch(() => undefined);
    }, waitMs);
  }

  // ---------------------------------------------------------------------------
  // RingCentral call control
  // ---------------------------------------------------------------------------

  /**
   * Ends a ringing call on the screen at once and asks RingCentral to end it
   * with `command`. The server then CANCELs the INVITE; if the command fails,
   * or no CANCEL comes, the INVITE is rejected with `fallbackStatus`.
   */
  #endRingingViaServer(call: TrackedCall, command: number, fallbackStatus: number): void {
    this.#endCall(call);

    this.#sendRcCommand(call, command).then(
      () => this.#rejectUnlessCancelled(call, fallbackStatus),
      (error: unknown) => {
        const reason = errorText(error);
        console.warn(`[calls] ${call.info.id}: command ${command} failed (${reason}); rejecting with ${fallbackStatus}`);
        void this.#rejectInvitation(call, fallbackStatus);
      },
    );
  }

  #sendRcCommand(call: TrackedCall, command: number): Promise<void> {
    if (!call.rcInvite) return Promise.reject(new Error('the call has no RingCentral call control'));
    return this.#rcCommands.sendClientCommand(call.rcInvite, command);
  }

  #rejectUnlessCancelled(call: TrackedCall, statusCode: number): void {
    this.#setTimer(() => void this.#rejectInvitation(call, statusCode), RC_CANCEL_WAIT_MS);
  }

  async #rejectInvitation(call: TrackedCall, statusCode: number): Promise<void> {
    const session = call.session;
    if (!(session instanceof Invitation)) return;
    if (session.state !== SessionState.Initial && session.state !== SessionState.Establishing) return;
    await session.reject({ statusCode }).catch(() => undefined);
  }

  /**
   * Sends an in-call command INFO and waits for RingCentral's result, which the
   * notice shows; returns null when no result came.
   */
  async #runInfoCommand(
    call: TrackedCall,
    command: RcInfoCommand,
    parameters: Record<string, string> = {},
  ): Promise<RcInfoResult | null> {
    if (!isConnected(call.machine.state) || call.session.state !== SessionState.Established) {
      throw new CallStateError(`send ${command} on`, call.machine.state);
    }

    let result: RcInfoResult | null = null;
    try {
      result = await this.#rcCommands.sendInfoCommand(call.session, command, parameters);
      call.notice = { ok: result.code === 0, text: describeInfoResult(result) };
    } catch (error) {
      call.notice = { ok: false, text: `${errorText(error)}.` };
    }

    this.#emit();
    return result;
  }

  // ---------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------

  #parseTarget(input: string): DialTarget {
    return parseDialTarget(input, this.#options.profile.domain, this.#options.dialingContext?.());
  }

  /** Formats a caller's number the way dialed numbers are shown; other user parts come back unchanged. */
  #formatNumber(number: string): string {
    return formatDialString(number, this.#options.dialingContext?.());
  }

  #findBySession(session: Session): TrackedCall | null {
    return [...this.#calls.values()].find((call) => call.session === session) ?? null;
  }

  #requireCall(callId: string): TrackedCall {
    const call = this.#calls.get(callId);
    if (!call) throw new Error(`No call with id ${callId}; it may have ended already.`);
    return call;
  }

  #setTimer(callback: () => void, milliseconds: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, milliseconds);
    this.#timers.add(timer);
    return timer;
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** Reads the status afresh: TypeScript keeps a narrowed status across `await`, where it can change. */
function statusOf(call: TrackedCall): CallState['status'] {
  return call.machine.state.status;
}

function rejectionOf(response: IncomingResponse): { reason: CallEndReason; detail: string } {
  const { statusCode = 0, reasonPhrase } = response.message;
  const detail = `${statusCode} ${reasonPhrase}`;

  if (statusCode === 486 || statusCode === 600) return { reason: 'busy', detail };
  if (statusCode === 603) return { reason: 'declined', detail };
  return { reason: 'rejected', detail };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Returns the audio sender of the call's peer connection, which carries its DTMF. */
function dtmfSenderOf(call: TrackedCall): RTCRtpSender | undefined {
  return sessionDescriptionHandlerOf(call)
    ?.peerConnection?.getSenders()
    .find((candidate) => candidate.track?.kind === 'audio' || candidate.dtmf);
}
