import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  AUTOSTART_FILE_NAME,
  autostartDirectory,
  createAutostart,
  createLoginItemAutostart,
  createXdgAutostart,
  formatExecValue,
  InvalidLaunchCommandError,
  wasLaunchedAtLogin,
  type LaunchCommand,
  type LoginItemApp,
} from '../../src/main/autostart';
import { silentLogger } from '../../src/main/logger';
import { createTempDir, removeDir } from './helpers';

/**
 * Splits an `Exec` value the way a desktop environment does: string-value
 * unescaping first, then the quoting rules of the Desktop Entry Specification.
 */
function parseExecValue(value: string): string[] {
  let unescaped = '';
  for (let index = 0; index < value.length; index += 1) {
    const character = value[index]!;
    if (character === '\\') {
      const next = value[index + 1];
      const replacements: Record<string, string> = { '\\': '\\', s: ' ', n: '\n', t: '\t', r: '\r' };
      unescaped += next !== undefined && next in replacements ? replacements[next] : `\\${next ?? ''}`;
      index += 1;
    } else {
      unescaped += character;
    }
  }

  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let started = false;
  for (let index = 0; index < unescaped.length; index += 1) {
    const character = unescaped[index]!;
    if (inQuotes) {
      if (character === '\\') {
        current += unescaped[index + 1] ?? '';
        index += 1;
      } else if (character === '"') {
        inQuotes = false;
      } else {
        current += character;
      }
    } else if (character === '"') {
      inQuotes = true;
      started = true;
    } else if (character === ' ') {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += character;
      started = true;
    }
  }
  if (started) args.push(current);
  return args.map((arg) => arg.replaceAll('%%', '%'));
}

function execLine(entry: string): string {
  const line = entry.split('\n').find((candidate) => candidate.startsWith('Exec='));
  if (line === undefined) throw new Error(`No Exec line in:\n${entry}`);
  return line.slice('Exec='.length);
}

describe('Exec value escaping', () => {
  const argvs: string[][] = [
    ['/opt/RC Softphone/rc-softphone', '--hidden'],
    ['/home/me/Apps/RC$HOME`id`.AppImage', '--hidden'],
    ['/srv/back\\slash/"quoted"/it\'s/app', '--hidden'],
    ['/tmp/100%/app', '--flag=%u'],
    ['/usr/bin/electron', '/home/me/dev app/', '--hidden'],
    ['/plain/path/app', ''],
  ];

  for (const argv of argvs) {
    it(`round-trips ${JSON.stringify(argv[0])}`, () => {
      expect(parseExecValue(formatExecValue(argv))).toEqual(argv);
    });
  }

  it('quotes a path with spaces', () => {
    expect(formatExecValue(['/opt/RC Softphone/rc-softphone', '--hidden'])).toBe('"/opt/RC Softphone/rc-softphone" --hidden');
  });

  it('writes a literal backslash as four', () => {
    expect(formatExecValue(['/a\\b'])).toBe('"/a\\\\\\\\b"');
  });

  it('writes a literal dollar sign as \\\\$', () => {
    expect(formatExecValue(['/a$b'])).toBe('"/a\\\\$b"');
  });

  it('doubles percent signs', () => {
    expect(formatExecValue(['/a%u'])).toBe('/a%%u');
  });

  it('leaves plain arguments unquoted', () => {
    expect(formatExecValue(['/usr/bin/rc-softphone', '--hidden'])).toBe('/usr/bin/rc-softphone --hidden');
  });

  it('rejects control characters', () => {
    expect(() => formatExecValue(['/tmp/evil\n[Desktop Entry]'])).toThrow(InvalidLaunchCommandError);
    expect(() => formatExecValue(['/tmp/tab\tpath'])).toThrow(InvalidLaunchCommandError);
  });
});

describe('XDG autostart', () => {
  let home: string;
  const packaged: LaunchCommand = { executable: '/opt/RC Softphone/rc-softphone', args: [] };

  beforeEach(async () => {
    home = await createTempDir('autostart');
  });

  afterEach(async () => {
    await removeDir(home);
  });

  const entryPath = (configHome: string) => join(configHome, 'autostart', AUTOSTART_FILE_NAME);

  it('writes the entry into XDG_CONFIG_HOME', async () => {
    const configHome = join(home, 'config');
    const autostart = createXdgAutostart({
      command: packaged,
      env: { XDG_CONFIG_HOME: configHome },
      homeDir: home,
      appName: 'RC Softphone',
      logger: silentLogger,
    });

    await autostart.setEnabled(true);

    const entry = await readFile(entryPath(configHome), 'utf8');
    expect(entry.startsWith('[Desktop Entry]\n')).toBe(true);
    expect(entry).toContain('\nType=Application\n');
    expect(entry).toContain('\nName=RC Softphone\n');
    expect(parseExecValue(execLine(entry))).toEqual(['/opt/RC Softphone/rc-softphone', '--hidden']);
    expect(await autostart.isEnabled()).toBe(true);
  });

  it('falls back to ~/.config without XDG_CONFIG_HOME', async () => {
    const autostart = createXdgAutostart({ command: packaged, env: {}, homeDir: home, appName: 'RC Softphone', logger: silentLogger });

    await autostart.setEnabled(true);

    expect((await stat(entryPath(join(home, '.config')))).isFile()).toBe(true);
  });

  it('ignores a relative XDG_CONFIG_HOME', () => {
    expect(autostartDirectory({ XDG_CONFIG_HOME: 'relative/config' }, '/home/me')).toBe('/home/me/.config/autostart');
    expect(autostartDirectory({ XDG_CONFIG_HOME: '' }, '/home/me')).toBe('/home/me/.config/autostart');
    expect(autostartDirectory({ XDG_CONFIG_HOME: '/xdg' }, '/home/me')).toBe('/xdg/autostart');
  });

  it('starts the AppImage file when APPIMAGE is set', async () => {
    const appImage = join(home, 'Apps', 'RC Softphone-0.1.0.AppImage');
    const autostart = createXdgAutostart({
      command: { executable: '/tmp/.mount_RCSoft1a2b3c/rc-softphone', args: [] },
      env: { APPIMAGE: appImage },
      homeDir: home,
      appName: 'RC Softphone',
      logger: silentLogger,
    });

    await autostart.setEnabled(true);

    const entry = await readFile(entryPath(join(home, '.config')), 'utf8');
    expect(parseExecValue(execLine(entry))).toEqual([appImage, '--hidden']);
    expect(entry).not.toContain('.mount_');
  });

  it('rewrites the Exec line on refresh', async () => {
    const options = { env: { APPIMAGE: join(home, 'RC Softphone-0.1.0.AppImage') }, homeDir: home, appName: 'RC Softphone', logger: silentLogger };
    await createXdgAutostart({ ...options, command: packaged }).setEnabled(true);

    const updated = join(home, 'RC Softphone-0.2.0.AppImage');
    await createXdgAutostart({ ...options, env: { APPIMAGE: updated }, command: packaged }).refresh();

    const entry = await readFile(entryPath(join(home, '.config')), 'utf8');
    expect(parseExecValue(execLine(entry))).toEqual([updated, '--hidden']);
  });

  it('does not create the entry on refresh when it is off', async () => {
    const autostart = createXdgAutostart({ command: packaged, env: {}, homeDir: home, appName: 'RC Softphone', logger: silentLogger });

    await autostart.refresh();

    expect(await autostart.isEnabled()).toBe(false);
    await expect(stat(entryPath(join(home, '.config')))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes the entry when turned off', async () => {
    const autostart = createXdgAutostart({ command: packaged, env: {}, homeDir: home, appName: 'RC Softphone', logger: silentLogger });
    await autostart.setEnabled(true);

    await autostart.setEnabled(false);

    expect(await autostart.isEnabled()).toBe(false);
    await expect(stat(entryPath(join(home, '.config')))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('turning off twice is not an error', async () => {
    const autostart = createXdgAutostart({ command: packaged, env: {}, homeDir: home, appName: 'RC Softphone', logger: silentLogger });

    await autostart.setEnabled(false);
    await autostart.setEnabled(false);

    expect(await autostart.isEnabled()).toBe(false);
  });

  it('respects an entry the desktop turned off', async () => {
    const path = entryPath(join(home, '.config'));
    await mkdir(join(home, '.config', 'autostart'), { recursive: true });
    const userDisabled = '[Desktop Entry]\nType=Application\nName=RC Softphone\nExec=/old/path --hidden\nX-GNOME-Autostart-enabled=false\n';
    await writeFile(path, userDisabled);
    const autostart = createXdgAutostart({ command: packaged, env: {}, homeDir: home, appName: 'RC Softphone', logger: silentLogger });

    await autostart.refresh();

    expect(await autostart.isEnabled()).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(userDisabled);
  });

  it('is chosen on Linux by createAutostart', async () => {
    const app: LoginItemApp = {
      setLoginItemSettings: () => {
        throw new Error('login items are not used on Linux');
      },
      getLoginItemSettings: () => {
        throw new Error('login items are not used on Linux');
      },
    };
    const autostart = createAutostart({ platform: 'linux', app, command: packaged, env: {}, homeDir: home, appName: 'RC Softphone', logger: silentLogger });

    await autostart.setEnabled(true);

    expect(await autostart.isEnabled()).toBe(true);
  });
});

/**
 * A stand-in for Electron's login-item API. Like Windows, it reports
 * `openAtLogin` only when the path and arguments of the query match the entry.
 */
function createLoginItemRecorder() {
  const calls: unknown[] = [];
  let entry: { path: string; args: string[] } | null = null;
  let disabledInTaskManager = false;

  const app: LoginItemApp = {
    setLoginItemSettings(settings) {
      calls.push(['set', structuredClone(settings)]);
      entry = settings.openAtLogin ? { path: settings.path, args: [...settings.args] } : null;
    },
    getLoginItemSettings(options) {
      calls.push(['get', structuredClone(options)]);
      const matches = entry !== null && entry.path === options.path && JSON.stringify(entry.args) === JSON.stringify(options.args);
      return { openAtLogin: matches, executableWillLaunchAtLogin: entry !== null && !disabledInTaskManager };
    },
  };

  return {
    app,
    calls,
    disableInTaskManager() {
      disabledInTaskManager = true;
    },
  };
}

describe('login item autostart', () => {
  const command: LaunchCommand = { executable: 'C:\\Users\\me\\AppData\\Local\\Programs\\RC Softphone\\RC Softphone.exe', args: [] };

  for (const platform of ['win32', 'darwin'] as const) {
    it(`registers with --hidden on ${platform}`, async () => {
      const recorder = createLoginItemRecorder();
      const autostart = createAutostart({ platform, app: recorder.app, command, env: {}, homeDir: '/unused', appName: 'RC Softphone', logger: silentLogger });

      await autostart.setEnabled(true);
      const enabled = await autostart.isEnabled();

      expect(recorder.calls).toEqual([
        ['set', { openAtLogin: true, path: command.executable, args: ['--hidden'] }],
        ['get', { path: command.executable, args: ['--hidden'] }],
      ]);
      expect(enabled).toBe(true);
    });

    it(`removes the login item on ${platform}`, async () => {
      const recorder = createLoginItemRecorder();
      const autostart = createLoginItemAutostart({ platform, app: recorder.app, command, logger: silentLogger });
      await autostart.setEnabled(true);

      await autostart.setEnabled(false);

      expect(recorder.calls.at(-1)).toEqual(['set', { openAtLogin: false, path: command.executable, args: ['--hidden'] }]);
      expect(await autostart.isEnabled()).toBe(false);
    });
  }

  it('passes the development app folder before --hidden', async () => {
    const recorder = createLoginItemRecorder();
    const autostart = createLoginItemAutostart({
      platform: 'win32',
      app: recorder.app,
      command: { executable: 'C:\\dev\\electron.exe', args: ['C:\\dev\\softphone'] },
      logger: silentLogger,
    });

    await autostart.setEnabled(true);

    expect(recorder.calls[0]).toEqual(['set', { openAtLogin: true, path: 'C:\\dev\\electron.exe', args: ['C:\\dev\\softphone', '--hidden'] }]);
    expect(await autostart.isEnabled()).toBe(true);
  });

  it('reports off when Task Manager disabled the entry on Windows', async () => {
    const recorder = createLoginItemRecorder();
    const autostart = createLoginItemAutostart({ platform: 'win32', app: recorder.app, command, logger: silentLogger });
    await autostart.setEnabled(true);

    recorder.disableInTaskManager();

    expect(await autostart.isEnabled()).toBe(false);
  });

  it('refresh registers again only when enabled', async () => {
    const recorder = createLoginItemRecorder();
    const autostart = createLoginItemAutostart({ platform: 'win32', app: recorder.app, command, logger: silentLogger });

    await autostart.refresh();
    const setsWhileOff = recorder.calls.filter((call) => (call as unknown[])[0] === 'set').length;
    await autostart.setEnabled(true);
    await autostart.refresh();
    const setsWhileOn = recorder.calls.filter((call) => (call as unknown[])[0] === 'set').length;

    expect(setsWhileOff).toBe(0);
    expect(setsWhileOn).toBe(2);
  });
});

describe('launch at login detection', () => {
  it('reads the switch on Windows and Linux', () => {
    for (const platform of ['win32', 'linux'] as const) {
      expect(wasLaunchedAtLogin({ platform, argv: ['app', '--hidden'], wasOpenedAtLogin: () => false }), platform).toBe(true);
      expect(wasLaunchedAtLogin({ platform, argv: ['app'], wasOpenedAtLogin: () => true }), platform).toBe(false);
    }
  });

  it('asks the login item API on macOS', () => {
    expect(wasLaunchedAtLogin({ platform: 'darwin', argv: ['app'], wasOpenedAtLogin: () => true })).toBe(true);
    expect(wasLaunchedAtLogin({ platform: 'darwin', argv: ['app', '--hidden'], wasOpenedAtLogin: () => false })).toBe(false);
  });
});
