import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { DesktopPreferences, PhoneStatus, SipTraceEntry } from '../../src/shared/desktop';
import type { CredentialStore } from '../../src/main/credential-store';
import type { DesktopIpcTarget } from '../../src/main/ipc-handlers';
import type { Logger, LogFields } from '../../src/main/logger';
import { startPlatformServer, type PlatformOptions, type PlatformServer, type PlatformUser } from '../bench/platform-server';

export const CLIENT_ID = 'mainTestClientId';
export const APP_NAME = 'RCSoftphone';
export const APP_VERSION = '0.1.0';
export const TOKEN_PATH = '/restapi/oauth/token';
export const REVOKE_PATH = '/restapi/oauth/revoke';
export const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
export const EXTENSION_PATH = '/restapi/v1.0/account/~/extension/~';

export const WSS_ENTRY = {
  transport: 'WSS',
  username: '16505550100*101',
  password: 'sip-password-Xy12ab',
  authorizationTypes: ['SipDigest'],
  authorizationId: '802512345678',
  domain: 'sip.example.test',
  outboundProxy: '127.0.0.1:5443',
  outboundProxyBackup: '127.0.0.1:5444',
  switchBackInterval: 1800,
  stunServers: ['127.0.0.1:3478'],
};

export const ALICE: PlatformUser = {
  ownerId: '101001',
  accountId: '400001',
  extensionNumber: '101',
  name: 'Alice Example',
  jwtCredential: 'alice-jwt.credential-value',
  sipInfo: [WSS_ENTRY],
};

/** Creates a clock that tests move by hand; the platform server and the app share it. */
export function createClock(start = 1_700_000_000_000) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

/** Starts the local platform with Alice and the test client id unless overridden. */
export function startTestPlatform(options: Partial<PlatformOptions> = {}): Promise<PlatformServer> {
  return startPlatformServer({ clientId: CLIENT_ID, users: [structuredClone(ALICE)], ...options });
}

/** Creates an in-memory credential store that records every write, for tests without the OS keychain. */
export function createMemoryCredentialStore(): CredentialStore & { entries: Map<string, string>; writes: string[] } {
  const entries = new Map<string, string>();
  const writes: string[] = [];
  return {
    entries,
    writes,
    get: async (account) => entries.get(account) ?? null,
    set: async (account, secret) => {
      writes.push(account);
      entries.set(account, secret);
    },
    delete: async (account) => entries.delete(account),
  };
}

export interface RecordedLog {
  level: 'info' | 'warn' | 'error';
  scope: string;
  message: string;
  fields: LogFields | undefined;
}

/** Creates a logger that keeps every line in memory. */
export function createRecordingLogger(scope = 'test', lines: RecordedLog[] = []): Logger & { lines: RecordedLog[] } {
  const write = (level: RecordedLog['level']) => (message: string, fields?: LogFields) =>
    void lines.push({ level, scope, message, fields });
  return {
    lines,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (child) => createRecordingLogger(`${scope}/${child}`, lines),
  };
}

export async function createTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `softphone-main-${prefix}-`));
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Returns the text of every file under `directory`, keyed by relative path. */
export async function readAllFiles(directory: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      try {
        files.set(path.slice(directory.length + 1), await readFile(path, 'utf8'));
      } catch (error) {
        // An atomic write's temporary file may be renamed between readdir and
        // readFile; its content then lives in the final file.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
  return files;
}

/** A desktop IPC target that keeps the preferences in memory and records phone status reports and SIP trace lines. */
export function createMemoryDesktop(): DesktopIpcTarget & { phoneStatuses: PhoneStatus[]; sipTrace: SipTraceEntry[] } {
  let preferences: DesktopPreferences = { openAtLogin: false, doNotDisturb: false, sipTrace: false };
  const phoneStatuses: PhoneStatus[] = [];
  const sipTrace: SipTraceEntry[] = [];
  return {
    phoneStatuses,
    sipTrace,
    getPreferences: async () => preferences,
    setPreferences: async (change) => {
      preferences = { ...preferences, ...change };
      return preferences;
    },
    reportPhoneStatus: (status) => void phoneStatuses.push(status),
    writeSipTrace: (entry) => void sipTrace.push(entry),
  };
}
