import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { z } from 'zod';

import type { PublicSettings } from '../shared/app-state';
import { createJsonFileStore, isNotFound, readRegularFile, writeFileAtomic } from './json-file-store';
import type { Logger } from './logger';
import { InvalidServerUrlError, normalizeCustomServerUrl } from './platform-servers';

// Re-exported because other modules in src/main import the atomic write from this file.
export { writeFileAtomic } from './json-file-store';

export const SETTINGS_FILE_NAME = 'settings.json';
export const INSTANCE_ID_FILE_NAME = 'instance-id';

export const DEFAULT_SETTINGS: PublicSettings = {
  server: 'production',
  customServerUrl: '',
  clientId: '',
};

// RingCentral client ids are short alphanumeric strings; the limit only keeps
// garbage out of the settings file and the token request.
const MAX_CLIENT_ID_LENGTH = 200;
const MAX_URL_LENGTH = 2048;

/**
 * Validates `PublicSettings` from the renderer or the settings file. The custom
 * server URL must be an http(s) URL when `server` is `custom`. With another server
 * it may also be empty, so switching servers back and forth keeps it.
 */
/** The shape of the settings: types and lengths, without the URL rules. */
export const publicSettingsShapeSchema = z.strictObject({
  server: z.enum(['production', 'sandbox', 'custom']),
  customServerUrl: z.string().trim().max(MAX_URL_LENGTH, `the URL is longer than ${MAX_URL_LENGTH} characters`),
  clientId: z
    .string()
    .trim()
    .max(MAX_CLIENT_ID_LENGTH, `the client id is longer than ${MAX_CLIENT_ID_LENGTH} characters`)
    .regex(/^[A-Za-z0-9_.~-]*$/, 'the client id may contain only letters, digits and "_.~-"'),
});

export const publicSettingsSchema = publicSettingsShapeSchema
  .superRefine((settings, context) => {
    if (settings.customServerUrl === '' && settings.server !== 'custom') {
      return;
    }
    try {
      normalizeCustomServerUrl(settings.customServerUrl);
    } catch (error) {
      if (!(error instanceof InvalidServerUrlError)) {
        throw error;
      }
      context.addIssue({ code: 'custom', path: ['customServerUrl'], message: error.message });
    }
  });

// The file may come from an older version that lacked a field: missing fields
// take their default, but a field of the wrong type makes the file corrupt.
const settingsFileSchema = z
  .object({
    server: z.unknown().default(DEFAULT_SETTINGS.server),
    customServerUrl: z.unknown().default(DEFAULT_SETTINGS.customServerUrl),
    clientId: z.unknown().default(DEFAULT_SETTINGS.clientId),
  })
  .pipe(publicSettingsSchema);

export interface SettingsStore {
  /** Reads the settings file; a missing file gives the defaults, a corrupt one too (see `createSettingsStore`). */
  load(): Promise<PublicSettings>;
  /** Validates and writes the settings atomically; throws a `ZodError` for invalid settings. */
  save(settings: PublicSettings): Promise<PublicSettings>;
}

/**
 * Creates the store of `settings.json` in `directory`. A file that is not JSON or
 * fails validation is renamed to `settings.json.corrupt` (replacing an older one),
 * a warning is logged, and the defaults are used.
 */
export function createSettingsStore(directory: string, logger: Logger): SettingsStore {
  return createJsonFileStore<PublicSettings>({
    directory,
    fileName: SETTINGS_FILE_NAME,
    fileSchema: settingsFileSchema,
    saveSchema: publicSettingsSchema,
    defaults: DEFAULT_SETTINGS,
    logger,
    description: 'Settings file',
  });
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Returns this installation's SIP instance id (RFC 5626 `+sip.instance`), creating
 * it on first use in `directory/instance-id`. It must survive restarts, because RingCentral
 * accepts at most 5 registered instances per extension and rejects more with
 * `603 Too Many Contacts`. It is not a secret.
 */
export async function loadOrCreateInstanceId(directory: string, logger: Logger): Promise<string> {
  const path = join(directory, INSTANCE_ID_FILE_NAME);

  try {
    const stored = (await readRegularFile(path, 'Instance id file')).trim();
    if (UUID_PATTERN.test(stored)) {
      return stored;
    }
    logger.warn('Instance id file does not contain a UUID; creating a new id', { path });
  } catch (error) {
    if (!isNotFound(error)) {
      throw error;
    }
  }

  const instanceId = randomUUID();
  await writeFileAtomic(path, `${instanceId}\n`);
  logger.info('Created a new SIP instance id', { path, instanceId });
  return instanceId;
}
