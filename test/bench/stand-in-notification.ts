import { EventEmitter } from 'node:events';

import type { NotificationClassLike, NotificationLike, NotificationOptionsLike } from '../../src/main/notifications';

/** A notification as the stand-in class records it; the test plays the user's part. */
export interface StandInNotification extends NotificationLike {
  readonly options: NotificationOptionsLike;
  readonly shown: boolean;
  readonly closed: boolean;
  /** Clicks the button at `index` of `options.actions`, as Electron reports it on macOS and Windows. */
  pressAction(index: number): void;
  /** Clicks the body of the notification. */
  click(): void;
  /** Closes the notification the way the user or the OS does. */
  dismiss(): void;
}

export interface StandInNotifications {
  /** Pass this where Electron's `Notification` class goes. */
  Notification: NotificationClassLike;
  /** Every notification created so far, oldest first. */
  created: StandInNotification[];
  /** Notifications shown and not closed. */
  open(): StandInNotification[];
}

/** Creates a stand-in for Electron's `Notification` class whose notifications the test can click. */
export function createStandInNotifications(options: { supported?: boolean } = {}): StandInNotifications {
  const created: StandInNotification[] = [];

  class Notification extends EventEmitter implements StandInNotification {
    shown = false;
    closed = false;

    static isSupported(): boolean {
      return options.supported ?? true;
    }

    constructor(readonly options: NotificationOptionsLike) {
      super();
      created.push(this);
    }

    show(): void {
      this.shown = true;
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      this.emit('close', {});
    }

    pressAction(index: number): void {
      this.emit('action', { actionIndex: index, selectionIndex: -1 }, index, -1);
    }

    click(): void {
      this.emit('click', {});
    }

    dismiss(): void {
      this.close();
    }
  }

  return {
    Notification,
    created,
    open: () => created.filter((notification) => notification.shown && !notification.closed),
  };
}
