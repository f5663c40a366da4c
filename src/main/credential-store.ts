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
 * Keychain problem, classified from the backend's message:
 * - `no-secret-service`: no D-Bus session, or nothing provides org.freedesktop.secrets (Linux);
 * - `no-login-collection`: the Secret Service runs but has no "login" collection (Linux);
 * - `locked`: the login keyring or collection is locked;
 * - `other`: any other refusal.
 */
export type KeychainProblem = 'no-secret-service' | 'no-login-collection' | 'locked' | 'other';

/**
 * The OS keychain refused an operation: no Secret Service on the D-Bus session
 * (Linux), a locked keyring or login keychain, or a missing login collection.
 * The app never falls back to storing secrets in plain files.
 *
 * NOTE: on Linux, libsecret (keytar 7.9) treats reads and deletes in a locked
 * collection as if the entry did not exist; only writes fail. A locked keyring
 * therefore shows up when the app stores a secret, not when it reads one.
 */
export class KeychainUnavailableError extends Error {
  override readonly name = 'KeychainUnavailableError';
  readonly userError: UserFacingError;
  readonly problem: KeychainProblem;

  constructor(
    readonly operation: KeychainOperation,
    readonly account: string,
    /** The keychain backend's own message, for example "Cannot autolaunch D-Bus without X11 $DISPLAY". */
    readonly backendMessage: string,
    platform: NodeJS.Platform,
    options?: { cause?: unknown },
  ) {
    const problem = classifyKeychainProblem(platform, backendMessage);
    const action = describeKeychainFix(platform, problem);
    super(
      `The OS keychain could not be used to ${operation} the "${account}" entry: ${backendMessage}. ${action}`,
      options,
    );
    this.problem = problem;
    this.userError = {
      code: 'KEYCHAIN_UNAVAILABLE',
      message: describeKeychainProblem(problem, operation, backendMessage),
      action,
    };
  }
}

// Messages of libsecret and GLib's D-Bus client as keytar 7.9 passes them on.
// "Cannot create an item in a locked collection", "Object does not exist at path
// .../collection/login" and "Could not connect: No such file or directory" were
// seen with gnome-keyring 42.1 and libsecret 0.20.5; the others are GLib's errors
// for the same cases.
const LINUX_PROBLEM_PATTERNS: [KeychainProblem, RegExp][] = [
  ['locked', /\blocked\b|cannot unlock|prompt (was )?dismissed/i],
  ['no-login-collection', /collection\/login|no such (object|collection)|object does not exist/i],
  [
    'no-secret-service',
    /could not connect|autolaunch d-bus|org\.freedesktop\.secrets was not provided|serviceunknown|no such interface|dbus_session_bus_address/i,
  ],
];

/** Classifies a keychain backend message; messages on macOS and Windows are all `other`. */
export function classifyKeychainProblem(platform: NodeJS.Platform, backendMessage: string): KeychainProblem {
  if (platform === 'darwin' || platform === 'win32') {
    return 'other';
  }
  return LINUX_PROBLEM_PATTERNS.find(([, pattern]) => pattern.test(backendMessage))?.[0] ?? 'other';
}

function describeKeychainProblem(problem: KeychainProblem, operation: KeychainOperation, backendMessage: string): string {
  switch (problem) {
    case 'locked':
      return `The login keyring is locked, so the app could not ${operation} your sign-in data (${backendMessage}).`;
    case 'no-login-collection':
      return (
        `The keyring has no unlocked "login" collection, so the app could not ${operation} your sign-in data ` +
        `(${backendMessage}).`
      );
    case 'no-secret-service':
      return `No OS keychain (Secret Service) is running, so the app could not ${operation} your sign-in data (${backendMessage}).`;
    case 'other':
      return `The OS keychain could not be used to ${operation} your sign-in data (${backendMessage}).`;
  }
}

/** Returns what the user can do to make the keychain usable on `platform`. */
export function describeKeychainFix(platform: NodeJS.Platform, problem: KeychainProblem = 'other'): string {
  switch (platform) {
    case 'darwin':
      return 'Unlock the login keychain in Keychain Access, then try again.';
    case 'win32':
      return 'Make sure Windows Credential Manager is available for your user account, then try again.';
  }

  switch (problem) {
    case 'locked':
      return (
        'Unlock the "login" keyring of your Secret Service provider (gnome-keyring or KWallet), for example in ' +
        '"Passwords and Keys" (Seahorse) or KWalletManager, then try again. The app does not store sign-in data ' +
        'anywhere else.'
      );
    case 'no-login-collection':
      return (
        'Create or unlock the "login" keyring of your Secret Service provider (gnome-keyring or KWallet), for ' +
        'example in "Passwords and Keys" (Seahorse) or KWalletManager, or sign out of the desktop and back in so ' +
        'it unlocks the keyring, then try again.'
      );
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
  /** OAuth client secret of the app in the settings; kept across sign-outs, deleted when the client id changes. */
  ClientSecret: 'client-secret',
} as const;
