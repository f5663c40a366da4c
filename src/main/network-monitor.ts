import type { Logger } from './logger';
import type { Timers } from './provisioning-scheduler';

/** How often the operating system's network state is read. */
export const NETWORK_CHECK_INTERVAL_MS = 2_000;

export interface NetworkMonitorOptions {
  /** Electron's `net.isOnline()` in production. */
  isOnline: () => boolean;
  /** Called once per change, with the new state. */
  onChange: (online: boolean) => void;
  logger: Logger;
  timers?: Timers;
  intervalMs?: number;
}

export interface NetworkMonitor {
  /** Reads the state now, for example right after a resume from sleep. */
  check(): void;
  stop(): void;
}

/**
 * Reports changes of the operating system's network state.
 *
 * The main process reads Electron's `net.isOnline()` on a timer, because Electron
 * 45 has no main-process event for it, and both the provisioning schedule (here)
 * and the SIP engine (in the renderer, through `IpcEvent.NetworkOnline` and
 * `NetworkOffline`) need it. One source keeps the two in agreement. `false` is a
 * strong sign that nothing can be reached; `true` only means that some network
 * interface is up.
 */
export function startNetworkMonitor(options: NetworkMonitorOptions): NetworkMonitor {
  const timers: Timers = options.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
  const intervalMs = options.intervalMs ?? NETWORK_CHECK_INTERVAL_MS;

  let online = readOnline(options, true);
  let timer: unknown = null;
  let stopped = false;

  const check = () => {
    const now = readOnline(options, online);
    if (now === online) return;

    online = now;
    options.logger.info(online ? 'The operating system reports the network back' : 'The operating system reports no network');
    options.onChange(online);
  };

  const tick = () => {
    if (stopped) return;
    check();
    timer = timers.setTimeout(tick, intervalMs);
  };
  timer = timers.setTimeout(tick, intervalMs);

  return {
    check,
    stop() {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
    },
  };
}

function readOnline(options: NetworkMonitorOptions, fallback: boolean): boolean {
  try {
    return options.isOnline();
  } catch (error) {
    options.logger.warn('Could not read the network state; keeping the last one', { error });
    return fallback;
  }
}
