import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';

import { CALL_HISTORY_FILE_NAME, createCallHistoryStore, MAX_CALL_HISTORY_ENTRIES } from '../../src/main/call-history';
import { silentLogger } from '../../src/main/logger';
import type { CallHistorySnapshot } from '../../src/shared/call-history';
import { createTempDir, removeDir } from '../main/helpers';
import { fuzzRuns } from './fuzz-runs';

// Each case reads or writes a file, so this file runs a tenth of the cases.
const RUNS = Math.max(100, Math.floor(fuzzRuns() / 10));

const EXTENSION = /^[0-9]{1,15}$/;

let dir: string;

beforeAll(async () => {
  dir = await createTempDir('history-fuzz');
});

afterAll(async () => {
  await removeDir(dir);
});

/** Field values a stored entry may hold: valid ones, damaged ones and wrong types. */
const fieldValue = fc.oneof(
  fc.constantFrom('inbound', 'outbound', 'answered', 'missed', 'rejected', 'lost', '', null, 0, -1, true, [], {}),
  fc.constantFrom('+16505550101', '101', '*67', 'sip:bob@example.com', 'sip:bob:secret@example.com', '+1 650', '42', '4x2'),
  fc.integer({ min: -2, max: 2_000_000_000_000 }),
  fc.string({ maxLength: 40 }),
);

const FIELDS = ['direction', 'number', 'extension', 'name', 'startedAt', 'durationSeconds', 'result', 'detail', 'id', 'sequence'];

/** An entry close to a stored one: a valid base with some fields replaced, removed or added. */
const nearEntry = fc
  .record({
    sequence: fc.integer({ min: 0, max: 20 }),
    changes: fc.dictionary(fc.constantFrom(...FIELDS, 'extra'), fc.option(fieldValue, { nil: undefined }), { maxKeys: 3 }),
  })
  .map(({ sequence, changes }) => {
    const entry: Record<string, unknown> = {
      direction: 'outbound',
      number: '+16505550101',
      extension: '42',
      name: null,
      startedAt: 1_700_000_000_000 + sequence,
      durationSeconds: 3,
      result: 'answered',
      detail: null,
      id: `call-${sequence}`,
      sequence,
    };
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) delete entry[field];
      else entry[field] = value;
    }
    return entry;
  });

const historyText = fc.oneof(
  fc.json(),
  fc
    .record({
      version: fc.constantFrom<unknown>(1, 2, '1'),
      nextSequence: fc.integer({ min: -1, max: 30 }),
      missedSeenBefore: fc.integer({ min: 0, max: 30 }),
      entries: fc.array(nearEntry, { maxLength: 8 }),
    })
    .map((file) => JSON.stringify(file)),
);

/** Checks what any loaded history must be: unique ids, no more than the maximum, only valid extensions. */
function expectConsistent(snapshot: CallHistorySnapshot): void {
  const ids = snapshot.entries.map((entry) => entry.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(snapshot.entries.length).toBeLessThanOrEqual(MAX_CALL_HISTORY_ENTRIES);
  for (const entry of snapshot.entries) {
    if (entry.extension !== null) {
      expect(entry.extension).toMatch(EXTENSION);
      expect(entry.number).toMatch(/^\+[1-9][0-9]{1,14}$/);
    }
  }
}

describe('call history file fuzzing', () => {
  it('loads any file and adds with a unique id', async () => {
    await fc.assert(
      fc.asyncProperty(historyText, async (text) => {
        await rm(join(dir, `${CALL_HISTORY_FILE_NAME}.corrupt`), { force: true });
        await writeFile(join(dir, CALL_HISTORY_FILE_NAME), text);
        const store = createCallHistoryStore(dir, silentLogger);

        const loaded = await store.snapshot();
        expectConsistent(loaded);

        const added = await store.add({
          direction: 'inbound',
          number: '+16505550102',
          extension: null,
          name: null,
          // Later than any generated start, so the new entry sorts first.
          startedAt: 3_000_000_000_000,
          durationSeconds: 0,
          result: 'missed',
          detail: null,
        });
        expectConsistent(added);
        expect(added.entries[0]?.number).toBe('+16505550102');
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects a bad entry only with a ZodError', async () => {
    await fc.assert(
      fc.asyncProperty(nearEntry, async (candidate) => {
        await rm(join(dir, CALL_HISTORY_FILE_NAME), { force: true });
        const store = createCallHistoryStore(dir, silentLogger);
        const { id: _id, sequence: _sequence, ...entry } = candidate;

        try {
          expectConsistent(await store.add(entry as never));
        } catch (error) {
          expect(error).toBeInstanceOf(ZodError);
          expect((await store.snapshot()).entries).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
