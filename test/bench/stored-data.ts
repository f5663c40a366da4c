import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { CALL_HISTORY_FILE_NAME } from '../../src/main/call-history';
import { SETTINGS_FILE_NAME } from '../../src/main/settings';
import { keychainAccounts } from './keychain-entries';
import type { SoftphoneInstance } from './softphone-instance';

/** What must survive a fault: the settings file, the call history file and the keychain accounts. */
export async function storedData(phone: SoftphoneInstance) {
  const readOrNull = (name: string) => readFile(join(phone.dataDir, name), 'utf8').catch(() => null);
  return {
    settings: await readOrNull(SETTINGS_FILE_NAME),
    history: await readOrNull(CALL_HISTORY_FILE_NAME),
    keychain: await keychainAccounts(phone.keychainService),
  };
}
