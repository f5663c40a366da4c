import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import type { PublicSettings } from '../shared/app-state';
import type { Logger } from './logger';
import { InvalidServerUrlError, normalizeCustomServerUrl } from './platform-servers';

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
export const publicSettingsSchema = z
  .strictObject({
    server: z.enum(['production', 'sandbox', 'custom']),
    customServerUrl: z.string().trim().max(MAX_URL_LENGTH),
    clientId: z
      .string()
      .trim()
      .max(MAX_CLIENT_ID_LENGTH)
      .regex(/^[A-Za-z0-9_.~-]*$/, 'client id may contain only letters, digits and "_.~-"'),
  })
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
  const path = join(directory, SETTINGS_FILE_NAME);

  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if (isNotFound(error)) {
          return { ...DEFAULT_SETTINGS };
        }
        throw error;
      }

      const parsed = parseSettingsFile(text);
      if (parsed.ok) {
        return parsed.settings;
      }

      const corruptPath = `${path}.corrupt`;
      await rename(path, corruptPath);
      logger.warn('Settings file is invalid; using the defaults and keeping the bad file', {
        path,
        corruptPath,
        problem: parsed.reason,
      });
      return { ...DEFAULT_SETTINGS };
    },

    async save(settings) {
      const valid = publicSettingsSchema.parse(settings);
      await writeFileAtomic(path, `${JSON.stringify(valid, null, 2)}\n`);
      return valid;
    },
  };
}

function parseSettingsFile(text: string): { ok: true; settings: PublicSettings } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }

  const result = settingsFileSchema.safeParse(json);
  if (!result.success) {
    return { ok: false, reason: z.prettifyError(result.error) };
  }
  return { ok: true, settings: result.data };
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
    const stored = (await readFile(path, 'utf8')).trim();
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

/**
 * Writes `data` to a temporary file beside `path`, then renames it over `path`, so
 * a crash leaves either the old or the new file and never a partial one.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const directory = join(path, '..');
  await mkdir(directory, { recursive: true });

  const temporaryPath = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporaryPath, data, { encoding: 'utf8', mode: 0o600 });
    await rename(temporaryPath, path);
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
