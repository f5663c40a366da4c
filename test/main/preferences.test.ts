import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';

import { silentLogger } from '../../src/main/logger';
import { createPreferencesStore, PREFERENCES_FILE_NAME } from '../../src/main/preferences';
import { DEFAULT_PREFERENCES, type Preferences } from '../../src/shared/preferences';
import { createRecordingLogger, createTempDir, removeDir } from './helpers';

let dir: string;

beforeEach(async () => {
  dir = await createTempDir('preferences');
});

afterEach(async () => {
  await removeDir(dir);
});

const CHOSEN: Preferences = {
  audio: {
    microphone: { deviceId: 'a'.repeat(64), label: 'USB Headset Microphone' },
    speaker: { deviceId: 'b'.repeat(64), label: 'USB Headset' },
    ringer: { deviceId: 'default', label: 'Default - Speakers' },
  },
  dialing: { defaultCountry: 'GB' },
};

describe('preferences store', () => {
  it('returns the defaults without a file', async () => {
    expect(await createPreferencesStore(dir, silentLogger).load()).toEqual(DEFAULT_PREFERENCES);
  });

  it('keeps saved preferences across store instances', async () => {
    await createPreferencesStore(dir, silentLogger).save(CHOSEN);

    expect(await createPreferencesStore(dir, silentLogger).load()).toEqual(CHOSEN);
  });

  it('keeps the last of concurrent saves', async () => {
    const store = createPreferencesStore(dir, silentLogger);
    const second: Preferences = { ...CHOSEN, dialing: { defaultCountry: 'US' } };

    await Promise.all([store.save(CHOSEN), store.save(second)]);

    expect(await store.load()).toEqual(second);
  });

  it('fills fields a file from an older version lacks', async () => {
    await writeFile(join(dir, PREFERENCES_FILE_NAME), JSON.stringify({ audio: { speaker: CHOSEN.audio.speaker } }));

    expect(await createPreferencesStore(dir, silentLogger).load()).toEqual({
      audio: { microphone: null, speaker: CHOSEN.audio.speaker, ringer: null },
      dialing: { defaultCountry: null },
    });
  });

  it.each([
    ['a lower-case country', { ...CHOSEN, dialing: { defaultCountry: 'gb' } }],
    ['an empty device id', { ...CHOSEN, audio: { ...CHOSEN.audio, speaker: { deviceId: '', label: 'x' } } }],
    ['an extra field', { ...CHOSEN, token: 'x' }],
  ])('rejects %s', async (_name, preferences) => {
    await expect(createPreferencesStore(dir, silentLogger).save(preferences as Preferences)).rejects.toBeInstanceOf(
      ZodError,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('moves a corrupt file aside and uses the defaults', async () => {
    await writeFile(join(dir, PREFERENCES_FILE_NAME), '{not json');
    const logger = createRecordingLogger();

    expect(await createPreferencesStore(dir, logger).load()).toEqual(DEFAULT_PREFERENCES);
    expect(await readdir(dir)).toEqual([`${PREFERENCES_FILE_NAME}.corrupt`]);
    expect(logger.lines[0]?.level).toBe('warn');
  });
});
