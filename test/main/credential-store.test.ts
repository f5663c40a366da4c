import { describe, expect, it } from 'vitest';

import {
  createKeytarCredentialStore,
  KeychainUnavailableError,
  type KeytarBackend,
} from '../../src/main/credential-store';

const failingKeytar = (message: string): KeytarBackend => ({
  getPassword: () => Promise.reject(new Error(message)),
  setPassword: () => Promise.reject(new Error(message)),
  deletePassword: () => Promise.reject(new Error(message)),
});

describe('keytar credential store', () => {
  it('passes service and account through to keytar', async () => {
    const calls: string[] = [];
    const keytar: KeytarBackend = {
      getPassword: async (service, account) => {
        calls.push(`get ${service} ${account}`);
        return null;
      },
      setPassword: async (service, account) => {
        calls.push(`set ${service} ${account}`);
      },
      deletePassword: async (service, account) => {
        calls.push(`delete ${service} ${account}`);
        return false;
      },
    };
    const store = createKeytarCredentialStore(keytar, 'RCSoftphone');

    expect(await store.get('oauth-tokens')).toBeNull();
    await store.set('oauth-tokens', 'secret');
    expect(await store.delete('oauth-tokens')).toBe(false);
    expect(calls).toEqual(['get RCSoftphone oauth-tokens', 'set RCSoftphone oauth-tokens', 'delete RCSoftphone oauth-tokens']);
  });

  const backendFailures = [
    'Cannot autolaunch D-Bus without X11 $DISPLAY',
    'Could not connect: No such file or directory',
    'Object does not exist at path “/org/freedesktop/secrets/collection/login”',
    'Cannot create an item in a locked collection',
  ];

  for (const message of backendFailures) {
    it(`turns "${message.slice(0, 30)}…" into KeychainUnavailableError`, async () => {
      const store = createKeytarCredentialStore(failingKeytar(message), 'RCSoftphone', 'linux');

      const error = await store.set('oauth-tokens', 'hunter2-value').catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(KeychainUnavailableError);
      const keychainError = error as KeychainUnavailableError;
      expect(keychainError.message).toContain('The OS keychain could not be used');
      expect(keychainError.message).toContain(message);
      expect(keychainError.message).toContain('gnome-keyring or KWallet');
      expect(keychainError.operation).toBe('write');
      expect(keychainError.userError.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(keychainError.message).not.toContain('hunter2-value');
    });
  }

  it('names the fix for each operating system', async () => {
    const fixes: Record<string, RegExp> = {
      darwin: /login keychain/,
      win32: /Credential Manager/,
      linux: /Secret Service/,
    };

    for (const [platform, fix] of Object.entries(fixes)) {
      const store = createKeytarCredentialStore(failingKeytar('denied'), 'RCSoftphone', platform as NodeJS.Platform);
      const error = (await store.get('oauth-tokens').catch((caught: unknown) => caught)) as KeychainUnavailableError;

      expect(error.userError.action, platform).toMatch(fix);
      expect(error.operation).toBe('read');
    }
  });
});
