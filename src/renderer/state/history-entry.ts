import type { CallResult, NewCallHistoryEntry } from '../../shared/call-history';
import type { CallEndReason } from '../sip/call-state';
import type { CallInfo } from '../sip/softphone-engine';

const DIALABLE_USER = /^\+?[0-9*#]{1,32}$/;
const NUMBER_SEPARATORS = /[\s().-]/g;
const SIP_URI_PARTS = /^(sips?):([^@;?>]+)@([^;?>\s]+)/i;

/**
 * Builds the history entry of an ended call. `establishedAt` is when the call
 * was answered, or null when it never was; the ended state no longer carries it.
 */
export function historyEntryOf(call: CallInfo, establishedAt: number | null): NewCallHistoryEntry | null {
  if (call.state.status !== 'ended') return null;

  const durationSeconds =
    establishedAt === null ? 0 : Math.max(0, Math.round((call.state.endedAt - establishedAt) / 1000));

  return {
    direction: call.direction,
    number: callBackNumberOf(call),
    extension: call.dialedExtension,
    name: call.remoteName,
    startedAt: call.startedAt,
    durationSeconds,
    result: resultOf(call.state.reason, establishedAt !== null),
    detail: call.state.detail,
  };
}

/**
 * Returns what calls the other party back. An outbound call's request-URI contains
 * the number as dialed (E.164). An inbound call's number comes from the caller
 * identity (RingCentral's `P-rc`, `P-Asserted-Identity` or `From`), and from its
 * URI when that identity is no number.
 */
export function callBackNumberOf(call: Pick<CallInfo, 'direction' | 'remoteNumber' | 'remoteUri'>): string {
  const number = call.remoteNumber?.replace(NUMBER_SEPARATORS, '') ?? '';
  if (call.direction === 'inbound' && DIALABLE_USER.test(number)) return number;
  return dialStringOfUri(call.remoteUri);
}

/**
 * Returns the user part of a SIP URI when it is a number, an extension or a
 * feature code. Other URIs come back without password, parameters and headers.
 */
export function dialStringOfUri(uri: string): string {
  const parts = SIP_URI_PARTS.exec(uri);
  if (!parts) return uri;

  const [, scheme, userInfo, host] = parts as unknown as [string, string, string, string];
  const user = safeDecode(userInfo.split(':')[0] ?? '');
  return DIALABLE_USER.test(user) ? user : `${scheme.toLowerCase()}:${user}@${host}`;
}

function resultOf(reason: CallEndReason, wasAnswered: boolean): CallResult {
  if (wasAnswered) return 'answered';

  switch (reason) {
    case 'missed':
      return 'missed';
    case 'declined':
    case 'sent-to-voicemail':
      return 'declined';
    case 'answered-elsewhere':
      return 'answered-elsewhere';
    case 'cancelled':
      return 'cancelled';
    case 'busy':
      return 'busy';
    case 'rejected':
      return 'rejected';
    default:
      return 'failed';
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
