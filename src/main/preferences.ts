import { z } from 'zod';

import { DEFAULT_PREFERENCES, type Preferences } from '../shared/preferences';
import { createJsonFileStore } from './json-file-store';
import type { Logger } from './logger';

export const PREFERENCES_FILE_NAME = 'preferences.json';

// Chromium 156 gives device ids of 64 hex characters, and labels are short
// product names; the limits only keep garbage out of the file.
const MAX_DEVICE_ID_LENGTH = 256;
const MAX_DEVICE_LABEL_LENGTH = 256;

const audioDeviceChoiceSchema = z
  .strictObject({
    deviceId: z.string().min(1).max(MAX_DEVICE_ID_LENGTH),
    label: z.string().max(MAX_DEVICE_LABEL_LENGTH),
  })
  .nullable();

/** Validates preferences from the renderer; the country must be an upper-case ISO 3166-1 alpha-2 code. */
export const preferencesSchema = z.strictObject({
  audio: z.strictObject({
    microphone: audioDeviceChoiceSchema,
    speaker: audioDeviceChoiceSchema,
    ringer: audioDeviceChoiceSchema,
  }),
  dialing: z.strictObject({
    defaultCountry: z
      .string()
      .regex(/^[A-Z]{2}$/, 'the country must be a two-letter ISO 3166-1 code such as "US"')
      .nullable(),
  }),
});

// A file from an older version may lack a field: missing fields take their
// default, but a field of the wrong type makes the file corrupt.
const preferencesFileSchema = z.object({
  audio: z
    .object({
      microphone: audioDeviceChoiceSchema.default(null),
      speaker: audioDeviceChoiceSchema.default(null),
      ringer: audioDeviceChoiceSchema.default(null),
    })
    .default(DEFAULT_PREFERENCES.audio),
  dialing: z
    .object({ defaultCountry: preferencesSchema.shape.dialing.shape.defaultCountry.default(null) })
    .default(DEFAULT_PREFERENCES.dialing),
});

export interface PreferencesStore {
  /** Reads the file; a missing or corrupt file gives the defaults. */
  load(): Promise<Preferences>;
  /** Validates and writes the preferences atomically; throws a `ZodError` for invalid ones. */
  save(preferences: Preferences): Promise<Preferences>;
}

/**
 * Creates the store of `preferences.json` in `directory`: audio devices and the
 * dialing country. A file that is not JSON or fails validation is renamed to
 * `preferences.json.corrupt`, a warning is logged, and the defaults are used.
 */
export function createPreferencesStore(directory: string, logger: Logger): PreferencesStore {
  return createJsonFileStore<Preferences>({
    directory,
    fileName: PREFERENCES_FILE_NAME,
    fileSchema: preferencesFileSchema,
    saveSchema: preferencesSchema,
    defaults: DEFAULT_PREFERENCES,
    logger,
    description: 'Preferences file',
    // Writes run in call order, so the last save wins on disk too.
    serializeWrites: true,
  });
}
