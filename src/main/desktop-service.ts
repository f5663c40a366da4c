import { z } from 'zod';

import type { DesktopPreferences, PhoneStatus } from '../shared/desktop';
import type { Autostart } from './autostart';
import {
  DEFAULT_DESKTOP_PREFERENCES,
  type DesktopPreferencesStore,
  type StoredDesktopPreferences,
} from './desktop-preferences';
import type { Logger } from './logger';
import type { TrayState } from './tray';

/** Validates a phone status report from the renderer. */
export const phoneStatusSchema = z.strictObject({
  registration: z.enum(['registered', 'connecting', 'offline']),
  inCall: z.boolean(),
});

/** Start-at-login could not be changed in the OS. */
export class AutostartChangeError extends Error {
  override readonly name = 'AutostartChangeError';

  constructor(enabled: boolean, cause: unknown) {
    super(
      `Could not turn start at login ${enabled ? 'on' : 'off'}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Try again, or change it in the startup settings of your system.',
      { cause },
    );
  }
}

export interface DesktopServiceOptions {
  store: DesktopPreferencesStore;
  autostart: Autostart;
  logger: Logger;
}

/** Desktop preferences, start at login and the tray's state, behind the IPC handlers and the tray menu. */
export interface DesktopService {
  /** Resolves when the stored preferences are loaded and the autostart entry refreshed; never rejects. */
  readonly ready: Promise<void>;
  getPreferences(): Promise<DesktopPreferences>;
  /** Applies a change; throws `AutostartChangeError` when the OS entry cannot be changed. */
  setPreferences(change: Partial<DesktopPreferences>): Promise<DesktopPreferences>;
  /**
   * Turns start at login on after the first successful sign-in of this
   * installation. Once the user has chosen either way, it changes nothing.
   */
  applyOpenAtLoginDefault(): Promise<void>;
  reportPhoneStatus(status: PhoneStatus): void;
  setMissedCalls(count: number): void;
  isSipTraceOn(): boolean;
  trayState(): TrayState;
  onPreferencesChanged(listener: (preferences: DesktopPreferences) => void): () => void;
  onTrayStateChanged(listener: (state: TrayState) => void): () => void;
}

/** Creates the service and starts loading; `ready` resolves when loading is done. */
export function createDesktopService(options: DesktopServiceOptions): DesktopService {
  const { store, autostart, logger } = options;

  let stored: StoredDesktopPreferences = { ...DEFAULT_DESKTOP_PREFERENCES };
  let openAtLogin = false;
  let tray: TrayState = { phone: { registration: 'offline', inCall: false }, missedCalls: 0, doNotDisturb: false };
  const preferenceListeners = new Set<(preferences: DesktopPreferences) => void>();
  const trayListeners = new Set<(state: TrayState) => void>();
  // Changes run one at a time, in call order, so two quick toggles cannot interleave.
  let queue: Promise<unknown> = Promise.resolve();

  const enqueue = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };

  const preferences = (): DesktopPreferences => ({
    openAtLogin,
    doNotDisturb: stored.doNotDisturb,
    sipTrace: stored.sipTrace,
  });

  const notify = <T>(listeners: Set<(value: T) => void>, value: T) => {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        logger.error('A desktop state listener threw', { error });
      }
    }
  };

  const updateTray = (change: Partial<TrayState>) => {
    const next = { ...tray, ...change };
    if (JSON.stringify(next) === JSON.stringify(tray)) {
      return;
    }
    tray = next;
    notify(trayListeners, tray);
  };

  const setOpenAtLogin = async (enabled: boolean) => {
    try {
      await autostart.setEnabled(enabled);
      openAtLogin = await autostart.isEnabled();
    } catch (error) {
      logger.error('Could not change start at login', { enabled, error });
      throw new AutostartChangeError(enabled, error);
    }
  };

  const ready = enqueue(async () => {
    try {
      stored = await store.load();
    } catch (error) {
      logger.error('Could not read the desktop preferences; using the defaults', { error });
    }

    try {
      openAtLogin = await autostart.isEnabled();
      await autostart.refresh();
    } catch (error) {
      logger.error('Could not read or refresh the start-at-login entry', { error });
    }

    updateTray({ doNotDisturb: stored.doNotDisturb });
    notify(preferenceListeners, preferences());
  });

  return {
    ready,

    async getPreferences() {
      await ready;
      return preferences();
    },

    setPreferences(change) {
      return enqueue(async () => {
        if (change.openAtLogin !== undefined && change.openAtLogin !== openAtLogin) {
          await setOpenAtLogin(change.openAtLogin);
        }

        const next: StoredDesktopPreferences = {
          doNotDisturb: change.doNotDisturb ?? stored.doNotDisturb,
          sipTrace: change.sipTrace ?? stored.sipTrace,
          openAtLoginDecided: stored.openAtLoginDecided || change.openAtLogin !== undefined,
        };
        if (JSON.stringify(next) !== JSON.stringify(stored)) {
          await store.save(next);
          stored = next;
        }

        logger.info('Desktop preferences changed', { ...preferences() });
        updateTray({ doNotDisturb: stored.doNotDisturb });
        notify(preferenceListeners, preferences());
        return preferences();
      });
    },

    applyOpenAtLoginDefault() {
      return enqueue(async () => {
        if (stored.openAtLoginDecided) {
          return;
        }

        try {
          await setOpenAtLogin(true);
          stored = { ...stored, openAtLoginDecided: true };
          await store.save(stored);
          logger.info('Turned on start at login after the first sign-in');
        } catch (error) {
          // Left undecided, so the next sign-in tries again.
          logger.error('Could not turn on start at login after the first sign-in', { error });
        }
        notify(preferenceListeners, preferences());
      });
    },

    reportPhoneStatus(status) {
      updateTray({ phone: { registration: status.registration, inCall: status.inCall } });
    },

    setMissedCalls(count) {
      updateTray({ missedCalls: count });
    },

    isSipTraceOn: () => stored.sipTrace,

    trayState: () => tray,

    onPreferencesChanged(listener) {
      preferenceListeners.add(listener);
      return () => preferenceListeners.delete(listener);
    },

    onTrayStateChanged(listener) {
      trayListeners.add(listener);
      return () => trayListeners.delete(listener);
    },
  };
}
