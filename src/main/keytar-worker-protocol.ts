import { errorMessage } from '../shared/errors';
import type { KeytarBackend } from './credential-store';

/** A keytar call sent from the main process to the keychain worker process. */
export type KeytarRequest =
  | { id: number; method: 'getPassword'; service: string; account: string }
  | { id: number; method: 'setPassword'; service: string; account: string; password: string }
  | { id: number; method: 'deletePassword'; service: string; account: string };

/**
 * The worker's reply to the request with the same `id`: keytar's return value,
 * or the message of the error keytar threw.
 */
export type KeytarResponse = { id: number; ok: true; value: string | boolean | null } | { id: number; ok: false; message: string };

/**
 * Runs one request on `keytar` and resolves with the reply, which carries a
 * keytar error as its message. Resolves with null when `message` is not a request.
 */
export async function handleKeytarRequest(keytar: KeytarBackend, message: unknown): Promise<KeytarResponse | null> {
  const request = parseKeytarRequest(message);
  if (request === null) {
    return null;
  }

  try {
    switch (request.method) {
      case 'getPassword':
        return { id: request.id, ok: true, value: await keytar.getPassword(request.service, request.account) };
      case 'setPassword':
        await keytar.setPassword(request.service, request.account, request.password);
        return { id: request.id, ok: true, value: null };
      case 'deletePassword':
        return { id: request.id, ok: true, value: await keytar.deletePassword(request.service, request.account) };
    }
  } catch (error) {
    return { id: request.id, ok: false, message: errorMessage(error) };
  }
}

/** Returns the request in `message`, or null when it is not one. */
function parseKeytarRequest(message: unknown): KeytarRequest | null {
  if (typeof message !== 'object' || message === null) {
    return null;
  }

  const fields = message as Record<string, unknown>;
  const { id, method, service, account, password } = fields;
  if (typeof id !== 'number' || typeof service !== 'string' || typeof account !== 'string') {
    return null;
  }
  if (method === 'getPassword' || method === 'deletePassword') {
    return { id, method, service, account };
  }
  if (method === 'setPassword' && typeof password === 'string') {
    return { id, method, service, account, password };
  }
  return null;
}
