import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { DesktopPreferences } from '../../src/shared/desktop';
import { createXdgAutostart, type Autostart } from '../../src/main/autostart';
import { createDesktopPreferencesStore, DESKTOP_PREFERENCES_FILE_NAME } from '../../src/main/desktop-preferences';
import { AutostartChangeError, createDesktopService } from '../../src/main/desktop-service';
import { silentLogger } from '../../src/main/logger';
import type { TrayState } from '../../src/main/tray';
import { createRecordingLogger, createTempDir, removeDir } from './helpers';

/** Creates an autostart that records calls and can be made to fail. */
function createFakeAutostart(initiallyEnabled = false) {
  const calls: string[] = [];
  let enabled = initiallyEnabled;
  let failure: Error | null = null;
  const autostart: Autostart = {
    isEnabled: async () => enabled,
    async setEnabled(value) {
      calls.push(`set ${value}`);
      if (failure !== null) throw failure;
      enabled = value;
    },
    async refresh() {
      calls.push('refresh');
    },
  };
  return {
    autostart,
    calls,
    failWith(error: Error) {
      failure = error;
    },
  };
}

describe('desktop service', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await createTempDir('desktop');
  });

  afterEach(async () => {
    await removeDir(dir);
  });

  const createService = (autostart: Autostart) =>
    createDesktopService({ store: createDesktopPreferencesStore(dir, silentLogger), autostart, logger: silentLogger });

  it('starts with everything off and refreshes the autostart entry', async () => {
    const fake = createFakeAutostart();
    const service = createService(fake.autostart);

    expect(await service.getPreferences()).toEqual({ openAtLogin: false, doNotDisturb: false, sipTrace: false });
    expect(fake.calls).toEqual(['refresh']);
  });

  it('turns start at login on after the first sign-in only', async () => {
    const fake = createFakeAutostart();
    const service = createService(fake.autostart);

    await service.applyOpenAtLoginDefault();
    await service.setPreferences({ openAtLogin: false });
    await service.applyOpenAtLoginDefault();

    expect(fake.calls).toEqual(['refresh', 'set true', 'set false']);
    expect((await service.getPreferences()).openAtLogin).toBe(false);
  });

  it('remembers the choice across restarts', async () => {
    const fake = createFakeAutostart();
    await createService(fake.autostart).applyOpenAtLoginDefault();
    await createService(fake.autostart).setPreferences({ openAtLogin: false });

    const restarted = createService(fake.autostart);
    await restarted.applyOpenAtLoginDefault();

    expect((await restarted.getPreferences()).openAtLogin).toBe(false);
    expect(fake.calls.filter((call) => call.startsWith('set'))).toEqual(['set true', 'set false']);
  });

  it('leaves a user choice made before the first sign-in alone', async () => {
    const fake = createFakeAutostart();
    const service = createService(fake.autostart);

    await service.setPreferences({ openAtLogin: false });
    await service.applyOpenAtLoginDefault();

    expect(fake.calls).toEqual(['refresh']);
  });

  it('tries the default again after a failure', async () => {
    const fake = createFakeAutostart();
    fake.failWith(new Error('EACCES: permission denied'));
    const service = createService(fake.autostart);

    await service.applyOpenAtLoginDefault();
    const restarted = createService(createFakeAutostart().autostart);
    await restarted.applyOpenAtLoginDefault();

    expect((await service.getPreferences()).openAtLogin).toBe(false);
    expect((await restarted.getPreferences()).openAtLogin).toBe(true);
  });

  it('reports a failed change with the reason', async () => {
    const fake = createFakeAutostart();
    fake.failWith(new Error('EACCES: permission denied'));
    const service = createService(fake.autostart);

    const error = await service.setPreferences({ openAtLogin: true }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AutostartChangeError);
    expect((error as Error).message).toMatch(/Could not turn start at login on: EACCES/);
    expect((await service.getPreferences()).openAtLogin).toBe(false);
  });

  it('stores Do Not Disturb and the SIP trace switch', async () => {
    const service = createService(createFakeAutostart().autostart);

    await service.setPreferences({ doNotDisturb: true });
    await service.setPreferences({ sipTrace: true });
    const restarted = createService(createFakeAutostart().autostart);

    expect(await restarted.getPreferences()).toEqual({ openAtLogin: false, doNotDisturb: true, sipTrace: true });
    expect(restarted.isSipTraceOn()).toBe(true);
    expect(JSON.parse(await readFile(join(dir, DESKTOP_PREFERENCES_FILE_NAME), 'utf8'))).toEqual({
      doNotDisturb: true,
      sipTrace: true,
      openAtLoginDecided: false,
    });
  });

  it('tells listeners about preference and tray changes', async () => {
    const service = createService(createFakeAutostart().autostart);
    await service.ready;
    const preferences: DesktopPreferences[] = [];
    const trays: TrayState[] = [];
    service.onPreferencesChanged((value) => preferences.push(value));
    service.onTrayStateChanged((value) => trays.push(value));

    await service.setPreferences({ doNotDisturb: true });
    service.reportPhoneStatus({ registration: 'registered', inCall: false });
    service.reportPhoneStatus({ registration: 'registered', inCall: false });
    service.setMissedCalls(2);

    expect(preferences).toEqual([{ openAtLogin: false, doNotDisturb: true, sipTrace: false }]);
    expect(trays).toEqual([
      { phone: { registration: 'offline', inCall: false }, missedCalls: 0, doNotDisturb: true },
      { phone: { registration: 'registered', inCall: false }, missedCalls: 0, doNotDisturb: true },
      { phone: { registration: 'registered', inCall: false }, missedCalls: 2, doNotDisturb: true },
    ]);
  });

  it('keeps a corrupt file aside and uses the defaults', async () => {
    await writeFile(join(dir, DESKTOP_PREFERENCES_FILE_NAME), '{"doNotDisturb": "yes"}');
    const logger = createRecordingLogger();
    const service = createDesktopService({
      store: createDesktopPreferencesStore(dir, logger),
      autostart: createFakeAutostart().autostart,
      logger,
    });

    expect(await service.getPreferences()).toEqual({ openAtLogin: false, doNotDisturb: false, sipTrace: false });
    expect((await stat(join(dir, `${DESKTOP_PREFERENCES_FILE_NAME}.corrupt`))).isFile()).toBe(true);
    expect(logger.lines.map((line) => line.level)).toContain('warn');
  });

  it('writes the XDG entry on the first sign-in', async () => {
    const autostart = createXdgAutostart({
      command: { executable: '/opt/RC Softphone/rc-softphone', args: [] },
      env: { XDG_CONFIG_HOME: join(dir, 'config') },
      homeDir: dir,
      appName: 'RC Softphone',
      logger: silentLogger,
    });
    const service = createService(autostart);

    await service.applyOpenAtLoginDefault();

    expect((await service.getPreferences()).openAtLogin).toBe(true);
    expect(await readFile(join(dir, 'config', 'autostart', 'com.rcsoftphone.app.desktop'), 'utf8')).toContain('--hidden');
  });
});
