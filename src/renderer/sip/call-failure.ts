/** A SIP final status of an outbound call, in words for the person who dialed. */
export interface CallFailureText {
  /** Two or three words for lists such as the call history, for example "Busy". */
  label: string;
  /** Full sentences: the outcome and the next step for the user. */
  sentence: string;
  /** The status code for support, for example "SIP 486". */
  code: string;
}

const LEADING_STATUS = /^([3-6][0-9]{2})(?:\s|$)/;

/**
 * Describes the final status (RFC 3261 §21) that ended an outbound call before
 * it was answered. Codes without a case of their own get a generic text.
 */
export function describeCallFailure(statusCode: number): CallFailureText {
  const code = `SIP ${statusCode}`;

  switch (statusCode) {
    case 404:
    case 604:
      return {
        label: 'Number not found',
        sentence: 'The number you dialed was not found. Check the number and dial it again.',
        code,
      };
    case 484:
      return {
        label: 'Incomplete number',
        sentence: 'The number you dialed is incomplete. Check that it has all its digits, including the area code.',
        code,
      };
    case 408:
      return { label: 'No answer', sentence: 'Nobody answered the call. Try again later.', code };
    case 480:
      return { label: 'Unavailable', sentence: 'The person you called is not available right now. Try again later.', code };
    case 486:
    case 600:
      return { label: 'Busy', sentence: 'The line is busy. Try again later.', code };
    case 603:
      return { label: 'Declined', sentence: 'The person you called declined the call. Try again later.', code };
    case 403:
      return {
        label: 'Not allowed',
        sentence: 'Your phone line is not allowed to call this number. Ask your RingCentral administrator about calling permissions.',
        code,
      };
    case 487:
      return {
        label: 'Cancelled',
        sentence: 'The call was cancelled before anyone answered. Dial again if you still want to reach them.',
        code,
      };
    case 488:
    case 606:
      return {
        label: 'Audio not compatible',
        sentence: 'The other phone could not use any audio format this app offers. Try calling from another phone.',
        code,
      };
  }

  if (statusCode >= 500 && statusCode < 600) {
    return {
      label: 'Phone service problem',
      sentence: 'The phone service had a problem connecting the call. Try again in a few minutes.',
      code,
    };
  }
  return {
    label: 'Call failed',
    sentence: 'The call could not be connected. Try again, and contact your administrator if it keeps failing.',
    code,
  };
}

/**
 * Reads the status code from an end detail such as "486 Busy Here", the form
 * the call controller stores for a rejected INVITE; null for any other detail.
 */
export function sipStatusOf(detail: string | null): number | null {
  const match = detail === null ? null : LEADING_STATUS.exec(detail);
  return match ? Number(match[1]) : null;
}

/**
 * Describes an outbound call that ended with a SIP rejection ("busy",
 * "declined" or "rejected" with a status detail); null for every other end.
 */
export function describeRejectedCall(reason: string, detail: string | null): CallFailureText | null {
  if (reason !== 'busy' && reason !== 'declined' && reason !== 'rejected') return null;

  const statusCode = sipStatusOf(detail);
  return statusCode === null ? null : describeCallFailure(statusCode);
}

/**
 * Describes an end that is no SIP rejection in the words of its reason, such
 * as "parked (Parked at *801.)". A call the user cancelled shows no detail,
 * because its detail is only the 487 that confirmed the CANCEL.
 */
export function describeCallOutcome(reason: string, detail: string | null): string {
  const words = reason.replaceAll('-', ' ');
  return !detail || reason === 'cancelled' ? words : `${words} (${detail})`;
}
