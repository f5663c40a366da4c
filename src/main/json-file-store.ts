import { randomUUID } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import type { Logger } from './logger';

export interface JsonFileStoreOptions<T> {
  directory: string;
  fileName: string;
  /** Parses the file's JSON, which may come from an older version, into a value. */
  fileSchema: z.ZodType<T>;
  /** Schema that `save` validates each value with. A `ZodError` from it rejects the save. */
  saveSchema: z.ZodType<T>;
  /** Value for a missing or corrupt file. `load` returns a deep copy of it. */
  defaults: T;
  logger: Logger;
  /** Name of the file in the warning about a corrupt file, such as "Settings file". */
  description: string;
  /**
   * Runs saves in call order and makes `load` wait for pending saves, so the last
   * save wins on disk and a later load reads it. Off by default.
   */
  serializeWrites?: boolean;
}

export interface JsonFileStore<T> {
  /** Reads the file. A missing or corrupt file gives a copy of the defaults. */
  load(): Promise<T>;
  /** Validates the value with `saveSchema`, writes it atomically and returns the validated value. */
  save(value: T): Promise<T>;
}

/**
 * Creates a store of one JSON file, `fileName` in `directory`. A file that is not
 * JSON or fails `fileSchema` is renamed to `<fileName>.corrupt` (replacing an older
 * one), a warning is logged, and the defaults are used. Other read errors reject
 * `load`, among them `NotARegularFileError` for a FIFO, a directory or a device.
 */
export function createJsonFileStore<T>(options: JsonFileStoreOptions<T>): JsonFileStore<T> {
  const { fileSchema, saveSchema, defaults, logger, description } = options;
  const path = join(options.directory, options.fileName);
  let writes: Promise<unknown> = Promise.resolve();

  const write = async (value: T): Promise<void> => {
    const data = `${JSON.stringify(value, null, 2)}\n`;
    if (!options.serializeWrites) {
      await writeFileAtomic(path, data);
      return;
    }
    const pending = writes.then(() => writeFileAtomic(path, data));
    writes = pending.catch(() => undefined);
    await pending;
  };

  return {
    async load() {
      await writes;

      let text: string;
      try {
        text = await readRegularFile(path, description);
      } catch (error) {
        if (isNotFound(error)) {
          return structuredClone(defaults);
        }
        throw error;
      }

      const parsed = parseJsonFile(text, fileSchema);
      if (parsed.ok) {
        return parsed.value;
      }

      const corruptPath = `${path}.corrupt`;
      await rename(path, corruptPath);
      logger.warn(`${description} is invalid; using the defaults and keeping the bad file`, {
        path,
        corruptPath,
        problem: parsed.reason,
      });
      return structuredClone(defaults);
    },

    async save(value) {
      const valid = saveSchema.parse(value);
      await write(valid);
      return valid;
    },
  };
}

function parseJsonFile<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; reason: string } {
  let json: unknown;
  try {
    // Editors such as Notepad save UTF-8 with a byte-order mark, which JSON.parse rejects.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }

  const result = schema.safeParse(json);
  if (!result.success) {
    return { ok: false, reason: z.prettifyError(result.error) };
  }
  return { ok: true, value: result.data };
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

/** A data file path that names a FIFO, a directory, a socket or a device instead of a regular file. */
export class NotARegularFileError extends Error {
  override readonly name = 'NotARegularFileError';

  constructor(
    readonly path: string,
    readonly kind: string,
    description: string,
  ) {
    super(
      `${description} ${path} is a ${kind}, not a regular file, so RC Softphone cannot read it. ` +
        'Delete or rename it, then start RC Softphone again.',
    );
  }
}

/**
 * Reads a regular file as UTF-8. The file is opened without blocking and checked
 * on the open handle, because a blocking open of a FIFO waits until a writer opens it.
 * Throws `NotARegularFileError` for anything but a regular file, and the file
 * system error (ENOENT for a missing file) when the open fails.
 */
export async function readRegularFile(path: string, description: string): Promise<string> {
  // O_NONBLOCK is undefined on Windows, whose named pipes are not in the file system tree.
  const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new NotARegularFileError(path, fileKind(stats), description);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  return 'special file';
}

/** Tells whether a file system error means the file does not exist. */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
