import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';

import {
  CALL_HISTORY_FILE_NAME,
  createCallHistoryStore,
  MAX_CALL_HISTORY_ENTRIES,
} from '../../src/main/call-history';
import { silentLogger } from '../../src/main/logger';
import type { NewCallHistoryEntry } from '../../src/shared/call-history';
import { createRecordingLogger, createTempDir, removeDir } from './helpers';

let dir: string;

beforeEach(async () => {
  dir = await createTempDir('history');
});

afterEach(async () => {
  await removeDir(dir);
});

function entry(change: Partial<NewCallHistoryEntry> = {}): NewCallHistoryEntry {
  return {
    direction: 'inbound',
    number: '+16505550101',
    extension: null,
    name: 'Alice Bench',
    startedAt: 1_700_000_000_000,
    durationSeconds: 0,
    result: 'missed',
    detail: null,
    ...change,
  };
}

/** Writes a history file with `entries` as stored, and returns its text. */
async function writeHistoryFile(entries: object[], nextSequence: number): Promise<string> {
  const text = JSON.stringify({ version: 1, nextSequence, missedSeenBefore: 0, entries });
  await writeFile(join(dir, CALL_HISTORY_FILE_NAME), text);
  return text;
}

describe('call history store', () => {
  it('starts empty without a file', async () => {
    const store = createCallHistoryStore(dir, silentLogger);

    expect(await store.snapshot()).toEqual({ entries: [], missedCount: 0 });
  });

  it('keeps entries across store instances, newest first', async () => {
    const first = createCallHistoryStore(dir, silentLogger);
    await first.add(entry({ startedAt: 1_000, result: 'answered', durationSeconds: 42, direction: 'outbound' }));
    await first.add(entry({ startedAt: 3_000 }));
    await first.add(entry({ startedAt: 2_000, number: '101', name: null, result: 'declined' }));

    const snapshot = await createCallHistoryStore(dir, silentLogger).snapshot();

    expect(snapshot.entries.map((stored) => stored.startedAt)).toEqual([3_000, 2_000, 1_000]);
    expect(snapshot.entries[2]).toMatchObject({ direction: 'outbound', result: 'answered', durationSeconds: 42 });
    expect(new Set(snapshot.entries.map((stored) => stored.id)).size).toBe(3);
    expect(snapshot.missedCount).toBe(1);
  });

  it('counts missed calls until they are marked seen', async () => {
    const store = createCallHistoryStore(dir, silentLogger);
    await store.add(entry());
    await store.add(entry({ startedAt: 1_700_000_001_000 }));
    expect((await store.snapshot()).missedCount).toBe(2);

    expect((await store.markMissedSeen()).missedCount).toBe(0);
    // A call that started earlier but ended after the user looked still counts.
    expect((await store.add(entry({ startedAt: 1 }))).missedCount).toBe(1);
    expect((await createCallHistoryStore(dir, silentLogger).snapshot()).missedCount).toBe(1);
  });

  it(`keeps at most ${MAX_CALL_HISTORY_ENTRIES} entries`, async () => {
    const store = createCallHistoryStore(dir, silentLogger);
    for (let index = 0; index < MAX_CALL_HISTORY_ENTRIES + 3; index += 1) {
      await store.add(entry({ startedAt: 1_000 + index, result: 'answered' }));
    }

    const snapshot = await store.snapshot();

    expect(snapshot.entries).toHaveLength(MAX_CALL_HISTORY_ENTRIES);
    expect(snapshot.entries.at(-1)?.startedAt).toBe(1_003);
  });

  it('writes nothing but the entry fields', async () => {
    const store = createCallHistoryStore(dir, silentLogger);
    await store.add(entry({ number: 'sip:alice@example.com' }));

    const file = JSON.parse(await readFile(join(dir, CALL_HISTORY_FILE_NAME), 'utf8')) as { entries: object[] };

    expect(Object.keys(file.entries[0]!).sort()).toEqual(
      ['detail', 'direction', 'durationSeconds', 'id', 'name', 'number', 'result', 'sequence', 'startedAt'].sort(),
    );
    expect(await readdir(dir)).toEqual([CALL_HISTORY_FILE_NAME]);
  });

  it.each([
    ['a SIP URI with a password', { number: 'sip:alice:secret@example.com' }],
    ['a SIP URI with parameters', { number: 'sip:alice@example.com;token=abc' }],
    ['an extra field', { password: 'x' }],
    ['a negative duration', { durationSeconds: -1 }],
    ['an unknown result', { result: 'lost' }],
    ['an extension with a letter', { extension: '4x2' }],
    ['an extension of 16 digits', { extension: '1234567890123456' }],
    ['an extension after a SIP URI', { number: 'sip:bob@example.com', extension: '42' }],
    ['an extension after an extension', { number: '101', extension: '42' }],
    ['an extension after a feature code', { number: '*67', extension: '42' }],
  ])('rejects an entry with %s', async (_name, change) => {
    const store = createCallHistoryStore(dir, silentLogger);

    await expect(store.add(entry(change as Partial<NewCallHistoryEntry>))).rejects.toBeInstanceOf(ZodError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps the extension dialed after the number', async () => {
    const store = createCallHistoryStore(dir, silentLogger);
    await store.add(entry({ direction: 'outbound', extension: '42', result: 'answered' }));

    const [stored] = (await createCallHistoryStore(dir, silentLogger).snapshot()).entries;
    const file = JSON.parse(await readFile(join(dir, CALL_HISTORY_FILE_NAME), 'utf8')) as { entries: object[] };

    expect(stored).toMatchObject({ number: '+16505550101', extension: '42' });
    expect(file.entries[0]).toMatchObject({ extension: '42' });
  });

  it('loads entries with fields a newer release added', async () => {
    await writeHistoryFile([{ ...entry(), id: 'call-0', sequence: 0, recordingUrl: 'https://media.example/1' }], 1);

    const snapshot = await createCallHistoryStore(dir, silentLogger).snapshot();

    expect(snapshot.entries).toEqual([{ ...entry(), id: 'call-0' }]);
  });

  it('reads entries stored without an extension field as having none', async () => {
    const { extension: _extension, ...withoutExtension } = entry();
    await writeHistoryFile([{ ...withoutExtension, id: 'call-0', sequence: 0 }], 1);

    const snapshot = await createCallHistoryStore(dir, silentLogger).snapshot();

    expect(snapshot.entries).toEqual([{ ...entry(), id: 'call-0' }]);
    expect(snapshot.missedCount).toBe(1);
  });

  it('gives a new entry an unused id when the counter is behind', async () => {
    // As after a hand edit or a restored backup.
    await writeHistoryFile([{ ...entry(), id: 'call-0', sequence: 0 }], 0);

    const snapshot = await createCallHistoryStore(dir, silentLogger).add(entry({ startedAt: 1_700_000_001_000 }));
    const ids = snapshot.entries.map((stored) => stored.id);

    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('drops invalid entries and keeps the others', async () => {
    const text = await writeHistoryFile(
      [
        { ...entry(), number: '101', extension: '7', id: 'call-2', sequence: 2 },
        { ...entry(), id: 'call-1', sequence: 1 },
        { ...entry(), id: 'call-1', sequence: 0 },
      ],
      3,
    );
    const logger = createRecordingLogger();

    const snapshot = await createCallHistoryStore(dir, logger).snapshot();

    expect(snapshot.entries).toEqual([{ ...entry(), id: 'call-1' }]);
    expect(await readFile(join(dir, `${CALL_HISTORY_FILE_NAME}.corrupt`), 'utf8')).toBe(text);
    expect(logger.lines.map((line) => line.message)).toContain(
      'Call history file has invalid entries; dropping them and keeping a copy of the file',
    );
  });

  it('clears the history', async () => {
    const store = createCallHistoryStore(dir, silentLogger);
    await store.add(entry());

    expect(await store.clear()).toEqual({ entries: [], missedCount: 0 });
    expect((await createCallHistoryStore(dir, silentLogger).snapshot()).entries).toEqual([]);
  });

  it('tells subscribers about each change', async () => {
    const store = createCallHistoryStore(dir, silentLogger);
    const counts: number[] = [];
    store.subscribe((snapshot) => counts.push(snapshot.missedCount));

    await store.add(entry());
    await store.add(entry({ startedAt: 5 }));
    await store.markMissedSeen();

    expect(counts).toEqual([1, 2, 0]);
  });

  it('keeps concurrent additions', async () => {
    const store = createCallHistoryStore(dir, silentLogger);

    await Promise.all([1, 2, 3, 4].map((index) => store.add(entry({ startedAt: index }))));

    expect((await createCallHistoryStore(dir, silentLogger).snapshot()).entries).toHaveLength(4);
  });

  it('moves a corrupt file aside and starts empty', async () => {
    await writeFile(join(dir, CALL_HISTORY_FILE_NAME), '{"version":1,"entries":"oops"}');
    const logger = createRecordingLogger();
    const store = createCallHistoryStore(dir, logger);

    expect(await store.snapshot()).toEqual({ entries: [], missedCount: 0 });
    expect((await readdir(dir)).sort()).toEqual([`${CALL_HISTORY_FILE_NAME}.corrupt`]);
    expect(logger.lines.map((line) => line.message)).toContain(
      'Call history file is invalid; starting with an empty one and keeping the bad file',
    );
  });
});
