import { z } from 'zod';

import { createJsonFileStore } from './json-file-store';
import type { Logger } from './logger';

export const DESKTOP_PREFERENCES_FILE_NAME = 'desktop.json';

/**
 * Contents of `desktop.json`. Start at login is not stored, because the OS entry
 * itself (login item or XDG autostart file) is the truth: the user can also
 * remove it in the OS settings.
 */
export interface StoredDesktopPreferences {
  doNotDisturb: boolean;
  sipTrace: boolean;
  /** Set once start-at-login was turned on after the first sign-in, or the user chose either way. */
  openAtLoginDecided: boolean;
}

export const DEFAULT_DESKTOP_PREFERENCES: StoredDesktopPreferences = {
  doNotDisturb: false,
  sipTrace: false,
  openAtLoginDecided: false,
};

/** Validates a change from the renderer: any subset of the three switches, nothing else. */
export const desktopPreferencesChangeSchema = z.strictObject({
  openAtLogin: z.boolean().optional(),
  doNotDisturb: z.boolean().optional(),
  sipTrace: z.boolean().optional(),
});

// A file from an older version may lack a field, which then takes its default;
// a field of the wrong type makes the file corrupt.
const fileSchema = z.object({
  doNotDisturb: z.boolean().default(DEFAULT_DESKTOP_PREFERENCES.doNotDisturb),
  sipTrace: z.boolean().default(DEFAULT_DESKTOP_PREFERENCES.sipTrace),
  openAtLoginDecided: z.boolean().default(DEFAULT_DESKTOP_PREFERENCES.openAtLoginDecided),
});

export interface DesktopPreferencesStore {
  /** Reads the file; a missing file gives the defaults, and so does a corrupt one, which is kept aside. */
  load(): Promise<StoredDesktopPreferences>;
  save(preferences: StoredDesktopPreferences): Promise<void>;
}

/**
 * Creates the store of `desktop.json` in `directory`. A file that is not JSON or
 * fails validation is renamed to `desktop.json.corrupt`, and a warning is logged.
 */
export function createDesktopPreferencesStore(directory: string, logger: Logger): DesktopPreferencesStore {
  const store = createJsonFileStore<StoredDesktopPreferences>({
    directory,
    fileName: DESKTOP_PREFERENCES_FILE_NAME,
    fileSchema,
    saveSchema: fileSchema,
    defaults: DEFAULT_DESKTOP_PREFERENCES,
    logger,
    description: 'Desktop preferences file',
  });

  return {
    load: () => store.load(),
    async save(preferences) {
      await store.save(preferences);
    },
  };
}
