/**
 * Watches a call's peer connection for a media path that worked and then
 * failed, as when the network changes or stalls under a call, and requests ICE
 * restarts until the path works again.
 */

/** The peer connection fields the watch reads: an `RTCPeerConnection` or a stand-in. */
export interface PeerConnectionStates extends EventTarget {
  readonly iceConnectionState: RTCIceConnectionState;
  readonly connectionState: RTCPeerConnectionState;
}

export interface MediaPathWatchOptions {
  /**
   * Starts an ICE restart: a re-INVITE with new ICE credentials. Returns false
   * when it started none, for example while an earlier restart still waits to
   * go out. Such a repeat attempt does not count.
   */
  restart(attempt: number): boolean;
  /** Runs once the last restart attempt has also left the path down. */
  giveUp(): void;
  /** Runs when the path connects again after a failure, whether or not the watch gave up. */
  recovered?(): void;
  setTimeout?: (callback: () => void, milliseconds: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

export interface MediaPathWatch {
  /** Tells whether ICE is connected now. A restart requested after a failure is not needed then. */
  isUp(): boolean;
  /** Stops watching and cancels a pending restart, for example when the call ends. */
  dispose(): void;
}

/**
 * Waits after each restart for the path to work again before the next attempt,
 * in milliseconds. Each wait covers the re-INVITE, which can queue behind a
 * glare retry or a hold, and the ICE checks after it.
 */
export const RESTART_CHECK_DELAYS_MS: readonly number[] = [15_000, 30_000, 60_000, 60_000];

/**
 * Time ICE may stay `disconnected` before the path counts as lost. On the
 * bench, Chromium reported `failed` about 10 s after `disconnected`, with no
 * audio all that time.
 */
export const DISCONNECTED_GRACE_MS = 5_000;

/**
 * Calls `restart` when a path that reached `connected` fails or stays
 * `disconnected` for DISCONNECTED_GRACE_MS, then again after each of
 * RESTART_CHECK_DELAYS_MS while the path is still down, and `giveUp` after the
 * last one. A path that connects again ends the attempts.
 *
 * Chromium can report a lost path only as connectionState `failed`, with
 * iceConnectionState left at `disconnected`, so both events count. A connection
 * whose DTLS failed stays `failed` while ICE works, and an ICE restart cannot
 * mend DTLS, so `failed` counts only when ICE is not connected and only at the
 * moment the connection state changes to it.
 */
export function watchMediaPath(peerConnection: PeerConnectionStates, options: MediaPathWatchOptions): MediaPathWatch {
  const schedule = options.setTimeout ?? ((callback, milliseconds) => setTimeout(callback, milliseconds));
  const cancel = options.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));

  let everConnected = false;
  /** Restarts requested since the path was last up; 0 while it is up. */
  let attempts = 0;
  let checkTimer: unknown = null;

  const stopChecking = () => {
    if (checkTimer !== null) cancel(checkTimer);
    checkTimer = null;
  };

  const checkAfterRestart = () => {
    const delay = RESTART_CHECK_DELAYS_MS[attempts - 1];
    checkTimer = schedule(() => {
      checkTimer = null;
      if (attempts === 0) return;
      if (attempts >= RESTART_CHECK_DELAYS_MS.length) {
        options.giveUp();
        return;
      }
      if (options.restart(attempts + 1)) attempts += 1;
      checkAfterRestart();
    }, delay ?? 0);
  };

  const startRestarts = () => {
    stopChecking();
    attempts = 1;
    options.restart(attempts);
    checkAfterRestart();
  };

  const isUp = () => {
    const iceState = peerConnection.iceConnectionState;
    return iceState === 'connected' || iceState === 'completed';
  };

  const onStateChange = (event: Event) => {
    const iceState = peerConnection.iceConnectionState;
    if (isUp()) {
      everConnected = true;
      if (attempts > 0) options.recovered?.();
      attempts = 0;
      stopChecking();
      return;
    }

    if (!everConnected || attempts > 0) return;

    const failed =
      (event.type === 'iceconnectionstatechange' && iceState === 'failed') ||
      (event.type === 'connectionstatechange' && peerConnection.connectionState === 'failed');
    if (failed) {
      startRestarts();
      return;
    }

    if (event.type === 'iceconnectionstatechange' && iceState === 'disconnected' && checkTimer === null) {
      checkTimer = schedule(() => {
        checkTimer = null;
        if (!isUp() && attempts === 0) startRestarts();
      }, DISCONNECTED_GRACE_MS);
    }
  };

  peerConnection.addEventListener('iceconnectionstatechange', onStateChange);
  peerConnection.addEventListener('connectionstatechange', onStateChange);

  return {
    isUp,
    dispose() {
      stopChecking();
      peerConnection.removeEventListener('iceconnectionstatechange', onStateChange);
      peerConnection.removeEventListener('connectionstatechange', onStateChange);
    },
  };
}
