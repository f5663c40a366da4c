import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { NotARegularFileError } from '../../src/main/json-file-store';
import { normalizeCustomServerUrl, resolvePlatformBaseUrl } from '../../src/main/platform-servers';
import {
  createSettingsStore,
  DEFAULT_SETTINGS,
  INSTANCE_ID_FILE_NAME,
  loadOrCreateInstanceId,
  SETTINGS_FILE_NAME,
} from '../../src/main/settings';
import { createSoftphoneService } from '../../src/main/softphone-service';
import { silentLogger, type Logger } from '../../src/main/logger';
import { createMemoryCredentialStore, createRecordingLogger, createTempDir, removeDir } from './helpers';

let dir: string;

beforeEach(async () => {
  dir = await createTempDir('settings');
});

afterEach(async () => {
  await removeDir(dir);
});

describe('settings store', () => {
  it('returns the defaults when no file exists', async () => {
    const store = createSettingsStore(dir, silentLogger);

    expect(await store.load()).toEqual(DEFAULT_SETTINGS);
  });

  it('round-trips saved settings through the file', async () => {
    const store = createSettingsStore(dir, silentLogger);
    const settings = { server: 'custom', customServerUrl: 'http://127.0.0.1:8080/', clientId: 'abcDEF123' } as const;

    await store.save(settings);

    expect(await createSettingsStore(dir, silentLogger).load()).toEqual(settings);
    expect(await readdir(dir)).toEqual([SETTINGS_FILE_NAME]);
  });

  it('keeps a non-JSON file aside', async () => {
    const path = join(dir, SETTINGS_FILE_NAME);
    await writeFile(path, '{"server": "sandbox", ');
    const logger = createRecordingLogger();

    const settings = await createSettingsStore(dir, logger).load();

    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(await readFile(`${path}.corrupt`, 'utf8')).toBe('{"server": "sandbox", ');
    expect(await readdir(dir)).toEqual([`${SETTINGS_FILE_NAME}.corrupt`]);
    expect(logger.lines.map((line) => line.level)).toEqual(['warn']);
  });

  it('falls back on wrong field types', async () => {
    await writeFile(join(dir, SETTINGS_FILE_NAME), JSON.stringify({ server: 'moon', customServerUrl: 3, clientId: '' }));
    const logger = createRecordingLogger();

    expect(await createSettingsStore(dir, logger).load()).toEqual(DEFAULT_SETTINGS);
    expect(logger.lines[0]?.fields?.['problem']).toContain('server');
  });

  it('fills fields missing from an older file with defaults', async () => {
    await writeFile(join(dir, SETTINGS_FILE_NAME), JSON.stringify({ server: 'sandbox' }));

    expect(await createSettingsStore(dir, silentLogger).load()).toEqual({ ...DEFAULT_SETTINGS, server: 'sandbox' });
  });

  it('rejects a custom server without a usable URL', async () => {
    const store = createSettingsStore(dir, silentLogger);

    await expect(store.save({ server: 'custom', customServerUrl: '', clientId: 'x' })).rejects.toThrow(/empty/);
    await expect(store.save({ server: 'custom', customServerUrl: 'ftp://host', clientId: 'x' })).rejects.toThrow(
      /http or https/,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('platform base URL', () => {
  it('selects production, sandbox and custom servers', () => {
    expect(resolvePlatformBaseUrl({ server: 'production', customServerUrl: '' })).toBe('https://platform.ringcentral.com');
    expect(resolvePlatformBaseUrl({ server: 'sandbox', customServerUrl: 'ignored' })).toBe(
      'https://platform.devtest.ringcentral.com',
    );
    expect(resolvePlatformBaseUrl({ server: 'custom', customServerUrl: ' http://127.0.0.1:9/ ' })).toBe(
      'http://127.0.0.1:9',
    );
  });

  it('rejects custom URLs that are not plain http(s)', () => {
    for (const value of ['not a url', 'file:///etc/passwd', 'https://user:pw@host', 'https://host/?a=1', 'javascript:alert(1)']) {
      expect(() => normalizeCustomServerUrl(value), value).toThrow(/Invalid custom server URL/);
    }
  });
});

/** Creates a service on the test folder with an in-memory keychain and no network. */
function createOfflineService(logger: Logger) {
  return createSoftphoneService({
    fetch: () => Promise.reject(new Error('no network in this test')),
    credentialStore: createMemoryCredentialStore(),
    settingsDir: dir,
    appName: 'RCSoftphone',
    appVersion: '0.1.0',
    now: Date.now,
    logger,
  });
}

describe('instance id', () => {
  it('stays the same across two services on one folder', async () => {
    const create = () => createOfflineService(silentLogger);

    const first = create();
    await first.ready;
    const firstId = (await readFile(join(dir, INSTANCE_ID_FILE_NAME), 'utf8')).trim();
    const second = create();
    await second.ready;

    expect(firstId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await loadOrCreateInstanceId(dir, silentLogger)).toBe(firstId);
    expect((await readFile(join(dir, INSTANCE_ID_FILE_NAME), 'utf8')).trim()).toBe(firstId);
  });

  it('replaces a file that does not hold a UUID', async () => {
    await writeFile(join(dir, INSTANCE_ID_FILE_NAME), 'garbage');

    const id = await loadOrCreateInstanceId(dir, silentLogger);

    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loadOrCreateInstanceId(dir, silentLogger)).toBe(id);
  });
});

describe('settings file with a byte-order mark', () => {
  it('reads it as the same settings', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'settings-bom-'));
    const settings = { server: 'custom', customServerUrl: 'http://127.0.0.1:8080', clientId: 'abc' };
    await writeFile(join(directory, SETTINGS_FILE_NAME), `\uFEFF${JSON.stringify(settings)}`);

    const loaded = await createSettingsStore(directory, silentLogger).load();

    expect(loaded).toEqual(settings);
    await rm(directory, { recursive: true, force: true });
  });
});

/** Fails instead of waiting for the test timeout when `promise` blocks, as a read of a FIFO without a writer does. */
async function withinTwoSeconds<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('still waiting after 2 s')), 2_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('data file that is no regular file', () => {
  it('rejects a FIFO settings file at once', async () => {
    const path = join(dir, SETTINGS_FILE_NAME);
    execFileSync('mkfifo', [path]);

    const error = await withinTwoSeconds(createSettingsStore(dir, silentLogger).load()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(NotARegularFileError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('FIFO');
    expect((error as Error).message).toContain('Delete or rename it');
    expect((await stat(path)).isFIFO()).toBe(true);
  });

  it('rejects a directory settings file', async () => {
    const path = join(dir, SETTINGS_FILE_NAME);
    await mkdir(path);

    const error = await withinTwoSeconds(createSettingsStore(dir, silentLogger).load()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(NotARegularFileError);
    expect((error as Error).message).toContain(`${path} is a directory`);
  });

  it('rejects a FIFO instance id file at once', async () => {
    const path = join(dir, INSTANCE_ID_FILE_NAME);
    execFileSync('mkfifo', [path]);

    const error = await withinTwoSeconds(loadOrCreateInstanceId(dir, silentLogger)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(NotARegularFileError);
    expect((error as Error).message).toContain(path);
  });

  it('starts the service with default settings', async () => {
    const path = join(dir, SETTINGS_FILE_NAME);
    execFileSync('mkfifo', [path]);
    const logger = createRecordingLogger();
    const service = createOfflineService(logger);

    await withinTwoSeconds(service.ready);

    const state = await service.getState();
    expect(state.settings).toEqual(DEFAULT_SETTINGS);
    const logged = logger.lines.find((line) => line.fields?.error instanceof NotARegularFileError);
    expect(logged?.level).toBe('error');
    expect(state.settingsWarning?.code).toBe('SETTINGS-UNREADABLE');
    expect(state.settingsWarning?.message).toContain(path);
    expect(state.settingsWarning?.message).toContain('FIFO');

    // Saving replaces the FIFO with a regular file and clears the warning.
    const saved = await service.saveSettings({ ...DEFAULT_SETTINGS, clientId: 'savedClientId' });
    expect(saved.settingsWarning).toBeUndefined();
    expect((await stat(path)).isFile()).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ clientId: 'savedClientId' });
  });
});
