import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createKeytarCredentialStore, KeychainUnavailableError, type KeytarBackend } from '../../src/main/credential-store';
import { forkKeytarWorker, type KeytarWorker } from '../../src/main/keytar-worker-client';
import { handleKeytarRequest, type KeytarRequest, type KeytarResponse } from '../../src/main/keytar-worker-protocol';
import { silentLogger } from '../../src/main/logger';
import { createRecoveringCredentialStore, type RecoveringCredentialStore } from '../../src/main/recovering-credential-store';
import { createTempDir, removeDir } from './helpers';

const SERVICE = 'rc-softphone-recovering-store';
const NO_SECRET_SERVICE = 'The name org.freedesktop.secrets was not provided by any .service files';
const LOCKED = 'Cannot create an item in a locked collection';
const builtWorkerScript = resolve(__dirname, '../../out/main/keytar-worker.js');

/** Creates an in-memory keytar that rejects every call with `failure` while it is set. */
function createFakeKeytar(): KeytarBackend & { failure: string | null; calls: number; entries: Map<string, string> } {
  const entries = new Map<string, string>();
  const fake = {
    failure: null as string | null,
    calls: 0,
    entries,
    async getPassword(service: string, account: string) {
      check();
      return entries.get(`${service}/${account}`) ?? null;
    },
    async setPassword(service: string, account: string, password: string) {
      check();
      entries.set(`${service}/${account}`, password);
    },
    async deletePassword(service: string, account: string) {
      check();
      return entries.delete(`${service}/${account}`);
    },
  };
  function check(): void {
    fake.calls += 1;
    if (fake.failure !== null) throw new Error(fake.failure);
  }
  return fake;
}

interface FakeWorker extends KeytarWorker {
  requests: KeytarRequest[];
  killed: boolean;
  reply(response: KeytarResponse): void;
  exit(code: number | null): void;
}

/**
 * Creates a start function for fake workers that pass each request to
 * `respond`. When it returns `undefined`, the request gets no reply from it.
 */
function createFakeWorkers(respond: (request: KeytarRequest, worker: FakeWorker) => KeytarResponse | undefined) {
  const started: FakeWorker[] = [];
  const start = (): KeytarWorker => {
    let messageListener: (response: KeytarResponse) => void = () => {};
    let exitListener: (code: number | null) => void = () => {};
    const worker: FakeWorker = {
      requests: [],
      killed: false,
      postMessage(request) {
        worker.requests.push(request);
        const response = respond(request, worker);
        if (response !== undefined) queueMicrotask(() => worker.reply(response));
      },
      onMessage: (listener) => void (messageListener = listener),
      onExit: (listener) => void (exitListener = listener),
      kill() {
        worker.killed = true;
        queueMicrotask(() => exitListener(null));
      },
      reply: (response) => messageListener(response),
      exit: (code) => exitListener(code),
    };
    started.push(worker);
    return worker;
  };
  return { start, started };
}

/** Returns a `respond` function that runs requests on `keytar`, as keytar-worker.ts does. */
function respondWith(keytar: KeytarBackend) {
  return (request: KeytarRequest, worker: FakeWorker): undefined => {
    void handleKeytarRequest(keytar, request).then((response) => response !== null && worker.reply(response));
    return undefined;
  };
}

const stores: RecoveringCredentialStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function createStore(
  keytar: KeytarBackend,
  startWorker: () => KeytarWorker,
  options: { platform?: NodeJS.Platform; requestTimeoutMs?: number; idleTimeoutMs?: number } = {},
): RecoveringCredentialStore {
  const store = createRecoveringCredentialStore({
    keytar,
    startWorker,
    service: SERVICE,
    platform: options.platform ?? 'linux',
    logger: silentLogger,
    requestTimeoutMs: options.requestTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
  });
  stores.push(store);
  return store;
}

async function caught(promise: Promise<unknown>): Promise<KeychainUnavailableError> {
  const error = await promise.then(
    () => null,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(KeychainUnavailableError);
  return error as KeychainUnavailableError;
}

describe('recovering credential store', () => {
  it('keeps calls in process while keytar works', async () => {
    const keytar = createFakeKeytar();
    const workers = createFakeWorkers(() => undefined);
    const store = createStore(keytar, workers.start);

    await store.set('oauth-tokens', 'secret-1');

    expect(await store.get('oauth-tokens')).toBe('secret-1');
    expect(await store.delete('oauth-tokens')).toBe(true);
    expect(workers.started).toHaveLength(0);
  });

  it('moves to a worker after a Linux failure', async () => {
    const stale = createFakeKeytar();
    stale.failure = 'The session wrapping the secret does not exist';
    const fresh = createFakeKeytar();
    const workers = createFakeWorkers(respondWith(fresh));
    const store = createStore(stale, workers.start);

    await store.set('oauth-tokens', 'secret-2');

    expect(fresh.entries.get(`${SERVICE}/oauth-tokens`)).toBe('secret-2');
    expect(await store.get('oauth-tokens')).toBe('secret-2');
    expect(await store.delete('missing')).toBe(false);
    // The in-process keytar saw only the first, failed call.
    expect(stale.calls).toBe(1);
    expect(workers.started).toHaveLength(1);
  });

  it('keeps macOS failures in process', async () => {
    const keytar = createFakeKeytar();
    keytar.failure = 'The user name or passphrase you entered is not correct.';
    const workers = createFakeWorkers(() => undefined);
    const store = createStore(keytar, workers.start, { platform: 'darwin' });

    const error = await caught(store.set('oauth-tokens', 'secret-3'));

    expect(error.backendMessage).toBe(keytar.failure);
    expect(workers.started).toHaveLength(0);
  });

  it('maps worker errors to the same typed errors', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = LOCKED;
    const inWorker = createFakeKeytar();
    inWorker.failure = LOCKED;
    const store = createStore(inProcess, createFakeWorkers(respondWith(inWorker)).start);
    const direct = createKeytarCredentialStore(inWorker, SERVICE, 'linux');

    const viaWorker = await caught(store.set('oauth-tokens', 'hunter2-value'));
    const expected = await caught(direct.set('oauth-tokens', 'hunter2-value'));

    expect(viaWorker.message).toBe(expected.message);
    expect(viaWorker.problem).toBe('locked');
    expect(viaWorker.operation).toBe('write');
    expect(viaWorker.account).toBe('oauth-tokens');
    expect(viaWorker.userError).toEqual(expected.userError);
    expect(viaWorker.message).not.toContain('hunter2-value');
  });

  it('replaces a worker after a keychain error', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const inWorker = createFakeKeytar();
    inWorker.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers(respondWith(inWorker));
    const store = createStore(inProcess, workers.start);

    const error = await caught(store.set('oauth-tokens', 'secret-4'));
    expect(error.problem).toBe('no-secret-service');
    await expect.poll(() => workers.started[0]?.killed).toBe(true);

    inWorker.failure = null;
    await store.set('oauth-tokens', 'secret-4');

    expect(workers.started).toHaveLength(2);
    expect(workers.started[1]?.killed).toBe(false);
    expect(inWorker.entries.get(`${SERVICE}/oauth-tokens`)).toBe('secret-4');
  });

  it('retries once after a worker went stale', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const stale = 'The session wrapping the secret does not exist';
    // The first worker completes one request, then keeps a session with a
    // daemon that has restarted. Later workers reach the new daemon.
    const workers = createFakeWorkers((request, worker) => {
      if (worker === workers.started[0] && worker.requests.length > 1) {
        return { id: request.id, ok: false, message: stale };
      }
      return { id: request.id, ok: true, value: null };
    });
    const store = createStore(inProcess, workers.start);
    await store.set('oauth-tokens', 'secret-11');

    await store.set('oauth-tokens', 'secret-12');

    expect(workers.started).toHaveLength(2);
    expect(workers.started[0]?.killed).toBe(true);
    expect(workers.started[1]?.requests.map((request) => request.method)).toEqual(['setPassword']);
  });

  it('retries a stale worker only once', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers((request, worker) => {
      if (worker === workers.started[0] && worker.requests.length === 1) {
        return { id: request.id, ok: true, value: null };
      }
      return { id: request.id, ok: false, message: LOCKED };
    });
    const store = createStore(inProcess, workers.start);
    await store.set('oauth-tokens', 'secret-13');

    const error = await caught(store.set('oauth-tokens', 'secret-14'));

    expect(error.problem).toBe('locked');
    expect(workers.started).toHaveLength(2);
  });

  it('reports a worker that exits mid-request', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers((request, worker) => {
      if (workers.started.length === 1) {
        queueMicrotask(() => worker.exit(1));
        return undefined;
      }
      return { id: request.id, ok: true, value: 'secret-5' };
    });
    const store = createStore(inProcess, workers.start);

    const error = await caught(store.get('oauth-tokens'));

    expect(error.operation).toBe('read');
    expect(error.backendMessage).toBe('the keychain worker process exited with code 1 before it replied');
    expect(error.userError.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(await store.get('oauth-tokens')).toBe('secret-5');
    expect(workers.started).toHaveLength(2);
  });

  it('stops a worker that does not reply', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers((request) =>
      workers.started.length === 1 ? undefined : { id: request.id, ok: true, value: true },
    );
    const store = createStore(inProcess, workers.start, { requestTimeoutMs: 50 });

    const started = Date.now();
    const error = await caught(store.delete('oauth-tokens'));

    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(error.operation).toBe('delete');
    expect(error.backendMessage).toBe('the keychain worker process did not reply within 50 ms');
    expect(workers.started[0]?.killed).toBe(true);
    expect(await store.delete('oauth-tokens')).toBe(true);
    expect(workers.started).toHaveLength(2);
  });

  it('fails the other requests of a stopped worker', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers(() => undefined);
    const store = createStore(inProcess, workers.start, { requestTimeoutMs: 50 });
    const write = caught(store.set('oauth-tokens', 'secret-6'));
    const read = caught(store.get('sip-profile'));

    const [writeError, readError] = await Promise.all([write, read]);

    // The write was sent first, so its timeout fires first and stops the worker.
    expect(writeError.backendMessage).toBe('the keychain worker process did not reply within 50 ms');
    expect(readError.backendMessage).toBe('the keychain worker process was stopped because another request to it timed out');
    expect(workers.started).toHaveLength(1);
    expect(workers.started[0]?.killed).toBe(true);
  });

  it('reports a worker that cannot start', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const store = createStore(inProcess, () => {
      throw new Error('spawn ENOMEM');
    });

    const error = await caught(store.set('oauth-tokens', 'secret-7'));

    expect(error.backendMessage).toBe('the keychain worker process could not be started: spawn ENOMEM');
  });

  it('rejects a reply of the wrong type', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers((request) => ({ id: request.id, ok: true, value: true }));
    const store = createStore(inProcess, workers.start);

    const error = await caught(store.get('oauth-tokens'));

    expect(error.backendMessage).toBe('the keychain worker process returned a boolean for getPassword');
  });

  it('stops an idle worker', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers(respondWith(createFakeKeytar()));
    const store = createStore(inProcess, workers.start, { idleTimeoutMs: 30 });
    await store.set('oauth-tokens', 'secret-8');

    await expect.poll(() => workers.started[0]?.killed).toBe(true);

    // The next call starts a new worker over the same keyring.
    expect(await store.get('oauth-tokens')).toBe('secret-8');
    expect(workers.started).toHaveLength(2);
  });

  it('stops the worker on close', async () => {
    const inProcess = createFakeKeytar();
    inProcess.failure = NO_SECRET_SERVICE;
    const workers = createFakeWorkers(() => undefined);
    const store = createStore(inProcess, workers.start);
    const pending = caught(store.set('oauth-tokens', 'secret-9'));
    await expect.poll(() => workers.started[0]?.requests.length).toBe(1);

    store.close();

    expect((await pending).backendMessage).toBe('the keychain worker process was stopped because the app is quitting');
    expect(workers.started[0]?.killed).toBe(true);
    const afterClose = await caught(store.get('oauth-tokens'));
    expect(afterClose.backendMessage).toBe('the keychain worker process was closed because the app is quitting');
    expect(workers.started).toHaveLength(1);
  });
});

describe('keytar worker request handling', () => {
  it('ignores messages that are not requests', async () => {
    const keytar = createFakeKeytar();

    const messages = [
      null,
      'getPassword',
      { id: 1, method: 'getPassword' },
      { id: 1, method: 'setPassword', service: 's', account: 'a' },
      { id: 1, method: 'findCredentials', service: 's', account: 'a' },
    ];

    for (const message of messages) {
      expect(await handleKeytarRequest(keytar, message), JSON.stringify(message)).toBeNull();
    }
    expect(keytar.calls).toBe(0);
  });

  it('returns keytar errors as messages', async () => {
    const keytar = createFakeKeytar();
    keytar.failure = LOCKED;

    const response = await handleKeytarRequest(keytar, { id: 7, method: 'setPassword', service: 's', account: 'a', password: 'p' });

    expect(response).toEqual({ id: 7, ok: false, message: LOCKED });
  });
});

describe('forked keytar worker', () => {
  let dir: string | undefined;

  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
    dir = undefined;
  });

  /** Writes a stand-in worker script and returns its path. */
  async function writeScript(name: string, source: string): Promise<string> {
    dir ??= await createTempDir('keytar-worker');
    const path = join(dir, name);
    await writeFile(path, source);
    return path;
  }

  function failingInProcess(): KeytarBackend {
    const keytar = createFakeKeytar();
    keytar.failure = NO_SECRET_SERVICE;
    return keytar;
  }

  it('reports a process that exits', async () => {
    const script = await writeScript('exits.cjs', "process.on('message', () => process.exit(3));\n");
    const store = createStore(failingInProcess(), () => forkKeytarWorker(script));

    const error = await caught(store.get('oauth-tokens'));

    expect(error.backendMessage).toBe('the keychain worker process exited with code 3 before it replied');
  });

  it('kills a process that does not reply', async () => {
    dir ??= await createTempDir('keytar-worker');
    const marker = join(dir, 'terminated');
    const script = await writeScript(
      'silent.cjs',
      [
        "process.on('message', () => {});",
        `process.on('SIGTERM', () => { require('node:fs').writeFileSync(${JSON.stringify(marker)}, ''); process.exit(0); });`,
        '',
      ].join('\n'),
    );
    // The timeout leaves the child time to start and install its SIGTERM handler on a loaded machine.
    const store = createStore(failingInProcess(), () => forkKeytarWorker(script), { requestTimeoutMs: 3000 });

    const error = await caught(store.set('oauth-tokens', 'secret-10'));

    expect(error.backendMessage).toBe('the keychain worker process did not reply within 3000 ms');
    await expect.poll(() => existsSync(marker)).toBe(true);
  });

  it('runs keytar in the built worker', async () => {
    if (!existsSync(builtWorkerScript)) {
      throw new Error(`${builtWorkerScript} is missing: run \`npx electron-vite build\` first.`);
    }
    const store = createStore(failingInProcess(), () => forkKeytarWorker(builtWorkerScript));

    await store.set('probe', 'worker-secret-value');

    expect(await store.get('probe')).toBe('worker-secret-value');
    expect(await store.delete('probe')).toBe(true);
    expect(await store.get('probe')).toBeNull();
  });
});
