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
  | 'failed';

/**
 * One call's life.
 *
 * Outbound: `dialing` (INVITE sent) → `ringing` (180/183 received) →
 * `established` (2xx, ACK sent). Inbound: `ringing` (INVITE received, 180 sent)
 * → `answering` (200 sent, waiting for ACK and media) → `established`.
 * Any state → `ended`; `ended` is final.
 */
export type CallState =
  | { status: 'dialing' }
  | { status: 'ringing' }
  | { status: 'answering' }
  | { status: 'established'; establishedAt: number }
  | { status: 'ended'; reason: CallEndReason; detail: string | null; endedAt: number };

const callTransitions: TransitionTable<CallState> = {
  dialing: ['ringing', 'established', 'ended'],
  ringing: ['answering', 'established', 'ended'],
  answering: ['established', 'ended'],
  established: ['ended'],
  ended: [],
};

export function createCallMachine(initial: CallState): StateMachine<CallState> {
  return new StateMachine<CallState>('call', initial, callTransitions);
}
