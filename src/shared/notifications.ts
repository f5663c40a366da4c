/** A ringing inbound call, as the renderer reports it for the OS notification. */
export interface IncomingCallNotice {
  callId: string;
  callerName: string | null;
  /** The caller's number formatted for display. */
  callerNumber: string;
}

/**
 * User's action on an incoming-call notification: `answer` or `decline`
 * with its buttons, `show` with a click on its body.
 */
export type IncomingCallNotificationAction = 'answer' | 'decline' | 'show';

/** Sent to the renderer when the user answers or declines from the notification. */
export interface IncomingCallActionEvent {
  callId: string;
  action: 'answer' | 'decline';
}
