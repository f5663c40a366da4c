import { z } from 'zod';

import type { AppState, ProvisioningState, PublicSettings, SessionState, SignedInUser } from '../shared/app-state';
import type { UserFacingError } from '../shared/errors';
import type { SipProfile } from '../shared/sip-profile';
import { describeSignInFailure } from './auth-errors';
import { AuthSession, NotSignedInError, SessionExpiredError } from './auth-session';
import { CredentialAccount, type CredentialStore, KeychainUnavailableError } from './credential-store';
import type { Logger } from './logger';
import { createPlatformClient, type PlatformClient } from './platform-client';
import { resolvePlatformBaseUrl } from './platform-servers';
import { describeProvisioningFailure, ProvisioningError } from './provisioning-errors';
import { createQuitHandshake } from './quit-handshake';
import {
  createSettingsStore,
  DEFAULT_SETTINGS,
  loadOrCreateInstanceId,
  publicSettingsSchema,
  type SettingsStore,
} from './settings';
import { cachedUserSchema, fetchSignedInUser } from './signed-in-user';
import { provisionSipProfile, sipProfileSchema } from './sip-provision';

export interface SoftphoneServiceOptions {
  /** `fetch` for platform requests; the global one in production. */
  fetch: typeof fetch;
  credentialStore: CredentialStore;
  /** Folder of `settings.json` and `instance-id` (the app's userData folder in production). */
  settingsDir: string;
  /** Product token of the `X-User-Agent` header, for example `RCSoftphone`. */
  appName: string;
  /** Semantic version of the app, sent in `X-User-Agent`. */
  appVersion: string;
  /** Clock in epoch milliseconds; tests move it to reach token expiry. */
  now: () => number;
  logger: Logger;
  /** OAuth client secret for apps registered as confidential clients; null or absent for public clients. */
  clientSecret?: string | null;
  /** Provisions the SIP line right after a session is restored at start; true unless set. */
  provisionOnStart?: boolean;
}

/** The main-process API behind the IPC handlers. Every method resolves after start-up loading finished. */
export interface SoftphoneService {
  /** Resolves when settings, instance id and the stored session are loaded; never rejects. */
  readonly ready: Promise<void>;
  getState(): Promise<AppState>;
  /** Calls `listener` with every new state; returns the unsubscribe function. */
  subscribe(listener: (state: AppState) => void): () => void;
  /**
   * Validates and stores the settings. Changing the server or client id while
   * signed in signs out first, because the tokens belong to the old pair.
   * Throws `InvalidSettingsError` or a file-system error.
   */
  saveSettings(settings: PublicSettings): Promise<AppState>;
  /** Signs in, loads the user's name and provisions the SIP line; failures end up in the returned state. */
  signInWithJwt(jwt: string): Promise<AppState>;
  /** Revokes the session (best effort) and deletes every keychain entry of this app. */
  signOut(): Promise<AppState>;
  /** Provisions the SIP line again; concurrent calls share one request. */
  provision(): Promise<AppState>;
  /** Records that the renderer has unregistered after `IpcEvent.WillQuit`. */
  notifyQuitReady(): void;
  /** Resolves true when the renderer reported QuitReady, false after `timeoutMs`. */
  waitForQuitReady(timeoutMs: number): Promise<boolean>;
}

/** Settings that failed validation; the message names the fields. */
export class InvalidSettingsError extends Error {
  override readonly name = 'InvalidSettingsError';
}

const MISSING_CLIENT_ID: UserFacingError = {
  code: 'MISSING_CLIENT_ID',
  message: 'No client id is set, so the app cannot sign in to RingCentral.',
  action: 'Enter the client id of your RingCentral app in the settings.',
};

const cachedProfileSchema = z.object({ ownerId: z.string().nullable(), profile: sipProfileSchema });

/**
 * Creates the service and starts loading the settings, instance id and stored
 * session in the background; `ready` resolves when that is done.
 */
export function createSoftphoneService(options: SoftphoneServiceOptions): SoftphoneService {
  return new DefaultSoftphoneService(options);
}

class DefaultSoftphoneService implements SoftphoneService {
  readonly ready: Promise<void>;

  private state: AppState = {
    settings: { ...DEFAULT_SETTINGS },
    session: { status: 'signed-out', error: null },
    provisioning: { status: 'idle' },
  };
  private instanceId: string | null = null;
  private readonly listeners = new Set<(state: AppState) => void>();
  private readonly logger: Logger;
  private readonly settingsStore: SettingsStore;
  private readonly client: PlatformClient;
  private readonly auth: AuthSession;
  private readonly quitHandshake = createQuitHandshake();
  /** Sign-in, sign-out and settings changes run one at a time, in call order. */
  private operationQueue: Promise<unknown> = Promise.resolve();
  /** The running provisioning request and the session it belongs to. */
  private provisionInFlight: { epoch: number; result: Promise<AppState> } | null = null;
  /** Incremented whenever a session starts or ends, so late results of an old session are dropped. */
  private sessionEpoch = 0;

  constructor(private readonly options: SoftphoneServiceOptions) {
    this.logger = options.logger.child('service');
    this.settingsStore = createSettingsStore(options.settingsDir, options.logger.child('settings'));

    const baseUrl = () => resolvePlatformBaseUrl(this.state.settings);
    this.client = createPlatformClient({
      fetch: options.fetch,
      baseUrl,
      appName: options.appName,
      appVersion: options.appVersion,
      now: options.now,
      logger: options.logger.child('platform'),
    });
    this.auth = new AuthSession({
      client: this.client,
      credentialStore: options.credentialStore,
      clientCredentials: () => ({ clientId: this.state.settings.clientId, clientSecret: options.clientSecret ?? null }),
      baseUrl,
      now: options.now,
      logger: options.logger.child('auth'),
    });
    this.auth.onExpired((error) => void this.handleSessionExpired(error));

    this.ready = this.enqueue(() => this.load());
  }

  async getState(): Promise<AppState> {
    await this.ready;
    return this.state;
  }

  subscribe(listener: (state: AppState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  saveSettings(settings: PublicSettings): Promise<AppState> {
    return this.enqueue(async () => {
      const parsed = publicSettingsSchema.safeParse(settings);
      if (!parsed.success) {
        throw new InvalidSettingsError(
          `Invalid settings: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}.`,
        );
      }

      const next = parsed.data;
      const previous = this.state.settings;
      const identityChanged =
        next.clientId !== previous.clientId || effectiveServer(next) !== effectiveServer(previous);
      if (identityChanged && this.state.session.status === 'signed-in') {
        this.logger.info('Server or client id changed while signed in; signing out first');
        await this.endSession();
      }

      const saved = await this.settingsStore.save(next);
      this.update({ settings: saved });
      this.logger.info('Settings saved', { server: saved.server, clientIdSet: saved.clientId !== '' });
      return this.state;
    });
  }

  signInWithJwt(jwt: string): Promise<AppState> {
    const signedIn = this.enqueue(async () => {
      if (this.state.session.status === 'signed-in') {
        await this.endSession();
      }
      return this.signIn(jwt);
    });

    return signedIn.then((succeeded) => (succeeded ? this.provision() : this.state));
  }

  signOut(): Promise<AppState> {
    return this.enqueue(async () => {
      await this.endSession();
      return this.state;
    });
  }

  async provision(): Promise<AppState> {
    await this.ready;

    // A request of an earlier session is not shared: its result will be dropped.
    if (this.provisionInFlight?.epoch === this.sessionEpoch) {
      return this.provisionInFlight.result;
    }

    const inFlight = { epoch: this.sessionEpoch, result: this.provisionOnce() };
    this.provisionInFlight = inFlight;
    const clear = () => {
      if (this.provisionInFlight === inFlight) {
        this.provisionInFlight = null;
      }
    };
    void inFlight.result.then(clear, clear);
    return inFlight.result;
  }

  notifyQuitReady(): void {
    this.quitHandshake.notifyReady();
  }

  waitForQuitReady(timeoutMs: number): Promise<boolean> {
    return this.quitHandshake.waitForReady(timeoutMs);
  }

  /**
   * Loads settings, instance id, stored session and cached profile. Every failure
   * is logged, and a failed restore shows in the session state.
   */
  private async load(): Promise<void> {
    try {
      this.update({ settings: await this.settingsStore.load() });
    } catch (error) {
      this.logger.error('Could not read the settings file; using the defaults', { error });
    }

    await this.ensureInstanceId();

    try {
      await this.restoreSession();
    } catch (error) {
      this.logger.error('Could not restore the stored session', { error });
      this.update({ session: { status: 'signed-out', error: describeSignInFailure(error) } });
    }

    if (this.state.session.status === 'signed-in' && this.options.provisionOnStart !== false) {
      // Not awaited: `provision` waits for `ready`, which this method completes.
      void this.provision();
    }
  }

  private async restoreSession(): Promise<void> {
    if (!(await this.auth.restore())) {
      return;
    }

    const user = await this.readCachedUser();
    if (user === null) {
      // Without the user's name the UI has nothing to show; a fresh sign-in
      // fetches it. This only happens when an earlier keychain write failed.
      this.logger.warn('Stored session has no cached user; signing out');
      await this.endSession();
      return;
    }

    this.sessionEpoch += 1;
    this.update({ session: { status: 'signed-in', user } });

    const profile = await this.readCachedProfile();
    if (profile !== null && this.instanceId !== null) {
      this.update({ provisioning: { status: 'ready', profile, instanceId: this.instanceId } });
    }
  }

  /** Runs the sign-in steps; returns whether the user is signed in afterwards. */
  private async signIn(jwt: string): Promise<boolean> {
    const settingsProblem = this.checkSettingsForSignIn();
    if (settingsProblem !== null) {
      this.update({ session: { status: 'signed-out', error: settingsProblem } });
      return false;
    }

    this.sessionEpoch += 1;
    this.update({ session: { status: 'signing-in' }, provisioning: { status: 'idle' } });

    let user: SignedInUser;
    try {
      await this.auth.signInWithJwt(jwt);
      user = await fetchSignedInUser(this.client, this.auth);
    } catch (error) {
      const userError = describeSignInFailure(error);
      this.logger.warn('Sign-in failed', { code: userError.code, error });
      await this.discardFailedSignIn();
      this.update({ session: { status: 'signed-out', error: userError } });
      return false;
    }

    await this.writeCache(CredentialAccount.SignedInUser, { ownerId: this.auth.ownerId, user });
    this.update({ session: { status: 'signed-in', user } });
    return true;
  }

  private async provisionOnce(): Promise<AppState> {
    if (this.state.session.status !== 'signed-in') {
      this.logger.warn('Provisioning requested while signed out; ignoring it');
      return this.state;
    }

    const epoch = this.sessionEpoch;
    this.update({ provisioning: { status: 'provisioning' } });

    let next: ProvisioningState;
    try {
      const instanceId = await this.ensureInstanceId();
      if (instanceId === null) {
        throw new ProvisioningError({
          code: 'INSTANCE_ID_UNAVAILABLE',
          message: `The app could not create its SIP instance id in ${this.options.settingsDir}.`,
          action: 'Check that this folder exists and is writable, then try again.',
        });
      }

      const profile = await provisionSipProfile(this.client, this.auth);
      next = { status: 'ready', profile, instanceId };
      this.logger.info('SIP line provisioned', {
        outboundProxy: profile.outboundProxy,
        deviceId: profile.deviceId,
        outboundCallsEnabled: profile.sipFlags.outboundCallsEnabled,
      });

      if (epoch === this.sessionEpoch) {
        await this.writeCache(CredentialAccount.SipProfile, { ownerId: this.auth.ownerId, profile });
      }
    } catch (error) {
      if (error instanceof SessionExpiredError || error instanceof NotSignedInError) {
        // The expiry listener or the sign-out already reset the state.
        return this.state;
      }

      const userError = describeProvisioningFailure(error);
      this.logger.warn('SIP provisioning failed', { code: userError.code, error });
      next = { status: 'failed', error: userError };
    }

    if (epoch === this.sessionEpoch) {
      this.update({ provisioning: next });
    }
    return this.state;
  }

  /** Signs out and deletes every keychain entry; keychain failures end up in the session error. */
  private async endSession(): Promise<void> {
    this.sessionEpoch += 1;
    let error: UserFacingError | null = null;

    try {
      await this.auth.signOut();
    } catch (signOutError) {
      error = this.describeKeychainFailure(signOutError, 'Could not delete the stored tokens');
    }

    for (const account of [CredentialAccount.SipProfile, CredentialAccount.SignedInUser]) {
      try {
        await this.options.credentialStore.delete(account);
      } catch (deleteError) {
        error ??= this.describeKeychainFailure(deleteError, `Could not delete the ${account} keychain entry`);
      }
    }

    this.update({ session: { status: 'signed-out', error }, provisioning: { status: 'idle' } });
  }

  private async handleSessionExpired(error: SessionExpiredError): Promise<void> {
    this.sessionEpoch += 1;
    this.update({ session: { status: 'signed-out', error: error.userError }, provisioning: { status: 'idle' } });

    for (const account of [CredentialAccount.SipProfile, CredentialAccount.SignedInUser]) {
      try {
        await this.options.credentialStore.delete(account);
      } catch (deleteError) {
        this.logger.error('Could not delete a keychain entry of the expired session', { account, error: deleteError });
      }
    }
  }

  /** Ends a half-finished sign-in: revokes tokens that were issued and deletes the entries. */
  private async discardFailedSignIn(): Promise<void> {
    if (!this.auth.isSignedIn) {
      return;
    }
    try {
      await this.auth.signOut();
    } catch (error) {
      this.logger.error('Could not clean up after the failed sign-in', { error });
    }
  }

  private checkSettingsForSignIn(): UserFacingError | null {
    if (this.state.settings.clientId === '') {
      return MISSING_CLIENT_ID;
    }
    try {
      resolvePlatformBaseUrl(this.state.settings);
      return null;
    } catch (error) {
      return describeSignInFailure(error);
    }
  }

  private async ensureInstanceId(): Promise<string | null> {
    if (this.instanceId !== null) {
      return this.instanceId;
    }
    try {
      this.instanceId = await loadOrCreateInstanceId(this.options.settingsDir, this.logger);
    } catch (error) {
      this.logger.error('Could not read or create the SIP instance id', { settingsDir: this.options.settingsDir, error });
    }
    return this.instanceId;
  }

  private async readCachedUser(): Promise<SignedInUser | null> {
    const cached = await this.readCache(CredentialAccount.SignedInUser, cachedUserSchema);
    return cached !== null && cached.ownerId === this.auth.ownerId ? cached.user : null;
  }

  private async readCachedProfile(): Promise<SipProfile | null> {
    const cached = await this.readCache(CredentialAccount.SipProfile, cachedProfileSchema);
    return cached !== null && cached.ownerId === this.auth.ownerId ? cached.profile : null;
  }

  private async readCache<T>(account: string, schema: z.ZodType<T>): Promise<T | null> {
    const text = await this.options.credentialStore.get(account);
    if (text === null) {
      return null;
    }

    try {
      const parsed = schema.safeParse(JSON.parse(text));
      if (parsed.success) {
        return parsed.data;
      }
    } catch {
      // Not JSON: handled below like a schema mismatch.
    }
    this.logger.warn('Ignoring an invalid keychain entry', { account });
    return null;
  }

  /** Caches non-token data in the keychain; a failure only costs the cache, so it is logged. */
  private async writeCache(account: string, value: unknown): Promise<void> {
    try {
      await this.options.credentialStore.set(account, JSON.stringify(value));
    } catch (error) {
      this.logger.error('Could not write a keychain entry', { account, error });
    }
  }

  private describeKeychainFailure(error: unknown, logMessage: string): UserFacingError {
    this.logger.error(logMessage, { error });
    if (error instanceof KeychainUnavailableError) {
      return error.userError;
    }
    return describeSignInFailure(error);
  }

  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.operationQueue.then(operation);
    this.operationQueue = result.catch(() => undefined);
    return result;
  }

  private update(change: { settings?: PublicSettings; session?: SessionState; provisioning?: ProvisioningState }): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) {
      try {
        listener(this.state);
      } catch (error) {
        this.logger.error('A state listener threw', { error });
      }
    }
  }
}

/** Returns the server a session belongs to; the custom URL matters only when it is selected. */
function effectiveServer(settings: PublicSettings): string {
  return settings.server === 'custom' ? `custom:${settings.customServerUrl.trim()}` : settings.server;
}
