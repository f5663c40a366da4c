import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { KeychainProblem } from '../../src/main/credential-store';
import type { AppState } from '../../src/shared/app-state';
import type { PlatformServer } from '../bench/platform-server';
import { type BrowserPage, visibleText } from './fetch-browser';
import { ALICE, CLIENT_ID, createTempDir, readAllFiles, removeDir, startTestPlatform, TOKEN_PATH } from './helpers';

const run = promisify(execFile);
const repositoryRoot = resolve(__dirname, '../..');

interface ChildReport {
  directError: { name: string; message: string; isTyped: boolean; problem: KeychainProblem | null } | null;
  restored: AppState;
  afterSignIn: AppState;
  afterBrowserSignIn: AppState;
  browserPage: BrowserPage;
}

interface KeychainScenario {
  name: string;
  /** Program and arguments that run `node <script> <args>` with this scenario's keychain. */
  command(script: string, args: string[]): [string, string[]];
  env: Record<string, string>;
  problem: KeychainProblem;
  /** Part of the user-facing message. */
  message: string;
  /** Part of the user-facing action. */
  action: string;
  /** Whether reading the keychain at start already fails; libsecret reads a locked collection as empty. */
  failsAtStart: boolean;
}

const lockedKeyringCommand =
  (mode: 'locked' | 'no-collection') =>
  (script: string, args: string[]): [string, string[]] => [
    'dbus-run-session',
    ['--', 'bash', join(repositoryRoot, 'test/with-locked-keyring.sh'), mode, process.execPath, script, ...args],
  ];

const scenarios: KeychainScenario[] = [
  {
    name: 'without a Secret Service',
    command: (script, args) => [process.execPath, [script, ...args]],
    env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' },
    problem: 'no-secret-service',
    message: 'No OS keychain (Secret Service) is running',
    action: 'Install and unlock a Secret Service provider such as gnome-keyring or KWallet',
    failsAtStart: true,
  },
  {
    name: 'with a locked login keyring',
    command: lockedKeyringCommand('locked'),
    env: {},
    problem: 'locked',
    message: 'The login keyring is locked',
    action: 'Unlock the "login" keyring of your Secret Service provider',
    failsAtStart: false,
  },
  {
    name: 'without a login collection',
    command: lockedKeyringCommand('no-collection'),
    env: {},
    problem: 'no-login-collection',
    message: 'The keyring has no unlocked "login" collection',
    action: 'Create or unlock the "login" keyring',
    failsAtStart: false,
  },
];

let scriptDir: string | null = null;
let childScript: Promise<string> | null = null;

/** Bundles the child once: Node 20 cannot run TypeScript, so it gets a bundle of the real modules. */
function bundleChild(): Promise<string> {
  childScript ??= (async () => {
    const bundle = await build({
      entryPoints: [join(__dirname, 'fixtures/keychain-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['keytar'],
      write: false,
    });
    scriptDir = await createTempDir('keychain-script');
    const script = join(scriptDir, 'keychain-child.cjs');
    await writeFile(script, bundle.outputFiles[0]!.text);
    return script;
  })();
  return childScript;
}

afterAll(async () => {
  if (scriptDir !== null) await removeDir(scriptDir);
});

describe.each(scenarios)('keychain $name', (scenario) => {
  let server: PlatformServer;
  let workDir: string;
  let report: ChildReport;

  beforeAll(async () => {
    server = await startTestPlatform();
    workDir = await createTempDir('keychain-child');
    const script = await bundleChild();
    const [program, args] = scenario.command(script, [server.url, join(workDir, 'settings'), CLIENT_ID, ALICE.jwtCredential]);

    const { stdout } = await run(program, args, {
      env: {
        PATH: process.env['PATH'],
        HOME: workDir,
        NODE_PATH: join(repositoryRoot, 'node_modules'),
        ...scenario.env,
      },
      timeout: 30_000,
    });
    report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
  });

  afterAll(async () => {
    await server?.close();
    await removeDir(workDir);
  });

  it('raises KeychainUnavailableError with the fix', () => {
    expect(report.directError).not.toBeNull();
    expect(report.directError?.isTyped).toBe(true);
    expect(report.directError?.name).toBe('KeychainUnavailableError');
    expect(report.directError?.problem).toBe(scenario.problem);
    expect(report.directError?.message).toContain('The OS keychain could not be used to write the "probe" entry');
    expect(report.directError?.message).toContain(scenario.action);
  });

  it('shows the keychain problem at start when reads fail', () => {
    if (scenario.failsAtStart) {
      expect(report.restored.session).toMatchObject({ status: 'signed-out', error: { code: 'KEYCHAIN_UNAVAILABLE' } });
    } else {
      expect(report.restored.session).toEqual({ status: 'signed-out', error: null });
    }
  });

  it('revokes tokens it cannot store', () => {
    for (const state of [report.afterSignIn, report.afterBrowserSignIn]) {
      expect(state.session).toMatchObject({
        status: 'signed-out',
        error: {
          code: 'KEYCHAIN_UNAVAILABLE',
          message: expect.stringContaining(scenario.message),
          action: expect.stringContaining(scenario.action),
        },
      });
    }
    expect(server.count(TOKEN_PATH)).toBe(2);
    expect(server.tokens.revoked()).toEqual(
      expect.arrayContaining([...server.tokens.issuedAccess(), ...server.tokens.issuedRefresh()]),
    );
  });

  it('tells the browser tab what failed', () => {
    expect(report.browserPage.status).toBe(400);
    expect(visibleText(report.browserPage)).toContain(scenario.message);
    expect(visibleText(report.browserPage)).toContain(scenario.action);
  });

  it('writes no secret to disk instead', async () => {
    const files = await readAllFiles(workDir);
    const secrets = [
      ...server.tokens.issuedAccess(),
      ...server.tokens.issuedRefresh(),
      'child-secret-value',
      ALICE.jwtCredential,
    ];

    // The keyring daemon keeps its own (encrypted) files under HOME.
    const appFiles = [...files.keys()].filter((path) => !path.startsWith('.local/') && !path.startsWith('.cache/'));
    expect(appFiles.sort()).toEqual(['settings/instance-id', 'settings/settings.json']);
    for (const [path, text] of files) {
      for (const secret of secrets) {
        expect(text.includes(secret), `${path} contains a secret`).toBe(false);
      }
    }
  });
});
