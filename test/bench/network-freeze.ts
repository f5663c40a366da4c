/**
 * Freezes one bench Chromium's network, as a stalled Wi-Fi link would,
 * without any network change event. Chromium sends and receives UDP and
 * WebSocket traffic through its network service process, so stopping that
 * process with SIGSTOP stops the page's media and SIP traffic while its
 * renderer keeps running.
 */
import { spawn } from 'node:child_process';

import { listDescendants } from './renderer-resources';

const NETWORK_SERVICE = '--utility-sub-type=network.mojom.NetworkService';

export interface FrozenNetwork {
  /** Lets the network service run again. Calling it twice is harmless. */
  resume(): void;
}

/** Returns the pid of the network service of the Chromium started with `profileDir`. */
export function findNetworkServicePid(profileDir: string): number {
  const processes = listDescendants();
  const browser = processes.find(
    (entry) => entry.commandLine.includes(`--user-data-dir=${profileDir}`) && !entry.commandLine.includes(' --type='),
  );
  if (!browser) throw new Error(`No Chromium browser process runs with the profile ${profileDir}`);

  const service = processes.find((entry) => entry.parentPid === browser.pid && entry.commandLine.includes(NETWORK_SERVICE));
  if (!service) throw new Error(`The Chromium with the profile ${profileDir} has no network service process`);
  return service.pid;
}

/**
 * Stops the network service of the Chromium started with `profileDir`. It runs
 * again on `resume()`, or after `limitMs` at the latest: a detached shell sends
 * SIGCONT then, so even a test process that is killed cannot leave it stopped.
 */
export function freezeNetwork(profileDir: string, limitMs: number): FrozenNetwork {
  if (!(limitMs >= 1000)) throw new Error(`The freeze limit must be at least 1000 ms, got ${limitMs}`);
  const pid = findNetworkServicePid(profileDir);
  const limitSeconds = Math.ceil(limitMs / 1000);
  const watchdog = spawn('sh', ['-c', `sleep ${limitSeconds}; kill -CONT ${pid} 2>/dev/null`], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  // Without its watchdog, the process must not stay stopped.
  watchdog.once('error', () => resume());
  process.kill(pid, 'SIGSTOP');

  let frozen = true;
  function resume(): void {
    if (!frozen) return;
    frozen = false;
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // The process ended meanwhile: its browser was closed.
    }
    // The shell leads its own process group, so this ends its sleep too.
    if (watchdog.pid !== undefined) {
      try {
        process.kill(-watchdog.pid, 'SIGTERM');
      } catch {
        // The watchdog has already run.
      }
    }
  }
  return { resume };
}
