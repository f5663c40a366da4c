import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, parse } from 'node:path';

import type { LogSink } from './logger';

/**
 * The part of an electron-log 5 logger that this module configures. The main
 * process passes `electron-log/node`: `electron-log/main` would also register
 * `__ELECTRON_LOG__` IPC handlers that accept messages without a sender check.
 */
export interface ElectronLogLike {
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  transports: {
    file: {
      resolvePathFn(variables: unknown, message?: unknown): string;
      archiveLogFn(file: { path: string; clear(): boolean }): void;
      maxSize: number;
      level: string | false;
      writeOptions?: { flag?: string; mode?: number; encoding?: string };
    };
    console: { level: string | false };
  };
}

export interface FileLoggingOptions {
  /** The app's log folder: Electron's `app.getPath('logs')`. */
  directory: string;
  fileName: string;
  /** Size in bytes at which the file is rotated. */
  maxSize: number;
  /** Rotated files kept beside the current one, as `<name>.1.log` (newest) to `<name>.<maxArchives>.log`. */
  maxArchives: number;
  /** Whether lines also go to the console; off for the SIP trace. */
  console: boolean;
}

/** 1 MiB per file and five archives keep at most 6 MiB of each log. */
export const MAIN_LOG_OPTIONS = { fileName: 'main.log', maxSize: 1024 * 1024, maxArchives: 5, console: true } as const;
export const SIP_TRACE_LOG_OPTIONS = { fileName: 'sip-trace.log', maxSize: 4 * 1024 * 1024, maxArchives: 2, console: false } as const;

/**
 * Points `log`'s file transport at `directory/fileName` with rotation. New log
 * files are readable by their owner only (mode 0600), because they hold phone
 * numbers and SIP addresses.
 */
export function configureFileLogging(log: ElectronLogLike, options: FileLoggingOptions): void {
  const path = join(options.directory, options.fileName);
  const file = log.transports.file;

  file.resolvePathFn = () => path;
  file.maxSize = options.maxSize;
  file.level = 'info';
  file.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };
  file.archiveLogFn = (oldFile) => {
    try {
      rotateLogFile(oldFile.path, options.maxArchives);
    } catch (error) {
      // electron-log calls this synchronously before the next write; a failed
      // rename must not lose the line, so the file is emptied instead.
      console.error(`Could not rotate ${oldFile.path}; emptying it`, error);
      oldFile.clear();
    }
  };

  log.transports.console.level = options.console ? 'info' : false;
}

/** Renames `name.log` to `name.1.log`, `name.1.log` to `name.2.log` and so on, dropping the oldest. */
export function rotateLogFile(path: string, maxArchives: number): void {
  const { dir, name, ext } = parse(path);
  const archive = (index: number) => join(dir, `${name}.${index}${ext}`);

  rmSync(archive(maxArchives), { force: true });
  for (let index = maxArchives - 1; index >= 1; index -= 1) {
    if (existsSync(archive(index))) {
      renameSync(archive(index), archive(index + 1));
    }
  }
  renameSync(path, archive(1));
}

/** Adapts an electron-log logger to the `LogSink` that `createLogger` writes to. */
export function createLogSink(log: Pick<ElectronLogLike, 'info' | 'warn' | 'error'>): LogSink {
  return {
    info: (...data) => log.info(...data),
    warn: (...data) => log.warn(...data),
    error: (...data) => log.error(...data),
  };
}
