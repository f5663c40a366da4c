import { describe, expect, it } from 'vitest';

import { NETWORK_CHECK_INTERVAL_MS, startNetworkMonitor } from '../../src/main/network-monitor';
import { createRecordingLogger } from './helpers';
import { createVirtualTimers } from './virtual-timers';

const settle = async () => undefined;

describe('network monitor', () => {
  it('reports each change once, at the next check', async () => {
    const clock = createVirtualTimers();
    let online = true;
    const changes: boolean[] = [];
    startNetworkMonitor({ isOnline: () => online, onChange: (next) => changes.push(next), logger: createRecordingLogger(), timers: clock.timers });

    await clock.runUntil(clock.now() + 3 * NETWORK_CHECK_INTERVAL_MS, settle);
    expect(changes).toEqual([]);

    online = false;
    await clock.runUntil(clock.now() + NETWORK_CHECK_INTERVAL_MS, settle);
    await clock.runUntil(clock.now() + 3 * NETWORK_CHECK_INTERVAL_MS, settle);
    online = true;
    await clock.runUntil(clock.now() + NETWORK_CHECK_INTERVAL_MS, settle);

    expect(changes).toEqual([false, true]);
  });

  it('checks at once on request, for a resume from sleep', () => {
    const clock = createVirtualTimers();
    let online = true;
    const changes: boolean[] = [];
    const monitor = startNetworkMonitor({ isOnline: () => online, onChange: (next) => changes.push(next), logger: createRecordingLogger(), timers: clock.timers });

    online = false;
    monitor.check();

    expect(changes).toEqual([false]);
  });

  it('keeps the last state when reading it throws, and logs the error', async () => {
    const clock = createVirtualTimers();
    const logger = createRecordingLogger();
    const changes: boolean[] = [];
    startNetworkMonitor({
      isOnline: () => {
        throw new Error('net module not ready');
      },
      onChange: (next) => changes.push(next),
      logger,
      timers: clock.timers,
    });

    await clock.runUntil(clock.now() + 2 * NETWORK_CHECK_INTERVAL_MS, settle);

    expect(changes).toEqual([]);
    expect(logger.lines.some((line) => line.level === 'warn' && line.message.includes('network state'))).toBe(true);
  });

  it('stops checking after stop()', async () => {
    const clock = createVirtualTimers();
    let reads = 0;
    const monitor = startNetworkMonitor({
      isOnline: () => {
        reads += 1;
        return true;
      },
      onChange: () => undefined,
      logger: createRecordingLogger(),
      timers: clock.timers,
    });

    monitor.stop();
    const readsAtStop = reads;
    await clock.runUntil(clock.now() + 10 * NETWORK_CHECK_INTERVAL_MS, settle);

    expect(reads).toBe(readsAtStop);
    expect(clock.pendingCount()).toBe(0);
  });
});
