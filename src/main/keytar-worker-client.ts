// keytar 7.9 on Linux calls libsecret's secret_password_*_sync functions, which
// share one Secret Service connection and session per process, and keytar never
// calls secret_service_disconnect. After the keyring daemon stops, every later
// call in that process fails, even once a new daemon runs: gnome-keyring 42.1
// then returns "The session wrapping the secret does not exist". A new process
// connects to the daemon that runs now, so after a failure the keychain calls
// move to a worker process.
import { fork } from 'node:child_process';

import { errorMessage } from '../shared/errors';
import type { KeytarBackend } from './credential-store';
import type { KeytarRequest, KeytarResponse } from './keytar-worker-protocol';
import type { Logger } from './logger';

/** A running keychain worker process, as Electron's `utilityProcess` or Node's `child_process` provides it. */
export interface KeytarWorker {
  postMessage(request: KeytarRequest): void;
  onMessage(listener: (response: KeytarResponse) => void): void;
  /** Calls `listener` once when the process has exited or could not be started. */
  onExit(listener: (exitCode: number | null) => void): void;
  kill(): void;
}

/** Starts a new keychain worker process running out/main/keytar-worker.js. */
export type StartKeytarWorker = () => KeytarWorker;

/** A keytar backend that forwards every call to a worker process, and stops it on `close()`. */
export interface KeytarWorkerBackend extends KeytarBackend {
  close(): void;
}

export interface KeytarWorkerBackendOptions {
  start: StartKeytarWorker;
  logger: Logger;
  /** Maximum wait for one reply, including the worker's start-up; `DEFAULT_KEYTAR_REQUEST_TIMEOUT_MS` unless set. */
  requestTimeoutMs?: number;
  /** The worker stops after this long without requests; `DEFAULT_KEYTAR_WORKER_IDLE_MS` unless set. */
  idleTimeoutMs?: number;
}

/**
 * Longer than the 25 s that GLib's D-Bus client waits for a method reply by
 * default, so a daemon that does not reply shows up as libsecret's own error.
 */
export const DEFAULT_KEYTAR_REQUEST_TIMEOUT_MS = 30_000;

export const DEFAULT_KEYTAR_WORKER_IDLE_MS = 60_000;

interface PendingRequest {
  /** Receives the worker's reply, also when it carries a keytar error. */
  resolve(response: KeytarResponse): void;
  /** Receives a failure of the worker process itself: exit, timeout, or a message that could not be sent. */
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** One worker process and the requests it has not replied to yet. */
interface WorkerSlot {
  worker: KeytarWorker;
  pending: Map<number, PendingRequest>;
  /** Set once the slot takes no new requests; the process stops when its last reply arrives. */
  retired: boolean;
  exited: boolean;
  idleTimer: ReturnType<typeof setTimeout> | null;
  /** Requests that keytar completed in this process. */
  successes: number;
}

/**
 * Creates a keytar backend over worker processes. A worker starts on the first
 * request. After it exited, timed out or returned a keytar error, the next
 * request starts a new one, because libsecret in the old one may hold a session
 * with a stopped daemon. A keytar error from a worker that had completed
 * requests before is retried once in a new worker, because the daemon may have
 * restarted since then. Failures reject with an `Error` that describes them, as
 * keytar's own rejections do.
 */
export function createKeytarWorkerBackend(options: KeytarWorkerBackendOptions): KeytarWorkerBackend {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_KEYTAR_REQUEST_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_KEYTAR_WORKER_IDLE_MS;
  const logger = options.logger;
  let current: WorkerSlot | null = null;
  let nextId = 1;
  let closed = false;

  const stop = (slot: WorkerSlot, reason: string): void => {
    if (current === slot) {
      current = null;
    }
    slot.retired = true;
    if (slot.idleTimer !== null) {
      clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
    }
    failPending(slot, `the keychain worker process was stopped because ${reason}`);
    if (!slot.exited) {
      slot.exited = true;
      slot.worker.kill();
    }
  };

  const startSlot = (): WorkerSlot => {
    const worker = options.start();
    const slot: WorkerSlot = { worker, pending: new Map(), retired: false, exited: false, idleTimer: null, successes: 0 };

    worker.onMessage((response) => settle(slot, response));
    worker.onExit((exitCode) => {
      if (slot.exited) {
        return;
      }
      slot.exited = true;
      if (current === slot) {
        current = null;
      }
      logger.warn('The keychain worker process exited', { exitCode, pendingRequests: slot.pending.size });
      failPending(slot, `the keychain worker process exited with code ${exitCode ?? 'null'} before it replied`);
    });
    logger.info('Started a keychain worker process');
    return slot;
  };

  const settle = (slot: WorkerSlot, response: KeytarResponse): void => {
    const request = slot.pending.get(response.id);
    if (request === undefined) {
      return;
    }
    slot.pending.delete(response.id);
    clearTimeout(request.timer);

    request.resolve(response);
    if (response.ok) {
      slot.successes += 1;
    } else {
      // Requests it is still running get their replies before it stops.
      slot.retired = true;
      if (current === slot) {
        current = null;
      }
    }

    if (slot.pending.size > 0) {
      return;
    }
    if (slot.retired) {
      stop(slot, 'it returned a keychain error');
    } else {
      slot.idleTimer = setTimeout(() => stop(slot, 'it was idle'), idleTimeoutMs);
      slot.idleTimer.unref?.();
    }
  };

  /** Sends `request` to the current worker, started if needed; resolves with its reply. */
  const sendToWorker = (request: KeytarRequest): Promise<{ response: KeytarResponse; workerHadSucceeded: boolean }> => {
    if (closed) {
      return Promise.reject(new Error('the keychain worker process was closed because the app is quitting'));
    }

    let slot: WorkerSlot;
    try {
      current ??= startSlot();
      slot = current;
    } catch (error) {
      logger.error('Could not start a keychain worker process', { error });
      return Promise.reject(new Error(`the keychain worker process could not be started: ${errorMessage(error)}`));
    }

    if (slot.idleTimer !== null) {
      clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
    }

    const workerHadSucceeded = slot.successes > 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        slot.pending.delete(request.id);
        logger.warn('The keychain worker process did not reply in time; stopping it', {
          method: request.method,
          account: request.account,
          timeoutMs: requestTimeoutMs,
        });
        reject(new Error(`the keychain worker process did not reply within ${requestTimeoutMs} ms`));
        stop(slot, 'another request to it timed out');
      }, requestTimeoutMs);
      timer.unref?.();
      slot.pending.set(request.id, { resolve: (response) => resolve({ response, workerHadSucceeded }), reject, timer });

      try {
        slot.worker.postMessage(request);
      } catch (error) {
        logger.warn('Could not send a request to the keychain worker process', { error });
        stop(slot, `a request could not be sent to it: ${errorMessage(error)}`);
      }
    });
  };

  const send = async (request: KeytarRequest): Promise<string | boolean | null> => {
    const first = await sendToWorker(request);
    let response = first.response;
    if (!response.ok && first.workerHadSucceeded) {
      logger.info('Retrying a keychain call in a new worker process', {
        method: request.method,
        account: request.account,
        error: response.message,
      });
      response = (await sendToWorker({ ...request, id: nextId++ })).response;
    }

    if (!response.ok) {
      throw new Error(response.message);
    }
    return response.value;
  };

  return {
    getPassword: async (service, account) => {
      const value = await send({ id: nextId++, method: 'getPassword', service, account });
      if (typeof value !== 'string' && value !== null) {
        throw unexpectedValue('getPassword', value);
      }
      return value;
    },
    setPassword: async (service, account, password) => {
      await send({ id: nextId++, method: 'setPassword', service, account, password });
    },
    deletePassword: async (service, account) => {
      const value = await send({ id: nextId++, method: 'deletePassword', service, account });
      if (typeof value !== 'boolean') {
        throw unexpectedValue('deletePassword', value);
      }
      return value;
    },
    close: () => {
      closed = true;
      if (current !== null) {
        stop(current, 'the app is quitting');
      }
    },
  };
}

function failPending(slot: WorkerSlot, message: string): void {
  for (const request of slot.pending.values()) {
    clearTimeout(request.timer);
    request.reject(new Error(message));
  }
  slot.pending.clear();
}

function unexpectedValue(method: string, value: string | boolean | null): Error {
  return new Error(`the keychain worker process returned ${value === null ? 'null' : `a ${typeof value}`} for ${method}`);
}

/**
 * Starts the worker script with Node's `child_process.fork`, for tests and
 * plain Node. Electron's main process uses `utilityProcess.fork` instead,
 * because the packaged app disables the RunAsNode fuse that `fork` needs.
 */
export function forkKeytarWorker(scriptPath: string): KeytarWorker {
  const child = fork(scriptPath, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exitListeners: ((exitCode: number | null) => void)[] = [];
  let exited = false;
  const reportExit = (exitCode: number | null) => {
    if (exited) return;
    exited = true;
    for (const listener of exitListeners) listener(exitCode);
  };

  child.on('exit', (code) => reportExit(code));
  // Emitted when the process could not be started or a message could not be sent.
  child.on('error', () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill();
      return;
    }
    reportExit(child.exitCode);
  });

  return {
    postMessage: (request) => {
      child.send(request);
    },
    onMessage: (listener) => {
      child.on('message', (message) => listener(message as KeytarResponse));
    },
    onExit: (listener) => {
      exitListeners.push(listener);
    },
    kill: () => {
      child.kill();
    },
  };
}
