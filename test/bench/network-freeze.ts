/**
 * Freezes one bench Chromium's network, as a stalled Wi-Fi link would,
 * without any network change event. Chromium sends and receives UDP and
 * WebSocket traffic through its network service process, so stopping that
 * process with SIGSTOP stops the page's media and SIP traffic while its
 * renderer keeps running.
 */
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
 * again on `resume()`, or after `limitMs` at the latest, so a failed test cannot
 * leave it stopped.
 */
export function freezeNetwork(profileDir: string, limitMs: number): FrozenNetwork {
  const pid = findNetworkServicePid(profileDir);
  process.kill(pid, 'SIGSTOP');

  let frozen = true;
  const resume = () => {
    if (!frozen) return;
    frozen = false;
    clearTimeout(limit);
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // The process ended meanwhile: its browser was closed.
    }
  };
  const limit = setTimeout(resume, limitMs);
  return { resume };
}
