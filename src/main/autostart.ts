import { readFile, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

import { APP_ID, HIDDEN_SWITCH } from './app-identity';
import type { Logger } from './logger';
import { writeFileAtomic } from './settings';

/** Starts the app at OS login, hidden in the tray. */
export interface Autostart {
  isEnabled(): Promise<boolean>;
  setEnabled(enabled: boolean): Promise<void>;
  /**
   * Writes the entry again with the current executable path when it is enabled,
   * so an update that moved the executable (a new AppImage file) keeps working.
   */
  refresh(): Promise<void>;
}

/** The program that starts this app, without the `--hidden` switch. */
export interface LaunchCommand {
  executable: string;
  /** Arguments before `--hidden`: the app folder in development, none when packaged. */
  args: readonly string[];
}

/** The part of Electron's `app` that manages login items on macOS and Windows. */
export interface LoginItemApp {
  setLoginItemSettings(settings: { openAtLogin: boolean; path: string; args: string[] }): void;
  getLoginItemSettings(options: { path: string; args: string[] }): {
    openAtLogin: boolean;
    /** Windows only: false when the user turned the entry off in Task Manager or Settings. */
    executableWillLaunchAtLogin?: boolean;
  };
}

export interface AutostartOptions {
  platform: NodeJS.Platform;
  app: LoginItemApp;
  command: LaunchCommand;
  /** The process environment; `XDG_CONFIG_HOME` and `APPIMAGE` are read on Linux. */
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** Product name for the `Name` of the Linux autostart entry. */
  appName: string;
  logger: Logger;
}

/** Picks the login-item API on macOS and Windows and an XDG autostart entry elsewhere. */
export function createAutostart(options: AutostartOptions): Autostart {
  if (options.platform === 'darwin' || options.platform === 'win32') {
    return createLoginItemAutostart(options);
  }
  return createXdgAutostart(options);
}

/**
 * Registers the app with `app.setLoginItemSettings`. The same path and arguments
 * go into every read, because on Windows `getLoginItemSettings` reports
 * `openAtLogin` only for an entry whose path and arguments match. macOS ignores
 * both (Electron 45 documents them as Windows-only), so a login launch there is
 * recognised by `wasOpenedAtLogin` instead of the switch.
 */
export function createLoginItemAutostart(options: Pick<AutostartOptions, 'platform' | 'app' | 'command' | 'logger'>): Autostart {
  const item = { path: options.command.executable, args: [...options.command.args, HIDDEN_SWITCH] };

  const isEnabled = async () => {
    const settings = options.app.getLoginItemSettings(item);
    if (options.platform === 'win32') {
      return settings.openAtLogin && settings.executableWillLaunchAtLogin !== false;
    }
    return settings.openAtLogin;
  };

  const setEnabled = async (enabled: boolean) => {
    options.app.setLoginItemSettings({ openAtLogin: enabled, ...item });
    options.logger.info(enabled ? 'Login item added' : 'Login item removed', { path: item.path, args: item.args });
  };

  return {
    isEnabled,
    setEnabled,
    async refresh() {
      if (await isEnabled()) {
        await setEnabled(true);
      }
    },
  };
}

/** Reports whether this process was started by the OS at login. */
export function wasLaunchedAtLogin(input: {
  platform: NodeJS.Platform;
  argv: readonly string[];
  /** Electron's `getLoginItemSettings().wasOpenedAtLogin`, read on macOS only. */
  wasOpenedAtLogin: () => boolean;
}): boolean {
  if (input.platform === 'darwin') {
    return input.wasOpenedAtLogin();
  }
  return input.argv.includes(HIDDEN_SWITCH);
}

/** A path or argument that a desktop entry's `Exec` key cannot carry. */
export class InvalidLaunchCommandError extends Error {
  override readonly name = 'InvalidLaunchCommandError';

  constructor(readonly argument: string) {
    super(
      `Cannot start the app at login: the argument ${JSON.stringify(argument)} contains a control character, ` +
        'which a desktop entry cannot hold. Move the app to a folder whose path has no control characters.',
    );
  }
}

export const AUTOSTART_FILE_NAME = `${APP_ID}.desktop`;

/**
 * Returns `$XDG_CONFIG_HOME/autostart`, or `~/.config/autostart` when the variable
 * is unset, empty or relative (the XDG Base Directory Specification says to ignore
 * a relative path).
 */
export function autostartDirectory(env: AutostartOptions['env'], homeDir: string): string {
  const configHome = env['XDG_CONFIG_HOME'];
  const base = configHome !== undefined && configHome !== '' && isAbsolute(configHome) ? configHome : join(homeDir, '.config');
  return join(base, 'autostart');
}

/**
 * Writes `<APP_ID>.desktop` into the XDG autostart folder (Desktop Application
 * Autostart Specification). Inside an AppImage, `$APPIMAGE` is the path of the
 * AppImage file and `process.execPath` is inside a mount that disappears on exit,
 * so the entry starts `$APPIMAGE`.
 */
export function createXdgAutostart(options: Pick<AutostartOptions, 'command' | 'env' | 'homeDir' | 'appName' | 'logger'>): Autostart {
  const path = join(autostartDirectory(options.env, options.homeDir), AUTOSTART_FILE_NAME);

  const isEnabled = async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return false;
      }
      throw error;
    }
    return !isDisabledByUser(text);
  };

  const write = async () => {
    const appImage = options.env['APPIMAGE'];
    const executable = appImage !== undefined && isAbsolute(appImage) ? appImage : options.command.executable;
    const argv = [executable, ...options.command.args, HIDDEN_SWITCH];
    await writeFileAtomic(path, buildAutostartDesktopEntry(options.appName, argv));
    options.logger.info('Autostart entry written', { path, executable });
  };

  return {
    isEnabled,
    async setEnabled(enabled) {
      if (enabled) {
        await write();
        return;
      }
      await rm(path, { force: true });
      options.logger.info('Autostart entry removed', { path });
    },
    async refresh() {
      if (await isEnabled()) {
        await write();
      }
    },
  };
}

/**
 * Desktop environments turn an autostart entry off in place: `Hidden=true` per the
 * autostart specification, or GNOME's `X-GNOME-Autostart-enabled=false`.
 */
function isDisabledByUser(text: string): boolean {
  return text.split(/\r?\n/).some((line) => {
    const trimmed = line.trim();
    return trimmed === 'Hidden=true' || trimmed === 'X-GNOME-Autostart-enabled=false';
  });
}

/** Builds the text of an autostart desktop entry that runs `argv`. */
export function buildAutostartDesktopEntry(appName: string, argv: readonly string[]): string {
  const name = escapeStringValue(appName);
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.5',
    `Name=${name}`,
    `Comment=Starts ${name} in the tray at login`,
    `Exec=${formatExecValue(argv)}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

// Desktop Entry Specification 1.5, "The Exec key": an argument holding any of
// these characters must be quoted.
const EXEC_RESERVED = /[\s"'\\><~|&;$*?#()`]/;
// Inside double quotes, these four must be escaped with a backslash.
const EXEC_QUOTED_ESCAPES = /["`$\\]/g;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Formats `argv` as the value of an `Exec` key. Each argument is quoted when it
 * holds a reserved character, `%` becomes `%%` so it is not read as a field code,
 * and then the string-value escaping doubles every backslash. A literal `\` thus
 * ends up as `\\\\` and `$` as `\\$`, as the specification spells out.
 */
export function formatExecValue(argv: readonly string[]): string {
  const quoted = argv.map((argument) => {
    if (CONTROL_CHARACTER.test(argument)) {
      throw new InvalidLaunchCommandError(argument);
    }

    const withPercents = argument.replaceAll('%', '%%');
    if (withPercents !== '' && !EXEC_RESERVED.test(withPercents)) {
      return withPercents;
    }
    return `"${withPercents.replace(EXEC_QUOTED_ESCAPES, (character) => `\\${character}`)}"`;
  });

  return quoted.join(' ').replaceAll('\\', '\\\\');
}

/** Escapes a desktop entry string value (backslash, newline, tab, carriage return). */
function escapeStringValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\t', '\\t').replaceAll('\r', '\\r');
}
