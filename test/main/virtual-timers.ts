import type { Timers } from '../../src/main/provisioning-scheduler';

interface VirtualTimer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * Timers on a virtual clock shared with the code under test and the local
 * platform. `runUntil` fires due timers in time order and, after each one,
 * waits for `settle` so real network round trips finish before the clock
 * moves on.
 */
export function createVirtualTimers(start = 1_700_000_000_000) {
  let time = start;
  let nextId = 1;
  const pending = new Map<number, VirtualTimer>();

  const timers: Timers = {
    setTimeout(callback, ms) {
      const id = nextId++;
      // Like Node and browsers, a delay past 2^31 - 1 ms fires after 1 ms.
      const delay = ms > 2_147_483_647 ? 1 : Math.max(0, ms);
      pending.set(id, { id, at: time + delay, callback });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };

  function nextDue(until: number): VirtualTimer | undefined {
    let earliest: VirtualTimer | undefined;
    for (const timer of pending.values()) {
      if (timer.at <= until && (earliest === undefined || timer.at < earliest.at || (timer.at === earliest.at && timer.id < earliest.id))) {
        earliest = timer;
      }
    }
    return earliest;
  }

  return {
    timers,
    now: () => time,
    /** Number of timers not yet fired. */
    pendingCount: () => pending.size,
    /** Epoch ms of the earliest pending timer, or null. */
    nextAt: () => {
      let at: number | null = null;
      for (const timer of pending.values()) if (at === null || timer.at < at) at = timer.at;
      return at;
    },
    /** Fires every timer due up to `until` in order, then sets the clock to `until`. */
    async runUntil(until: number, settle: () => Promise<void>): Promise<void> {
      await settle();
      for (;;) {
        const timer = nextDue(until);
        if (timer === undefined) break;

        pending.delete(timer.id);
        time = Math.max(time, timer.at);
        timer.callback();
        await settle();
      }
      time = Math.max(time, until);
    },
    /** Moves the clock without firing timers, as a machine asleep does. */
    jump(ms: number): void {
      time += ms;
    },
  };
}
