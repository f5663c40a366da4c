import {
  createKeytarCredentialStore,
  type CredentialStore,
  KeychainUnavailableError,
  type KeytarBackend,
} from './credential-store';
import { createKeytarWorkerBackend, type StartKeytarWorker } from './keytar-worker-client';
import type { Logger } from './logger';

export interface RecoveringCredentialStoreOptions {
  /** keytar loaded in this process. */
  keytar: KeytarBackend;
  /** Starts a keychain worker process; called only after a keychain failure. */
  startWorker: StartKeytarWorker;
  service: string;
  platform?: NodeJS.Platform;
  logger: Logger;
  /** Passed to the worker backend; its defaults apply unless set. */
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
}

/** A credential store that also stops its keychain worker process on `close()`, at quit. */
export interface RecoveringCredentialStore extends CredentialStore {
  close(): void;
}

/**
 * Creates a credential store that calls keytar in this process until the first
 * keychain failure on Linux. That operation, and every later one, then runs in
 * a keychain worker process (see keytar-worker-client.ts), so the app reaches a
 * Secret Service that was restarted while it ran. Errors are the same
 * `KeychainUnavailableError`s that `createKeytarCredentialStore` throws. On
 * macOS and Windows keytar does not use libsecret, so calls stay in process.
 */
export function createRecoveringCredentialStore(options: RecoveringCredentialStoreOptions): RecoveringCredentialStore {
  const platform = options.platform ?? process.platform;
  const logger = options.logger;
  const inProcess = createKeytarCredentialStore(options.keytar, options.service, platform);
  const workerBackend = createKeytarWorkerBackend({
    start: options.startWorker,
    logger,
    requestTimeoutMs: options.requestTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
  });
  const inWorker = createKeytarCredentialStore(workerBackend, options.service, platform);
  const usesLibsecret = platform !== 'darwin' && platform !== 'win32';
  let useWorker = false;

  const run = async <T>(call: (store: CredentialStore) => Promise<T>): Promise<T> => {
    if (!useWorker) {
      try {
        return await call(inProcess);
      } catch (error) {
        if (!usesLibsecret || !(error instanceof KeychainUnavailableError)) {
          throw error;
        }
        // Calls that were already running in process can fail after the switch too.
        if (!useWorker) {
          useWorker = true;
          logger.warn('Keychain call failed in the main process; keychain calls now run in a worker process', {
            operation: error.operation,
            account: error.account,
            error,
          });
        }
      }
    }
    return call(inWorker);
  };

  return {
    get: (account) => run((store) => store.get(account)),
    set: (account, secret) => run((store) => store.set(account, secret)),
    delete: (account) => run((store) => store.delete(account)),
    close: () => workerBackend.close(),
  };
}
