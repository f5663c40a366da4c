import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchBenchChromium, type BenchBrowser } from './chromium';
import { findNetworkServicePid, freezeNetwork } from './network-freeze';
import { listDescendants } from './renderer-resources';

/** Returns the state letter of /proc/<pid>/stat: "T" while stopped. */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

/** Lists the watchdog shells of `pid`; their forked children, which briefly show the same command line, are left out. */
function watchdogs(pid: number) {
  return listDescendants().filter(
    (entry) => entry.parentPid === process.pid && entry.commandLine.includes(`kill -CONT ${pid} 2>`),
  );
}

describe('freezeNetwork', () => {
  let profileDir: string;
  let browser: BenchBrowser;
  let pid: number;

  beforeAll(async () => {
    profileDir = await mkdtemp(join(tmpdir(), 'network-freeze-'));
    browser = await launchBenchChromium([], profileDir);
    pid = findNetworkServicePid(profileDir);
  });

  afterAll(async () => {
    await browser?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('stops the network service until resume', async () => {
    const frozen = freezeNetwork(profileDir, 60_000);
    // The process stops shortly after kill() returns.
    await expect.poll(() => processState(pid), { timeout: 2_000, interval: 20 }).toBe('T');
    expect(watchdogs(pid)).toHaveLength(1);

    frozen.resume();

    await expect.poll(() => processState(pid), { timeout: 2_000, interval: 20 }).not.toBe('T');
    await expect.poll(() => watchdogs(pid).length, { timeout: 2_000 }).toBe(0);
  });

  it('resumes by itself after the limit', async () => {
    freezeNetwork(profileDir, 1_000);
    await expect.poll(() => processState(pid), { timeout: 2_000, interval: 20 }).toBe('T');

    await expect.poll(() => processState(pid), { timeout: 5_000, interval: 100 }).not.toBe('T');
  });

  it('refuses a limit under one second', () => {
    expect(() => freezeNetwork(profileDir, 0)).toThrow('The freeze limit must be at least 1000 ms, got 0');
  });

  it('refuses a profile no Chromium runs with', () => {
    expect(() => freezeNetwork(join(profileDir, 'elsewhere'), 1_000)).toThrow(
      `No Chromium browser process runs with the profile ${join(profileDir, 'elsewhere')}`,
    );
  });
});
