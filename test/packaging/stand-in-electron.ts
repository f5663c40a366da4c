import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { FuseV1Options } from '@electron/fuses';

export const repositoryRoot = resolve(__dirname, '../..');

/** Marker before the fuse wire in Electron's executable (`SENTINEL` in @electron/fuses 1.8). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSE_WIRE_VERSION = 1;
const FUSE_COUNT = Object.keys(FuseV1Options).length / 2;

/** Byte values of a fuse in the wire (`FuseState` in @electron/fuses 1.8): ASCII "0" and "1". */
export const FuseState = { DISABLE: 0x30, ENABLE: 0x31 } as const;

/**
 * Writes a stand-in for an unpacked Electron distribution into `directory`: an
 * executable named `electron` and a `version` file, which is enough for
 * electron-builder 26.18 to pack a Linux `dir` target. The executable carries a
 * fuse wire with every fuse in the state opposite to the one the build must
 * set, so a build that did not flip a fuse fails the check.
 */
export async function writeStandInElectron(directory: string, version: string): Promise<void> {
  await mkdir(directory, { recursive: true });

  const fuses = Buffer.alloc(FUSE_COUNT, FuseState.ENABLE);
  fuses[FuseV1Options.EnableEmbeddedAsarIntegrityValidation] = FuseState.DISABLE;
  fuses[FuseV1Options.OnlyLoadAppFromAsar] = FuseState.DISABLE;
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([FUSE_WIRE_VERSION, FUSE_COUNT]), fuses]);

  const executable = join(directory, 'electron');
  await writeFile(executable, Buffer.concat([Buffer.from('#!/bin/sh\n# Stand-in for the Electron binary.\nexit 1\n'), wire]));
  await chmod(executable, 0o755);
  await writeFile(join(directory, 'version'), version);
}

export interface BuildResult {
  exitCode: number | null;
  output: string;
}

/** Runs `electron-builder --linux dir` with the repository's config against the stand-in. */
export function runElectronBuilder(electronDist: string, outputDir: string, version: string): Promise<BuildResult> {
  const cli = join(repositoryRoot, 'node_modules/electron-builder/cli.js');
  const args = [
    cli,
    '--linux',
    'dir',
    '--config',
    'electron-builder.yml',
    `-c.electronDist=${electronDist}`,
    `-c.electronVersion=${version}`,
    `-c.directories.output=${outputDir}`,
  ];

  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repositoryRoot,
      // No code signing on a check build.
      env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolvePromise({ exitCode, output }));
  });
}
