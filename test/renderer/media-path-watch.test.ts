import { describe, expect, it } from 'vitest';

import { DISCONNECTED_GRACE_MS, RESTART_CHECK_DELAYS_MS, watchMediaPath } from '../../src/renderer/sip/media-path-watch';

/** A peer connection whose states the test sets, firing the events in Chromium's order: ICE first. */
class StandInPeerConnection extends EventTarget {
  iceConnectionState: RTCIceConnectionState = 'new';
  connectionState: RTCPeerConnectionState = 'new';

  report(ice: RTCIceConnectionState, connection: RTCPeerConnectionState): void {
    const iceChanged = ice !== this.iceConnectionState;
    const connectionChanged = connection !== this.connectionState;
    this.iceConnectionState = ice;
    this.connectionState = connection;
    if (iceChanged) this.dispatchEvent(new Event('iceconnectionstatechange'));
    if (connectionChanged) this.dispatchEvent(new Event('connectionstatechange'));
  }
}

/** Timers the test fires by hand, in the order they were set. */
class ManualTimers {
  pending = new Map<number, { callback: () => void; milliseconds: number }>();
  #next = 1;

  setTimeout = (callback: () => void, milliseconds: number): number => {
    const handle = this.#next++;
    this.pending.set(handle, { callback, milliseconds });
    return handle;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** Fires the one pending timer and returns its delay. */
  fire(): number {
    const [entry, ...rest] = this.pending.entries();
    expect(rest, 'pending timers').toHaveLength(0);
    const [handle, timer] = entry!;
    this.pending.delete(handle);
    timer.callback();
    return timer.milliseconds;
  }
}

function watch() {
  const peerConnection = new StandInPeerConnection();
  const timers = new ManualTimers();
  const restarts: number[] = [];
  /** Results `restart` returns in turn; true once the list is empty. */
  const started: boolean[] = [];
  let gaveUp = 0;
  let recovered = 0;
  const handle = watchMediaPath(peerConnection, {
    restart: (attempt) => {
      restarts.push(attempt);
      return started.shift() ?? true;
    },
    giveUp: () => (gaveUp += 1),
    recovered: () => (recovered += 1),
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  return { peerConnection, timers, restarts, started, gaveUp: () => gaveUp, recovered: () => recovered, handle };
}

describe('watchMediaPath', () => {
  it('restarts once when only connectionState fails', () => {
    const { peerConnection, restarts } = watch();

    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'connected');
    peerConnection.report('disconnected', 'failed');
    // The legacy ICE state catches up later.
    peerConnection.report('failed', 'failed');

    expect(restarts).toEqual([1]);
  });

  it('restarts when iceConnectionState fails', () => {
    const { peerConnection, restarts } = watch();

    peerConnection.report('completed', 'connected');
    peerConnection.report('failed', 'connected');

    expect(restarts).toEqual([1]);
  });

  it('restarts after a long disconnect', () => {
    const { peerConnection, restarts, timers } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'connected');
    expect(restarts).toEqual([]);

    expect(timers.fire()).toBe(DISCONNECTED_GRACE_MS);

    expect(restarts).toEqual([1]);
    expect(timers.pending.size).toBe(1);
  });

  it('waits out a brief disconnect', () => {
    const { peerConnection, restarts, timers } = watch();
    peerConnection.report('connected', 'connected');

    peerConnection.report('disconnected', 'connected');
    peerConnection.report('connected', 'connected');

    expect(restarts).toEqual([]);
    expect(timers.pending.size).toBe(0);
  });

  it('ignores a path that never connected', () => {
    const { peerConnection, restarts, timers } = watch();

    peerConnection.report('checking', 'connecting');
    peerConnection.report('failed', 'failed');

    expect(restarts).toEqual([]);
    expect(timers.pending.size).toBe(0);
  });

  it('ignores a DTLS failure over a working ICE path', () => {
    const { peerConnection, restarts } = watch();

    peerConnection.report('connected', 'connected');
    peerConnection.report('connected', 'failed');

    expect(restarts).toEqual([]);
  });

  it('ignores brief ICE drops after a DTLS failure', () => {
    const { peerConnection, restarts } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('connected', 'failed');

    for (let drop = 0; drop < 3; drop += 1) {
      peerConnection.report('disconnected', 'failed');
      peerConnection.report('connected', 'failed');
    }

    expect(restarts).toEqual([]);
  });

  it('stops the attempts once the path connects again', () => {
    const { peerConnection, restarts, timers, recovered } = watch();
    peerConnection.report('connected', 'connected');
    expect(recovered()).toBe(0);
    peerConnection.report('disconnected', 'failed');

    peerConnection.report('checking', 'connecting');
    peerConnection.report('connected', 'connected');

    expect(restarts).toEqual([1]);
    expect(timers.pending.size).toBe(0);
    expect(recovered()).toBe(1);
  });

  it('reports a recovery after giving up', () => {
    const { peerConnection, timers, gaveUp, recovered } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'failed');
    while (timers.pending.size > 0) timers.fire();
    expect(gaveUp()).toBe(1);

    peerConnection.report('connected', 'connected');

    expect(recovered()).toBe(1);
  });

  it('restarts again while the path stays down, then gives up', () => {
    const { peerConnection, restarts, timers, gaveUp } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'failed');

    const delays: number[] = [];
    while (timers.pending.size > 0) delays.push(timers.fire());

    expect(delays).toEqual(RESTART_CHECK_DELAYS_MS);
    expect(restarts).toEqual([1, 2, 3, 4]);
    expect(gaveUp()).toBe(1);
  });

  it('does not count an attempt that started no restart', () => {
    const { peerConnection, restarts, started, timers, gaveUp } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'failed');
    // The second attempt finds the first restart still queued.
    started.push(false);

    const delays: number[] = [];
    while (timers.pending.size > 0) delays.push(timers.fire());

    expect(restarts).toEqual([1, 2, 2, 3, 4]);
    expect(delays).toEqual([RESTART_CHECK_DELAYS_MS[0], ...RESTART_CHECK_DELAYS_MS]);
    expect(gaveUp()).toBe(1);
  });

  it('restarts on a later failure after recovering', () => {
    const { peerConnection, restarts, timers } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'failed');
    timers.fire();
    peerConnection.report('connected', 'connected');

    peerConnection.report('disconnected', 'failed');

    expect(restarts).toEqual([1, 2, 1]);
  });

  it('tells whether ICE is connected now', () => {
    const { peerConnection, handle } = watch();

    expect(handle.isUp()).toBe(false);
    peerConnection.report('completed', 'connected');
    expect(handle.isUp()).toBe(true);
    peerConnection.report('disconnected', 'failed');
    expect(handle.isUp()).toBe(false);
  });

  it('does nothing after dispose', () => {
    const { peerConnection, restarts, timers, handle } = watch();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'failed');

    handle.dispose();
    peerConnection.report('connected', 'connected');
    peerConnection.report('disconnected', 'failed');

    expect(restarts).toEqual([1]);
    expect(timers.pending.size).toBe(0);
  });
});
