/**
 * Handshake before quitting: the renderer sends QuitReady after unregistering its
 * SIP line, and the app waits for that, up to a timeout, before exiting.
 */
export interface QuitHandshake {
  /** Records that the renderer is ready; earlier and later waits resolve true. */
  notifyReady(): void;
  /** Resolves true when the renderer is ready, or false after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<boolean>;
}

export function createQuitHandshake(): QuitHandshake {
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  return {
    notifyReady: () => markReady(),

    waitForReady(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });

      return Promise.race([ready.then(() => true), timedOut]).finally(() => clearTimeout(timer));
    },
  };
}
