/**
 * Outcome of a call as the history shows it. `answered` covers every call that
 * was established here, whichever side hung up; `answered-elsewhere` is a call
 * another device of the same line picked up.
 */
export type CallResult =
  | 'answered'
  | 'answered-elsewhere'
  | 'missed'
  | 'declined'
  | 'cancelled'
  | 'busy'
  | 'rejected'
  | 'failed';

/** One call as the renderer reports it when the call ends. */
export interface NewCallHistoryEntry {
  direction: 'inbound' | 'outbound';
  /** Dial string that reaches the other party again: an E.164 number, an extension or a SIP URI. */
  number: string;
  /** Extension dialed as tones after the number connected; null when none. */
  extension: string | null;
  /** Caller or callee name when known; null otherwise. */
  name: string | null;
  /** Epoch milliseconds when the call started ringing or was dialed. */
  startedAt: number;
  /** Seconds from answer to hang-up; 0 for calls that were never answered. */
  durationSeconds: number;
  result: CallResult;
  /** SIP status of a rejected call, such as "486 Busy Here"; null otherwise. */
  detail: string | null;
}

/** A stored history entry; `id` is assigned by the main process. */
export interface CallHistoryEntry extends NewCallHistoryEntry {
  id: string;
}

/** The whole history as the renderer shows it: newest entry first. */
export interface CallHistorySnapshot {
  entries: CallHistoryEntry[];
  /** Missed calls recorded since the user last opened the history. */
  missedCount: number;
}
