import type { UserFacingError } from '../shared/errors';

/**
 * Secrets of this app (OAuth tokens, the cached SIP profile) kept in the OS
 * keychain under one service name, one entry per account.
 */
export interface CredentialStore {
  /** Returns the secret, or null when the entry does not exist. */
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** Deletes the entry; returns false when there was none. */
  delete(account: string): Promise<boolean>;
}

/** The part of keytar this store uses, so tests can pass a fake. */
export type KeytarBackend = Pick<typeof import('keytar'), 'getPassword' | 'setPassword' | 'deletePassword'>;

type KeychainOperation = 'read' | 'write' | 'delete';

/**
 * The OS keychain refused an operation: no Secret Service on the D-Bus session
 * (Linux), a locked keyring or login keychain, or a missing login collection.
 * The app never falls back to storing secrets in plain files.
 */
export class KeychainUnavailableError extends Error {
  override readonly name = 'KeychainUnavailableError';
  readonly userError: UserFacingError;

  constructor(
    readonly operation: KeychainOperation,
    readonly account: string,
    /** The keychain backend's own message, for example "Cannot autolaunch D-Bus without X11 $DISPLAY". */
    readonly backendMessage: string,
    platform: NodeJS.Platform,
    options?: { cause?: unknown },
  ) {
    const action = describeKeychainFix(platform);
    super(
      `The OS keychain could not be used to ${operation} the "${account}" entry: ${backendMessage}. ${action}`,
      options,
    );
    this.userError = {
      code: 'KEYCHAIN_UNAVAILABLE',
      message: `The OS keychain could not be used to ${operation} your sign-in data (${backendMessage}).`,
      action,
    };
  }
}

/** Returns what the user can do to make the keychain usable on `platform`. */
export function describeKeychainFix(platform: NodeJS.Platform): string {
  switch (platform) {
    case 'darwin':
      return 'Unlock the login keychain in Keychain Access, then try again.';
    case 'win32':
      return 'Make sure Windows Credential Manager is available for your user account, then try again.';
    default:
      return (
        'Install and unlock a Secret Service provider such as gnome-keyring or KWallet ' +
        '(it needs a running D-Bus session with an unlocked "login" collection), then try again.'
      );
  }
}

/**
 * Creates a credential store over keytar. Every keytar failure becomes a
 * `KeychainUnavailableError`; a missing entry is `null`, not an error.
 */
export function createKeytarCredentialStore(
  keytar: KeytarBackend,
  service: string,
  platform: NodeJS.Platform = process.platform,
): CredentialStore {
  const run = async <T>(operation: KeychainOperation, account: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      const backendMessage = error instanceof Error ? error.message : String(error);
      throw new KeychainUnavailableError(operation, account, backendMessage, platform, { cause: error });
    }
  };

  return {
    get: (account) => run('read', account, () => keytar.getPassword(service, account)),
    set: (account, secret) => run('write', account, () => keytar.setPassword(service, account, secret)),
    delete: (account) => run('delete', account, () => keytar.deletePassword(service, account)),
  };
}

/** Keychain account names used by this app. */
export const CredentialAccount = {
  /** OAuth tokens of the signed-in user, with the server and client id they belong to. */
  OAuthTokens: 'oauth-tokens',
  /** The last provisioned SIP profile, which contains the SIP password. */
  SipProfile: 'sip-profile',
  /** Name and extension number of the signed-in user, shown at start before any platform request. */
  SignedInUser: 'signed-in-user',
} as const;
