import keytar from 'keytar';

import { CredentialAccount } from '../../src/main/credential-store';

/**
 * Lists which of the app's keychain accounts exist under `service`, sorted.
 * It reads each known account with getPassword instead of keytar's
 * findCredentials: findCredentials walks every item's secret and keytar 7.9
 * crashes the process (libsecret `secret_value_get_text` assertion) when an item
 * of another test is created at the same moment.
 */
export async function keychainAccounts(service: string): Promise<string[]> {
  const present: string[] = [];

  for (const account of Object.values(CredentialAccount)) {
    if ((await keytar.getPassword(service, account)) !== null) present.push(account);
  }

  return present.sort();
}

/** Deletes every app keychain account under `service`. */
export async function clearKeychain(service: string): Promise<void> {
  for (const account of Object.values(CredentialAccount)) {
    await keytar.deletePassword(service, account);
  }
}
