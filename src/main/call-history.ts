import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import type { CallHistoryEntry, CallHistorySnapshot, NewCallHistoryEntry } from '../shared/call-history';
import { MAX_PHONE_EXTENSION_DIGITS } from '../shared/desktop';
import type { Logger } from './logger';
import { writeFileAtomic } from './settings';

export const CALL_HISTORY_FILE_NAME = 'call-history.json';

/** Entries kept; older ones are dropped when a new call is recorded. */
export const MAX_CALL_HISTORY_ENTRIES = 500;

const MAX_NAME_LENGTH = 256;
const MAX_DETAIL_LENGTH = 200;
const MAX_NUMBER_LENGTH = 256;
/** A longer duration comes from a wrong clock, so it is rejected. */
const MAX_DURATION_SECONDS = 7 * 24 * 3600;

// Numbers, extensions and feature codes; or a SIP URI without a password,
// parameters or headers, because those can carry tokens.
const DIALABLE_NUMBER = /^\+?[0-9*#]{1,32}$/;
const PLAIN_SIP_URI = /^sips?:[^@\s:;?<>"]+@[A-Za-z0-9.\-[\]:]+$/i;
const EXTENSION_DIGITS = new RegExp(`^[0-9]{1,${MAX_PHONE_EXTENSION_DIGITS}}$`);
const E164_NUMBER = /^\+[1-9][0-9]{1,14}$/;

/** The fields of one call as the renderer reports it, checked one by one. */
const entryFields = {
  direction: z.enum(['inbound', 'outbound']),
  number: z
    .string()
    .max(MAX_NUMBER_LENGTH)
    .refine((number) => DIALABLE_NUMBER.test(number) || PLAIN_SIP_URI.test(number), {
      message: 'the number must be a phone number, an extension, a feature code or a SIP URI without password or parameters',
    }),
  // Entries recorded before extensions were kept have none, and entries without
  // one are stored without the field.
  extension: z
    .string()
    .regex(EXTENSION_DIGITS, { message: `the extension must be 1 to ${MAX_PHONE_EXTENSION_DIGITS} digits` })
    .nullable()
    .default(null),
  name: z.string().max(MAX_NAME_LENGTH).nullable(),
  startedAt: z.number().int().positive(),
  durationSeconds: z.number().int().min(0).max(MAX_DURATION_SECONDS),
  result: z.enum(['answered', 'answered-elsewhere', 'missed', 'declined', 'cancelled', 'busy', 'rejected', 'failed']),
  detail: z.string().max(MAX_DETAIL_LENGTH).nullable(),
};

/** Tells whether an entry's extension can be dialed again: only after an E.164 number, as `number;ext=NN`. */
function extensionFitsNumber(entry: { number: string; extension: string | null }): boolean {
  return entry.extension === null || E164_NUMBER.test(entry.number);
}

const EXTENSION_WITHOUT_NUMBER = {
  message: 'an extension is kept only after a phone number in E.164 form',
  path: ['extension'],
};

/**
 * Validates an entry from the renderer. Only the fields of `NewCallHistoryEntry`
 * pass, so no SIP header, credential or SDP can end up in the file.
 */
export const newCallHistoryEntrySchema = z.strictObject(entryFields).refine(extensionFitsNumber, EXTENSION_WITHOUT_NUMBER);

/**
 * One entry of the file. Unknown fields are dropped rather than rejected, so a
 * file written by a newer release that adds fields still loads.
 */
const storedEntrySchema = z
  .object({
    ...entryFields,
    id: z.string().min(1),
    /** Order in which entries were recorded, for the missed-call count. */
    sequence: z.number().int().nonnegative(),
  })
  .refine(extensionFitsNumber, EXTENSION_WITHOUT_NUMBER);

/** The file's frame. Its entries are checked one by one, so one invalid entry does not cost the others. */
const historyFileSchema = z.object({
  version: z.literal(1),
  nextSequence: z.number().int().nonnegative(),
  /** Missed calls with a lower sequence were seen by the user. */
  missedSeenBefore: z.number().int().nonnegative(),
  entries: z.array(z.unknown()).max(MAX_CALL_HISTORY_ENTRIES),
});

type StoredEntry = z.infer<typeof storedEntrySchema>;

interface HistoryFile {
  version: 1;
  nextSequence: number;
  missedSeenBefore: number;
  entries: StoredEntry[];
}

const EMPTY_HISTORY: HistoryFile = { version: 1, nextSequence: 0, missedSeenBefore: 0, entries: [] };

export interface CallHistoryStore {
  snapshot(): Promise<CallHistorySnapshot>;
  /** Validates and records one ended call; throws a `ZodError` for an invalid entry. */
  add(entry: NewCallHistoryEntry): Promise<CallHistorySnapshot>;
  /** Marks every missed call recorded so far as seen, so the missed-call count drops to 0. */
  markMissedSeen(): Promise<CallHistorySnapshot>;
  clear(): Promise<CallHistorySnapshot>;
  /** Calls `listener` after every change, for example to show the missed-call count in the tray. */
  subscribe(listener: (snapshot: CallHistorySnapshot) => void): () => void;
}

/**
 * Creates the call history kept in `call-history.json` in `directory`, newest
 * call first and at most `MAX_CALL_HISTORY_ENTRIES` long. Changes run one at a
 * time and each is written atomically before its promise resolves. A file that
 * is not JSON or fails validation is renamed to `call-history.json.corrupt`, a
 * warning is logged, and the history starts empty.
 */
export function createCallHistoryStore(directory: string, logger: Logger): CallHistoryStore {
  const path = join(directory, CALL_HISTORY_FILE_NAME);
  const listeners = new Set<(snapshot: CallHistorySnapshot) => void>();
  let history: Promise<HistoryFile> | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  const current = (): Promise<HistoryFile> => {
    history ??= loadHistory(path, logger);
    return history;
  };

  /** Runs `change` after the earlier ones, writes its result and notifies listeners. */
  const update = (change: (file: HistoryFile) => HistoryFile): Promise<CallHistorySnapshot> => {
    const result = queue.then(async () => {
      const next = change(await current());
      await writeFileAtomic(path, `${JSON.stringify(next, omitNullExtension)}\n`);
      history = Promise.resolve(next);

      const snapshot = toSnapshot(next);
      for (const listener of listeners) {
        try {
          listener(snapshot);
        } catch (error) {
          logger.error('A call history listener threw', { error });
        }
      }
      return snapshot;
    });
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    async snapshot() {
      await queue;
      return toSnapshot(await current());
    },

    async add(entry) {
      const valid = newCallHistoryEntrySchema.parse(entry);
      return update((file) => {
        let sequence = file.nextSequence;
        // Ids follow the sequence; a hand-edited file may already use the next one.
        while (file.entries.some((stored) => stored.id === `call-${sequence}`)) sequence += 1;
        const stored = { ...valid, id: `call-${sequence}`, sequence };
        const entries = [stored, ...file.entries]
          .sort((a, b) => b.startedAt - a.startedAt || b.sequence - a.sequence)
          .slice(0, MAX_CALL_HISTORY_ENTRIES);
        return { ...file, nextSequence: sequence + 1, entries };
      });
    },

    markMissedSeen() {
      return update((file) => ({ ...file, missedSeenBefore: file.nextSequence }));
    },

    clear() {
      return update((file) => ({ ...file, missedSeenBefore: file.nextSequence, entries: [] }));
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function toSnapshot(file: HistoryFile): CallHistorySnapshot {
  const entries: CallHistoryEntry[] = file.entries.map(({ sequence: _sequence, ...entry }) => entry);
  const missedCount = file.entries.filter(
    (entry) => entry.result === 'missed' && entry.sequence >= file.missedSeenBefore,
  ).length;
  return { entries, missedCount };
}

async function loadHistory(path: string, logger: Logger): Promise<HistoryFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_HISTORY;
    logger.error('Could not read the call history; starting with an empty one', { path, error });
    return EMPTY_HISTORY;
  }

  let problem: string;
  try {
    const result = historyFileSchema.safeParse(JSON.parse(text));
    if (result.success) return await readEntries(result.data, path, text, logger);
    problem = z.prettifyError(result.error);
  } catch (error) {
    problem = `not JSON: ${(error as Error).message}`;
  }

  const corruptPath = `${path}.corrupt`;
  try {
    await rename(path, corruptPath);
  } catch (error) {
    logger.error('Could not move the invalid call history aside', { path, corruptPath, error });
  }
  logger.warn('Call history file is invalid; starting with an empty one and keeping the bad file', {
    path,
    corruptPath,
    problem,
  });
  return EMPTY_HISTORY;
}

/**
 * Checks the entries of a history file one by one. Invalid entries and repeated
 * ids are dropped, with a warning and a copy of the whole file kept as
 * `call-history.json.corrupt`. The sequence counter moves past every entry kept.
 */
async function readEntries(
  file: z.infer<typeof historyFileSchema>,
  path: string,
  text: string,
  logger: Logger,
): Promise<HistoryFile> {
  const entries: StoredEntry[] = [];
  const ids = new Set<string>();
  const problems: string[] = [];

  for (const [index, candidate] of file.entries.entries()) {
    const result = storedEntrySchema.safeParse(candidate);
    if (!result.success) {
      problems.push(`entry ${index}: ${z.prettifyError(result.error)}`);
    } else if (ids.has(result.data.id)) {
      problems.push(`entry ${index}: the id ${result.data.id} is used by an earlier entry`);
    } else {
      ids.add(result.data.id);
      entries.push(result.data);
    }
  }

  if (problems.length > 0) {
    const corruptPath = `${path}.corrupt`;
    try {
      await writeFileAtomic(corruptPath, text);
    } catch (error) {
      logger.error('Could not keep a copy of the call history with invalid entries', { path, corruptPath, error });
    }
    logger.warn('Call history file has invalid entries; dropping them and keeping a copy of the file', {
      path,
      corruptPath,
      dropped: problems.length,
      problems: problems.slice(0, 5),
    });
  }

  const nextSequence = Math.max(file.nextSequence, ...entries.map((entry) => entry.sequence + 1));
  return { version: 1, nextSequence, missedSeenBefore: file.missedSeenBefore, entries };
}

/**
 * Leaves `extension` out of the file when it is null. Releases before
 * extensions were kept reject a file whose entries have fields they do not
 * know: they move it aside and start with an empty history. Without the field,
 * entries without an extension stay readable to them.
 * NOTE: a file with an extension in any entry is still moved aside by those releases.
 */
function omitNullExtension(key: string, value: unknown): unknown {
  return key === 'extension' && value === null ? undefined : value;
}
