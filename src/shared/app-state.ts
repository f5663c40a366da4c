import type { UserFacingError } from './errors';
import type { SipProfile } from './sip-profile';

/** RingCentral servers the user can choose; `custom` takes any base URL. */
export type PlatformServerChoice = 'production' | 'sandbox' | 'custom';

export interface PublicSettings {
  server: PlatformServerChoice;
  /** Base URL used when `server` is `custom`, for example a local test platform. */
  customServerUrl: string;
  /** The app's RingCentral client id (not secret). */
  clientId: string;
}

export interface SignedInUser {
  name: string;
  extensionNumber: string;
}

/**
 * Sign-in state of the main process.
 * Transitions: signed-out → signing-in → signed-in | signed-out(error);
 * signed-out → waiting-for-browser → signing-in with the browser, or
 * waiting-for-browser → signed-out(error) on cancel, timeout or a rejected redirect;
 * signed-in → signed-out on sign-out or when the refresh token is rejected.
 */
export type SessionState =
  | { status: 'signed-out'; error: UserFacingError | null }
  /** The authorize page is open in the system browser; the app waits for its redirect. */
  | { status: 'waiting-for-browser' }
  | { status: 'signing-in' }
  | {
      status: 'signed-in';
      user: SignedInUser;
      /**
       * Set while refreshed tokens could not be stored in the OS keychain: the
       * session works until the app quits, then the user must sign in again.
       */
      keychainWarning?: UserFacingError;
    };

/** A SIP profile the line can register with, and this installation's SIP instance id. */
export interface ProvisionedLine {
  profile: SipProfile;
  instanceId: string;
}

/**
 * Provisioning of the SIP line.
 * Transitions: idle → provisioning → ready | failed; ready | failed → provisioning
 * on a new request; any → idle on sign-out.
 *
 * `line` in `provisioning` and `failed` is the profile still in use from an
 * earlier answer or from the keychain cache, so the line stays registered while
 * the platform is slow or failing; it is null before the first profile arrives.
 */
export type ProvisioningState =
  | { status: 'idle' }
  | { status: 'provisioning'; line: ProvisionedLine | null }
  | { status: 'ready'; profile: SipProfile; instanceId: string }
  | {
      status: 'failed';
      error: UserFacingError;
      /** Epoch ms of the next automatic attempt; null when only the user can retry. */
      retryAt: number | null;
      line: ProvisionedLine | null;
    };

/** Returns the profile the line registers with in this provisioning state, if any. */
export function provisionedLine(provisioning: ProvisioningState): ProvisionedLine | null {
  switch (provisioning.status) {
    case 'ready':
      return { profile: provisioning.profile, instanceId: provisioning.instanceId };
    case 'provisioning':
    case 'failed':
      return provisioning.line;
    case 'idle':
      return null;
  }
}

/** Everything the renderer may know about the main process; never holds OAuth tokens. */
export interface AppState {
  settings: PublicSettings;
  /** Whether an OAuth client secret for `settings.clientId` is in the keychain; the secret never leaves the main process. */
  clientSecretStored: boolean;
  session: SessionState;
  provisioning: ProvisioningState;
  /** Set when the settings file could not be read at start: the app runs on the default settings until they are saved. */
  settingsWarning?: UserFacingError;
}
