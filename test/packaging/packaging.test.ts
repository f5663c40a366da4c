/**
 * Offline packaging check: electron-builder packs the built app for Linux
 * (`dir` target) around a stand-in Electron, and the result is inspected. The
 * Electron binary cannot be downloaded here, so nothing is launched.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { extractFile, listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { APP_ID } from '../../src/main/app-identity';
import { DIAL_LINK_SCHEMES } from '../../src/main/protocol-links';
import { FuseState, repositoryRoot, runElectronBuilder, writeStandInElectron, type BuildResult } from './stand-in-electron';

const ELECTRON_VERSION = '45.6.1';

const loadYaml = createRequire(import.meta.url)('js-yaml').load as (text: string) => unknown;

/** A path segment or file name that marks a test, spec or benchmark file. */
const TEST_OR_BENCH_FILE =
  /(^|\/)(test|tests|__tests__|spec|bench|benchmarks?)(\/|$)|(^|\/)(test|bench)([-.][^/]*)?\.[cm]?[jt]s$|\.(test|spec|bench)\.[cm]?[jt]s$/;

describe('packaged app (electron-builder --linux dir)', () => {
  let workDir: string;
  let appDir: string;
  let build: BuildResult;
  let asarFiles: string[];

  beforeAll(async () => {
    for (const bundle of ['out/main/index.js', 'out/main/keytar-worker.js', 'out/preload/index.js', 'out/renderer/index.html']) {
      if (!existsSync(join(repositoryRoot, bundle))) {
        throw new Error(`${bundle} is missing: run \`npx electron-vite build\` first (npm test does).`);
      }
    }

    workDir = await mkdtemp(join(tmpdir(), 'softphone-packaging-'));
    await writeStandInElectron(join(workDir, 'electron'), ELECTRON_VERSION);
    build = await runElectronBuilder(join(workDir, 'electron'), join(workDir, 'dist'), ELECTRON_VERSION);
    appDir = join(workDir, 'dist', 'linux-unpacked');
    asarFiles = build.exitCode === 0 ? listPackage(join(appDir, 'resources', 'app.asar'), { isPack: false }) : [];
  }, 120_000);

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('builds without errors', () => {
    expect(build.exitCode, build.output).toBe(0);
  });

  it('puts the three bundles into app.asar', () => {
    expect(asarFiles).toContain('/out/main/index.js');
    expect(asarFiles).toContain('/out/preload/index.js');
    expect(asarFiles).toContain('/out/renderer/index.html');
    expect(asarFiles.some((file) => /^\/out\/renderer\/assets\/index-[^/]+\.js$/.test(file))).toBe(true);
  });

  it('puts the keychain worker beside the main bundle', () => {
    // The main process starts it with utilityProcess.fork(join(__dirname, 'keytar-worker.js')).
    expect(asarFiles).toContain('/out/main/keytar-worker.js');
    const worker = extractFile(join(appDir, 'resources', 'app.asar'), 'out/main/keytar-worker.js').toString();
    expect(worker).toContain('require("keytar")');
    for (const match of worker.matchAll(/require\("(\.\/[^"]+)"\)/g)) {
      expect(asarFiles, match[1]).toContain(join('/out/main', match[1]!));
    }
  });

  it('starts the main bundle', () => {
    const packageJson = JSON.parse(extractFile(join(appDir, 'resources', 'app.asar'), 'package.json').toString()) as { main: string };

    expect(packageJson.main).toBe('out/main/index.js');
  });

  it('unpacks keytar’s native module', () => {
    expect(existsSync(join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', 'keytar', 'build', 'Release', 'keytar.node'))).toBe(true);
  });

  it('packages the production dependencies and no development ones', () => {
    for (const dependency of ['electron-log', 'keytar', 'libphonenumber-js', 'zod']) {
      expect(asarFiles, dependency).toContain(`/node_modules/${dependency}/package.json`);
    }
    for (const devDependency of ['sip.js', 'electron', 'vitest', 'svelte', 'playwright-core']) {
      expect(asarFiles, devDependency).not.toContain(`/node_modules/${devDependency}/package.json`);
    }
  });

  it('packages no test, bench or source map file', () => {
    const unwanted = asarFiles.filter((file) => TEST_OR_BENCH_FILE.test(file) || file.endsWith('.map'));

    expect(asarFiles.length).toBeGreaterThan(0);
    expect(unwanted).toEqual([]);
    expect(asarFiles.some((file) => file.startsWith('/test/') || file.startsWith('/src/'))).toBe(false);
  });

  it('flips the fuses in the executable', async () => {
    const wire = await getCurrentFuseWire(join(appDir, 'rc-softphone'));

    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(FuseState.DISABLE);
  });
});

describe('electron-builder.yml', () => {
  interface BuilderConfig {
    appId: string;
    npmRebuild: boolean;
    protocols: { schemes: string[] }[];
    mac: { target: string; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; extendInfo: Record<string, string> };
    win: { target: string };
    linux: { target: string[] };
    deb: { depends: string[] };
  }

  const readConfig = async () => loadYaml(await readFile(join(repositoryRoot, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

  it('uses the app id that the main process registers', async () => {
    expect((await readConfig()).appId).toBe(APP_ID);
  });

  it('declares the dial link schemes', async () => {
    const schemes = (await readConfig()).protocols.flatMap((protocol) => protocol.schemes);

    expect(schemes.sort()).toEqual([...DIAL_LINK_SCHEMES].sort());
  });

  it('builds AppImage and deb with libsecret, NSIS and a hardened dmg', async () => {
    const config = await readConfig();

    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.deb.depends).toContain('libsecret-1-0');
    expect(config.win.target).toBe('nsis');
    expect(config.mac.target).toBe('dmg');
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.extendInfo['NSMicrophoneUsageDescription']).toMatch(/microphone/);
    expect(config.npmRebuild).toBe(false);
  });

  it('grants audio input in both entitlement files', async () => {
    const config = await readConfig();

    for (const file of [config.mac.entitlements, config.mac.entitlementsInherit]) {
      const plist = await readFile(join(repositoryRoot, file), 'utf8');

      expect(plist, file).toMatch(/<key>com\.apple\.security\.device\.audio-input<\/key>\s*<true\/>/);
    }
  });
});
