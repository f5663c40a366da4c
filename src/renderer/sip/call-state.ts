import { StateMachine, type TransitionTable } from './state-machine';

export type CallDirection = 'outbound' | 'inbound';

/** Why a call ended, in the words the call history and the UI use. */
export type CallEndReason =
  | 'hung-up-locally'
  | 'hung-up-remotely'
  | 'declined'
  | 'cancelled'
  | 'missed'
  | 'busy'
  | 'rejected'
  | 'failed'
  /** This side sent the ringing call to voicemail (RingCentral command 11). */
  | 'sent-to-voicemail'
  /** Another instance of the same line answered the ringing call (RingCentral command 7). */
  | 'answered-elsewhere'
  /** The call was handed to another party by a transfer, from either end. */
  | 'transferred'
  /** An INVITE with Replaces (RFC 3891) took this call's place, as a warm transfer does. */
  | 'replaced'
  /** RingCentral parked the call; anyone can pick it up at the park location. */
  | 'parked'
  /** RingCentral moved the call to one of the user's flip numbers. */
  | 'flipped';

/**
 * One call's life.
 *
 * Outbound: `dialing` (INVITE sent) → `ringing` (180/183 received) →
 * `established` (2xx, ACK sent). Inbound: `ringing` (INVITE received, 180 sent)
 * → `answering` (200 sent, waiting for ACK and media) → `established`.
 *
 * In a call, hold and resume are re-INVITEs (RFC 3264 §8.4): `established` →
 * `holding` (re-INVITE with a=sendonly sent) → `held` on 2xx, or back to
 * `established` when it fails; `held` → `resuming` (a=sendrecv) → `established`,
 * or back to `held`. A transfer (REFER, RFC 3515) runs from `established` or
 * `held` as `transferring`: the call ends when it succeeds and returns to where
 * it was when it fails.
 *
 * Any state → `ended`; `ended` is final.
 */
export type CallState =
  | { status: 'dialing' }
  | { status: 'ringing' }
  | { status: 'answering' }
  | { status: 'established'; establishedAt: number }
  | { status: 'holding'; establishedAt: number }
  | { status: 'held'; establishedAt: number }
  | { status: 'resuming'; establishedAt: number }
  | {
      status: 'transferring';
      establishedAt: number;
      /** Whether the call was on hold when the transfer started, so a failure returns there. */
      wasHeld: boolean;
      /** Display text of the transfer target. */
      target: string;
    }
  | { status: 'ended'; reason: CallEndReason; detail: string | null; endedAt: number };

export type CallStatus = CallState['status'];

const callTransitions: TransitionTable<CallState> = {
  dialing: ['ringing', 'established', 'ended'],
  ringing: ['answering', 'established', 'ended'],
  answering: ['established', 'ended'],
  established: ['holding', 'transferring', 'ended'],
  holding: ['held', 'established', 'ended'],
  held: ['resuming', 'transferring', 'ended'],
  resuming: ['established', 'held', 'ended'],
  transferring: ['established', 'held', 'ended'],
  ended: [],
};

/** Statuses of a call whose dialog is confirmed: media may flow and in-call commands apply. */
const CONNECTED_STATUSES: ReadonlySet<CallStatus> = new Set([
  'established',
  'holding',
  'held',
  'resuming',
  'transferring',
]);

export function isConnected(state: CallState): state is Extract<CallState, { establishedAt: number }> {
  return CONNECTED_STATUSES.has(state.status);
}

export function createCallMachine(initial: CallState): StateMachine<CallState> {
  return new StateMachine<CallState>('call', initial, callTransitions);
}
