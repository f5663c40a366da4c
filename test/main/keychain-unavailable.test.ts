import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppState } from '../../src/shared/app-state';
import type { PlatformServer } from '../bench/platform-server';
import { ALICE, CLIENT_ID, createTempDir, readAllFiles, removeDir, startTestPlatform, TOKEN_PATH } from './helpers';

const run = promisify(execFile);
const repositoryRoot = resolve(__dirname, '../..');

interface ChildReport {
  directError: { name: string; message: string; isTyped: boolean } | null;
  restored: AppState;
  afterSignIn: AppState;
}

describe('keychain without a Secret Service', () => {
  let server: PlatformServer;
  let workDir: string;
  let settingsDir: string;
  let report: ChildReport;

  beforeAll(async () => {
    server = await startTestPlatform();
    workDir = await createTempDir('keychain-child');
    settingsDir = join(workDir, 'settings');

    // Node 20 cannot run TypeScript, so the child gets a bundle of the real modules.
    const bundle = await build({
      entryPoints: [join(__dirname, 'fixtures/keychain-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['keytar'],
      write: false,
    });
    const script = join(workDir, 'keychain-child.cjs');
    await writeFile(script, bundle.outputFiles[0]!.text);

    const { stdout } = await run(process.execPath, [script, server.url, settingsDir, CLIENT_ID, ALICE.jwtCredential], {
      env: {
        PATH: process.env['PATH'],
        HOME: workDir,
        NODE_PATH: join(repositoryRoot, 'node_modules'),
        DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent',
      },
      timeout: 20_000,
    });
    report = JSON.parse(stdout) as ChildReport;
  });

  afterAll(async () => {
    await server?.close();
    await removeDir(workDir);
  });

  it('raises KeychainUnavailableError with the fix', () => {
    expect(report.directError).not.toBeNull();
    expect(report.directError?.isTyped).toBe(true);
    expect(report.directError?.name).toBe('KeychainUnavailableError');
    expect(report.directError?.message).toContain('The OS keychain could not be used to write the "probe" entry');
    expect(report.directError?.message).toContain('gnome-keyring or KWallet');
  });

  it('shows the keychain problem at start', () => {
    expect(report.restored.session).toMatchObject({ status: 'signed-out', error: { code: 'KEYCHAIN_UNAVAILABLE' } });
  });

  it('revokes tokens it cannot store', () => {
    expect(report.afterSignIn.session).toMatchObject({
      status: 'signed-out',
      error: { code: 'KEYCHAIN_UNAVAILABLE', action: expect.stringContaining('Secret Service') },
    });
    expect(server.count(TOKEN_PATH)).toBe(1);
    expect(server.tokens.revoked()).toEqual(
      expect.arrayContaining([...server.tokens.issuedAccess(), ...server.tokens.issuedRefresh()]),
    );
  });

  it('writes no secret to disk instead', async () => {
    const files = await readAllFiles(workDir);
    const secrets = [...server.tokens.issuedAccess(), ...server.tokens.issuedRefresh(), 'child-secret-value', ALICE.jwtCredential];

    expect([...files.keys()].sort()).toEqual(['keychain-child.cjs', 'settings/instance-id', 'settings/settings.json']);
    for (const [path, text] of files) {
      if (path === 'keychain-child.cjs') continue;
      for (const secret of secrets) {
        expect(text.includes(secret), `${path} contains a secret`).toBe(false);
      }
    }
  });
});
