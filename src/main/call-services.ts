import type { IncomingCallActionEvent } from '../shared/notifications';
import { createCallHistoryStore } from './call-history';
import type { CallServices } from './ipc-handlers';
import type { Logger } from './logger';
import { createIncomingCallNotifier, type NotificationClassLike } from './notifications';
import { createPreferencesStore } from './preferences';

export interface CallServicesOptions {
  /** The app's data folder; `preferences.json` and `call-history.json` live there. */
  dataDir: string;
  /** Electron's `Notification` class; tests pass a stand-in. */
  Notification: NotificationClassLike;
  platform: NodeJS.Platform;
  logger: Logger;
  /** Brings the main window to the front and focuses it. */
  showWindow(): void;
  /** Sends the user's answer or decline from a notification to the renderer. */
  sendIncomingCallAction(event: IncomingCallActionEvent): void;
}

/**
 * Creates the main-process side of the call features. A click on an incoming-call
 * notification, or its Answer button, brings the window to the front; Answer and
 * Decline go on to the renderer, which owns the call.
 */
export function createCallServices(options: CallServicesOptions): CallServices {
  const incomingCallNotifier = createIncomingCallNotifier({
    Notification: options.Notification,
    platform: options.platform,
    logger: options.logger.child('notifications'),
    onAction(callId, action) {
      if (action !== 'decline') options.showWindow();
      if (action !== 'show') options.sendIncomingCallAction({ callId, action });
    },
  });

  return {
    preferences: createPreferencesStore(options.dataDir, options.logger.child('preferences')),
    callHistory: createCallHistoryStore(options.dataDir, options.logger.child('call-history')),
    incomingCallNotifier,
  };
}
