import { z } from 'zod';

import type { IncomingCallNotice, IncomingCallNotificationAction } from '../shared/notifications';
import type { Logger } from './logger';

/** The options of Electron's `Notification` constructor that this module sets. */
export interface NotificationOptionsLike {
  title: string;
  body: string;
  silent: boolean;
  actions: { type: 'button'; text: string }[];
  timeoutType: 'default' | 'never';
  urgency: 'normal' | 'critical' | 'low';
}

/** The part of an Electron `Notification` this module uses; tests pass a stand-in. */
export interface NotificationLike {
  on(event: 'action', listener: (details: { actionIndex?: number } | undefined, actionIndex?: number) => void): unknown;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'failed', listener: (event: unknown, error: string) => void): unknown;
  show(): void;
  close(): void;
}

/** Electron's `Notification` class, or a stand-in with the same shape. */
export interface NotificationClassLike {
  new (options: NotificationOptionsLike): NotificationLike;
  isSupported(): boolean;
}

export interface IncomingCallNotifierOptions {
  Notification: NotificationClassLike;
  /** `process.platform`; decides whether the notification gets Answer and Decline buttons. */
  platform: NodeJS.Platform;
  logger: Logger;
  /**
   * Called when the user acts on a notification: `answer` and `decline` from its
   * buttons, `show` from a click on its body.
   */
  onAction(callId: string, action: IncomingCallNotificationAction): void;
}

export interface IncomingCallNotifier {
  /** Shows the notification of a ringing call; returns false when the OS has no notifications. */
  show(notice: IncomingCallNotice): boolean;
  /** Removes the notification of a call that stopped ringing; does nothing when there is none. */
  close(callId: string): void;
  closeAll(): void;
}

/**
 * Electron shows notification buttons on macOS (signed apps whose alert style is
 * "alert") and on Windows; on Linux it shows none, so the user clicks the
 * notification to bring the window with Answer and Decline to the front.
 * Source: Electron's NotificationAction documentation.
 */
const PLATFORMS_WITH_ACTIONS: ReadonlySet<NodeJS.Platform> = new Set(['darwin', 'win32']);

/** Order of the buttons; the `action` event reports the index into this list. */
const ACTION_BUTTONS: readonly { action: IncomingCallNotificationAction; text: string }[] = [
  { action: 'answer', text: 'Answer' },
  { action: 'decline', text: 'Decline' },
];

const MAX_CALL_ID_LENGTH = 64;
const MAX_CALLER_TEXT_LENGTH = 256;

export const incomingCallNoticeSchema = z.strictObject({
  callId: z.string().regex(/^[A-Za-z0-9_-]+$/).max(MAX_CALL_ID_LENGTH),
  callerName: z.string().max(MAX_CALLER_TEXT_LENGTH).nullable(),
  callerNumber: z.string().max(MAX_CALLER_TEXT_LENGTH),
});

export const incomingCallIdSchema = incomingCallNoticeSchema.pick({ callId: true });

/**
 * Creates the OS notifications for incoming calls, one per ringing call. Each
 * notification object stays referenced until it is closed, so its event
 * listeners live as long as the call rings.
 */
export function createIncomingCallNotifier(options: IncomingCallNotifierOptions): IncomingCallNotifier {
  const { Notification, logger } = options;
  const openNotifications = new Map<string, NotificationLike>();
  const withActions = PLATFORMS_WITH_ACTIONS.has(options.platform);

  const forget = (callId: string, notification: NotificationLike) => {
    if (openNotifications.get(callId) === notification) openNotifications.delete(callId);
  };

  const act = (callId: string, notification: NotificationLike, action: IncomingCallNotificationAction) => {
    logger.info('Incoming-call notification used', { callId, action });
    if (action !== 'show') {
      forget(callId, notification);
      notification.close();
    }
    options.onAction(callId, action);
  };

  const close = (callId: string) => {
    const notification = openNotifications.get(callId);
    if (notification === undefined) return;

    openNotifications.delete(callId);
    notification.close();
  };

  return {
    show(notice) {
      if (!Notification.isSupported()) {
        logger.warn('The OS shows no notifications; the incoming call rings only in the window', { callId: notice.callId });
        return false;
      }

      close(notice.callId);
      const notification = new Notification({
        title: notice.callerName === null ? 'Incoming call' : `Incoming call from ${notice.callerName}`,
        body: notice.callerNumber,
        // The app plays its own ringtone on the ringer device.
        silent: true,
        actions: withActions ? ACTION_BUTTONS.map(({ text }) => ({ type: 'button', text })) : [],
        timeoutType: 'never',
        urgency: 'critical',
      });

      notification.on('action', (details, legacyIndex) => {
        const index = details?.actionIndex ?? legacyIndex ?? -1;
        const button = ACTION_BUTTONS[index];
        if (button === undefined) {
          logger.warn('Ignoring an unknown notification action', { callId: notice.callId, index });
          return;
        }
        act(notice.callId, notification, button.action);
      });
      notification.on('click', () => act(notice.callId, notification, 'show'));
      notification.on('close', () => forget(notice.callId, notification));
      notification.on('failed', (_event, error) => {
        logger.warn('The incoming-call notification could not be shown', { callId: notice.callId, error });
        forget(notice.callId, notification);
      });

      openNotifications.set(notice.callId, notification);
      notification.show();
      return true;
    },

    close,

    closeAll() {
      for (const callId of [...openNotifications.keys()]) close(callId);
    },
  };
}
