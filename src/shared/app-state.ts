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
 * signed-in → signed-out on sign-out or when the refresh token is rejected.
 */
export type SessionState =
  | { status: 'signed-out'; error: UserFacingError | null }
  | { status: 'signing-in' }
  | { status: 'signed-in'; user: SignedInUser };

/**
 * Provisioning of the SIP line.
 * Transitions: idle → provisioning → ready | failed; ready | failed → provisioning
 * on a new request; any → idle on sign-out.
 */
export type ProvisioningState =
  | { status: 'idle' }
  | { status: 'provisioning' }
  | { status: 'ready'; profile: SipProfile; instanceId: string }
  | { status: 'failed'; error: UserFacingError };

/** Everything the renderer may know about the main process; never holds OAuth tokens. */
export interface AppState {
  settings: PublicSettings;
  session: SessionState;
  provisioning: ProvisioningState;
}
