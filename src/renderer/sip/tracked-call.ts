import type { Session, Web } from 'sip.js';

import type { CallDirection, CallEndReason, CallState } from './call-state';
import type { MediaPathWatch } from './media-path-watch';
import type { RcMessage } from './rc-call-control';
import type { StateMachine } from './state-machine';

/** The outcome of the latest in-call command (hold, transfer, park...), shown on the call's card. */
export interface CallNotice {
  ok: boolean;
  text: string;
}

/** One call as the UI shows it. */
export interface CallInfo {
  id: string;
  direction: CallDirection;
  /** Name or number of the other party as it should be displayed. */
  remoteDisplay: string;
  /** The other party's name when the network gave one. */
  remoteName: string | null;
  /** The other party's number, extension or SIP user when known. */
  remoteNumber: string | null;
  remoteUri: string;
  startedAt: number;
  state: CallState;
  /** The microphone is muted for this call. */
  muted: boolean;
  /** RingCentral confirmed that it records this call. */
  recording: boolean;
  /** The other party put this call on hold (its re-INVITE offered a=sendonly or a=inactive). */
  remoteHold: boolean;
  /** The INVITE carried RingCentral call control (`P-rc`), so Send to voicemail works. */
  rcCallControl: boolean;
  /** For the consultation call of a warm transfer: the id of the call it will transfer. */
  consultFor: string | null;
  /** Extension dialed as tones after an outbound call connects (`;ext=`, "x12"), or null. */
  dialedExtension: string | null;
  notice: CallNotice | null;
}

/** The controller's record of one call; the UI reads it through `CallInfo`. */
export interface TrackedCall {
  session: Session;
  machine: StateMachine<CallState>;
  info: Omit<CallInfo, 'state' | 'muted' | 'recording' | 'remoteHold' | 'notice'>;
  muted: boolean;
  recording: boolean;
  remoteHold: boolean;
  notice: CallNotice | null;
  /** Set when this side ends the call, so the end reason is known. */
  localEndReason: CallEndReason | null;
  /** Shown with the end reason, for example where a call was parked. */
  endDetail: string | null;
  rejection: { reason: CallEndReason; detail: string } | null;
  /** The `P-rc` message of an inbound INVITE; null without RingCentral call control. */
  rcInvite: RcMessage | null;
  /** True for the caller, which generated the dialog's Call-ID (RFC 3261 §14.1 glare timers). */
  ownsCallId: boolean;
  /**
   * Tail of the queue of this dialog's re-INVITEs and REFERs: sip.js allows one
   * re-INVITE at a time, and a REFER sent during a re-INVITE fails on slow networks.
   */
  dialogQueue: Promise<unknown>;
  /**
   * The ICE restart waiting in `dialogQueue`, or null: `until-path-up` after a
   * failed media path (dropped once ICE connects again), `always` after a
   * network change.
   */
  iceRestartQueued: 'until-path-up' | 'always' | null;
  /** The notice of this end's last failed ICE restart, or null. */
  iceRestartNotice: CallNotice | null;
  /** Watch of the peer connection that restarts ICE when a working media path fails; null before the first offer or answer. */
  mediaPath: MediaPathWatch | null;
  /** The notice shown after the last ICE restart left the media path down, or null. */
  mediaPathNotice: CallNotice | null;
  /** This end is handing the call over after an incoming REFER; its audio to the transferor stops. */
  referredAway: boolean;
  /** Extension of the dialed number (`;ext=`, "x12"), sent as DTMF once the call connects; null when none or sent. */
  pendingExtension: string | null;
}

export function callInfoOf(call: TrackedCall): CallInfo {
  return {
    ...call.info,
    state: call.machine.state,
    muted: call.muted,
    recording: call.recording,
    remoteHold: call.remoteHold,
    notice: call.notice,
  };
}

export function sessionDescriptionHandlerOf(call: TrackedCall): Web.SessionDescriptionHandler | undefined {
  return call.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
}

/** True while the negotiated media of the call is on hold from this side. */
export function isHeldLocally(state: CallState): boolean {
  return (
    state.status === 'holding' ||
    state.status === 'held' ||
    state.status === 'resuming' ||
    (state.status === 'transferring' && state.wasHeld)
  );
}

/** True when the last hold re-INVITE succeeded and no resume has succeeded since. */
export function isNegotiatedHold(state: CallState): boolean {
  return (
    state.status === 'held' || state.status === 'resuming' || (state.status === 'transferring' && state.wasHeld)
  );
}

/**
 * Reads the direction of the first audio section of an SDP (RFC 3264 §5.1), or
 * of the session when the section has none; `sendrecv` when neither has one.
 */
export function audioDirectionOf(sdp: string): 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' {
  const sessionPart = sdp.split(/\r?\nm=/)[0] ?? '';
  const audioPart = /\r?\nm=audio[\s\S]*?(?=\r?\nm=|$)/.exec(sdp)?.[0] ?? '';
  const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m;
  const found = direction.exec(audioPart) ?? direction.exec(sessionPart);
  return (found?.[1] as 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' | undefined) ?? 'sendrecv';
}
