// Fault test: the Secret Service stops while the user is signed in, then a
// fresh one starts, and the running app stores its tokens in the fresh one.
// The scenario runs in a child process on its own D-Bus session (see
// fixtures/keychain-outage-child.ts) so it can stop and start its own
// gnome-keyring daemon. The session bus gets no service folders, so it cannot
// auto-start a keyring of its own while the daemon is gone. The child uses the
// built keychain worker, so `npx electron-vite build` must run first.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppState } from '../../src/shared/app-state';
import type { PlatformServer } from '../bench/platform-server';
import {
  ALICE,
  CLIENT_ID,
  createTempDir,
  PROVISION_PATH,
  readAllFiles,
  REVOKE_PATH,
  removeDir,
  startTestPlatform,
  TOKEN_PATH,
  WSS_ENTRY,
} from './helpers';

const run = promisify(execFile);
const repositoryRoot = resolve(__dirname, '../..');
const workerScript = join(repositoryRoot, 'out/main/keytar-worker.js');

interface LogLine {
  level: string;
  message: string;
  error: string | null;
}

type KeychainRead = { value: string | null } | { error: string };

interface SettingsFiles {
  settings: string;
  instanceId: string;
}

interface ChildReport {
  signedIn: AppState;
  filesAfterSignIn: SettingsFiles;
  duringOutage: AppState;
  outageLogs: LogLine[];
  afterRetry: AppState;
  retryLogs: LogLine[];
  storedAfterRetry: KeychainRead;
  afterRefresh: AppState;
  refreshLogs: LogLine[];
  storedAfterRefresh: KeychainRead;
  signedInAgain: AppState;
  storedAfterSignIn: KeychainRead;
  afterSecondRestart: AppState;
  secondRestartLogs: LogLine[];
  storedAfterSecondRestart: KeychainRead;
  filesAtEnd: SettingsFiles;
}

let server: PlatformServer;
let workDir: string;
let settingsDir: string;
let report: ChildReport;

beforeAll(async () => {
  if (!existsSync(workerScript)) {
    throw new Error(`${workerScript} is missing: run \`npx electron-vite build\` first (npm test does).`);
  }
  // The platform keeps real time; only the child's clock jumps past token expiry.
  server = await startTestPlatform();
  workDir = await createTempDir('keychain-outage');
  settingsDir = join(workDir, 'settings');
  const noServices = join(workDir, 'no-dbus-services');
  await mkdir(noServices);
  // A session bus like the default one, minus the service folders: with them it
  // would auto-start gnome-keyring as soon as keytar calls the vanished name.
  const busConfig = join(workDir, 'session-bus.conf');
  await writeFile(
    busConfig,
    [
      '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"',
      ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">',
      '<busconfig>',
      '  <type>session</type>',
      '  <listen>unix:tmpdir=/tmp</listen>',
      '  <auth>EXTERNAL</auth>',
      '  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>',
      '</busconfig>',
      '',
    ].join('\n'),
  );

  const bundle = await build({
    entryPoints: [join(__dirname, 'fixtures/keychain-outage-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['keytar'],
    write: false,
  });
  const script = join(workDir, 'keychain-outage-child.cjs');
  await writeFile(script, bundle.outputFiles[0]!.text);

  const { stdout } = await run(
    'dbus-run-session',
    [
      `--config-file=${busConfig}`,
      '--',
      process.execPath,
      script,
      server.url,
      settingsDir,
      CLIENT_ID,
      ALICE.jwtCredential,
      workDir,
      workerScript,
    ],
    {
      env: {
        PATH: process.env['PATH'],
        HOME: workDir,
        NODE_PATH: join(repositoryRoot, 'node_modules'),
        XDG_DATA_HOME: noServices,
        XDG_DATA_DIRS: noServices,
      },
      timeout: 45_000,
    },
  );
  report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
}, 50_000);

afterAll(async () => {
  await server?.close();
  if (workDir !== undefined) await removeDir(workDir);
});

const ALICE_SIGNED_IN = { status: 'signed-in', user: { name: ALICE.name, extensionNumber: ALICE.extensionNumber } };

function instanceIdOf(state: AppState): string | null {
  return state.provisioning.status === 'ready' ? state.provisioning.instanceId : null;
}

function messages(lines: LogLine[]): string[] {
  return lines.map((line) => `${line.level}: ${line.message}`);
}

describe('Secret Service stopped while signed in', () => {
  it('signs in with the keyring running', () => {
    expect(report.signedIn.session).toEqual(ALICE_SIGNED_IN);
    expect(report.signedIn.provisioning.status).toBe('ready');
    expect(instanceIdOf(report.signedIn)).toBe(report.filesAfterSignIn.instanceId.trim());
  });

  it('keeps the session when storing fails', () => {
    // The refresh succeeds and only the keychain write fails: the state stays
    // signed in and carries a warning that the session ends when the app quits.
    expect(report.duringOutage.session).toMatchObject(ALICE_SIGNED_IN);
    expect(report.duringOutage.session).toMatchObject({
      keychainWarning: { code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringMatching(/only until the app quits/) },
    });
    expect(report.duringOutage.provisioning.status).toBe('ready');
    expect(instanceIdOf(report.duringOutage)).toBe(instanceIdOf(report.signedIn));
    expect(messages(report.outageLogs)).toEqual(
      expect.arrayContaining([
        'info: Refreshed the access token',
        'error: Could not store the refreshed tokens in the keychain',
      ]),
    );
    const storeFailure = report.outageLogs.find((line) => line.message.startsWith('Could not store the refreshed'));
    expect(storeFailure?.error).toContain('KeychainUnavailableError');
    expect(storeFailure?.error).toContain('org.freedesktop.secrets was not provided');
    // The sign-in and one refresh during the outage each issued an access token.
    // The provisioning request after the refresh succeeded with the new one.
    expect(server.tokens.issuedAccess().length).toBeGreaterThanOrEqual(2);
    expect(server.count(PROVISION_PATH)).toBeGreaterThanOrEqual(2);
  });

  it('writes no token to disk', async () => {
    const secrets = [
      ...server.tokens.issuedAccess(),
      ...server.tokens.issuedRefresh(),
      WSS_ENTRY.password,
      ALICE.jwtCredential,
    ];
    for (const folder of ['outage-snapshot', 'settings']) {
      const files = await readAllFiles(join(workDir, folder));
      expect([...files.keys()].sort()).toEqual(['instance-id', 'provisioning-requests.json', 'settings.json']);
      for (const [path, text] of files) {
        for (const secret of secrets) {
          expect(text.includes(secret), `${folder}/${path} contains a secret`).toBe(false);
        }
      }
    }
  });

  it('stores the pending tokens after keyring restart', () => {
    // The write that failed during the outage is retried on a timer and reaches
    // the new keyring through a fresh keychain worker, with no refresh between.
    const outageAccess = server.tokens.issuedAccess()[1]!;

    expect(report.afterRetry.session).toEqual(ALICE_SIGNED_IN);
    expect(instanceIdOf(report.afterRetry)).toBe(instanceIdOf(report.signedIn));
    expect(report.storedAfterRetry).toEqual({ value: expect.stringContaining(outageAccess) });
    expect(messages(report.retryLogs)).toContain('info: Stored the refreshed tokens in the keychain after failed writes');
    expect(messages(report.retryLogs)).not.toContain('info: Refreshed the access token');
  });

  it('stores the next refresh in the new keyring', () => {
    const refreshedAccess = server.tokens.issuedAccess()[2]!;

    expect(report.afterRefresh.session).toEqual(ALICE_SIGNED_IN);
    expect(instanceIdOf(report.afterRefresh)).toBe(instanceIdOf(report.signedIn));
    expect(messages(report.refreshLogs)).toContain('info: Refreshed the access token');
    expect(messages(report.refreshLogs)).not.toContain('error: Could not store the refreshed tokens in the keychain');
    expect(report.storedAfterRefresh).toEqual({ value: expect.stringContaining(refreshedAccess) });
  });

  it('signs in again after keyring restart', () => {
    const signInAccess = server.tokens.issuedAccess()[3]!;

    expect(report.signedInAgain.session).toEqual(ALICE_SIGNED_IN);
    expect(report.storedAfterSignIn).toEqual({ value: expect.stringContaining(signInAccess) });
    // The only revocation is that of the replaced session. The service would also
    // revoke the new tokens if it could not store them.
    const revocations = server.requests.filter((request) => request.path === REVOKE_PATH);
    expect(revocations.map((request) => request.body)).toEqual([
      expect.objectContaining({ token: server.tokens.issuedRefresh()[2] }),
    ]);
  });

  it('stores after a restart between calls', () => {
    // The worker that stored the sign-in keeps its session with the stopped
    // daemon. Its write fails once and is retried in a new worker at once.
    const lastAccess = server.tokens.issuedAccess().at(-1)!;
    const lastRefresh = server.tokens.issuedRefresh().at(-1)!;

    expect(report.afterSecondRestart.session).toEqual(ALICE_SIGNED_IN);
    expect(messages(report.secondRestartLogs)).toContain('info: Refreshed the access token');
    expect(messages(report.secondRestartLogs)).toContain('info: Retrying a keychain call in a new worker process');
    expect(messages(report.secondRestartLogs)).not.toContain('error: Could not store the refreshed tokens in the keychain');
    expect(report.storedAfterSecondRestart).toEqual({ value: expect.stringContaining(lastAccess) });
    expect(server.tokens.revoked()).not.toContain(lastRefresh);
    // One sign-in, two refreshes, the second sign-in and the last refresh.
    expect(server.count(TOKEN_PATH)).toBe(5);
  });

  it('keeps settings and instance id', () => {
    expect(report.filesAtEnd).toEqual(report.filesAfterSignIn);
    expect(JSON.parse(report.filesAtEnd.settings)).toMatchObject({
      server: 'custom',
      customServerUrl: server.url,
      clientId: CLIENT_ID,
    });
  });
});
