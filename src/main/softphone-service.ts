import { z } from 'zod';

import {
  provisionedLine,
  type AppState,
  type ProvisioningState,
  type PublicSettings,
  type SessionState,
  type SignedInUser,
} from '../shared/app-state';
import { errorMessage, type UserFacingError } from '../shared/errors';
import type { ProvisioningRequestReason } from '../shared/ipc';
import type { SipProfile } from '../shared/sip-profile';
import { describeSignInFailure, type SignInMethod } from './auth-errors';
import { AuthSession, NotSignedInError, SessionExpiredError, type SignInGrant } from './auth-session';
import {
  authorizeInBrowser,
  type BrowserAuthorization,
  BrowserSignInError,
  type BrowserSignInOutcome,
  DEFAULT_BROWSER_SIGN_IN_TIMEOUT_MS,
} from './browser-sign-in';
import { CredentialAccount, type CredentialStore, KeychainUnavailableError } from './credential-store';
import type { Logger } from './logger';
import { createPlatformClient, type PlatformClient } from './platform-client';
import { resolvePlatformBaseUrl } from './platform-servers';
import { describeProvisioningFailure, ProvisioningError } from './provisioning-errors';
import {
  createFileRequestLog,
  ProvisioningScheduler,
  retryHintFor,
  type ProvisioningAttemptResult,
  type ProvisioningTrigger,
  type RateLimit,
  type Timers,
} from './provisioning-scheduler';
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
  /**
   * Opens a URL in the system browser (Electron's `shell.openExternal`). Without
   * it, a browser sign-in fails with "could not open the system browser".
   */
  openExternal?: (url: string) => Promise<void>;
  /** Milliseconds a browser sign-in waits for the browser to come back; 5 minutes unless set. */
  browserSignInTimeoutMs?: number;
  /** App name on the page the browser tab ends on after a browser sign-in; "RC Softphone" unless set. */
  productName?: string;
  /** Provisions the SIP line right after a session is restored at start; true unless set. */
  provisionOnStart?: boolean;
  /** Timers of the provisioning schedule; the global ones unless set (tests move virtual time). */
  timers?: Timers;
  /** Random numbers in [0, 1) for backoff jitter; Math.random unless set. */
  random?: () => number;
  /** Overrides the sip-provision rate limit of the Heavy group, for tests only. */
  provisioningRateLimit?: RateLimit;
  /** Wait before the first retry of a failed keychain write of refreshed tokens; 30 s unless set. */
  keychainRetryMinMs?: number;
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
  /**
   * Signs in with OAuth (authorization code with PKCE) in the system browser, then
   * loads the user's name and provisions the SIP line. Resolves when the sign-in
   * has finished, failed, timed out or been cancelled; failures end up in the state.
   */
  signInWithBrowser(): Promise<AppState>;
  /** Stops a browser sign-in that waits for the browser; resolves with the state afterwards. */
  cancelSignIn(): Promise<AppState>;
  /**
   * Stores the OAuth client secret in the keychain, or deletes it for null.
   * Keychain failures end up in the session error while signed out.
   */
  saveClientSecret(clientSecret: string | null): Promise<AppState>;
  /**
   * Revokes the session (best effort) and deletes its keychain entries (tokens,
   * SIP profile, user). The client secret stays: it belongs to the settings.
   */
  signOut(): Promise<AppState>;
  /**
   * Provisions the SIP line again and resolves with the state once the request
   * has finished. Concurrent calls share one request; when the rate limit or a
   * 429's `Retry-After` forbids a request now, it waits until they allow one.
   */
  provision(): Promise<AppState>;
  /** Schedules a provisioning request for the SIP engine; returns at once, the result arrives as state. */
  requestProvisioning(reason: ProvisioningRequestReason): void;
  /** Records the operating system's network state: offline pauses retries, online runs a waiting one now. */
  notifyNetworkChange(online: boolean): void;
  /** Records a resume from sleep: a retry that waits runs now. */
  notifyResumed(): void;
  /** Records that the renderer has unregistered after `IpcEvent.WillQuit`. */
  notifyQuitReady(): void;
  /** Resolves true when the renderer reported QuitReady, false after `timeoutMs`. */
  waitForQuitReady(timeoutMs: number): Promise<boolean>;
}

const SETTINGS_FIELD_LABELS: Record<string, string> = {
  server: 'Server',
  customServerUrl: 'Server URL',
  clientId: 'Client ID',
};

/** One sentence per invalid setting, naming the field as the settings screen does. */
function describeSettingsIssue(issue: z.core.$ZodIssue): string {
  // Custom issues carry a whole sentence already (InvalidServerUrlError).
  if (issue.code === 'custom') return issue.message;

  const field = SETTINGS_FIELD_LABELS[String(issue.path[0])] ?? String(issue.path.join('.'));
  return `${field}: ${issue.message}.`;
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

const DEFAULT_PRODUCT_NAME = 'RC Softphone';

/** A browser sign-in in progress; `done` settles after its result is in the state. */
interface PendingBrowserSignIn {
  controller: AbortController;
  done: Promise<boolean>;
}

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
    clientSecretStored: false,
    session: { status: 'signed-out', error: null },
    provisioning: { status: 'idle' },
  };
  private instanceId: string | null = null;
  /** The OAuth client secret from the keychain; null for a public client. */
  private clientSecret: string | null = null;
  private browserSignIn: PendingBrowserSignIn | null = null;
  private readonly listeners = new Set<(state: AppState) => void>();
  private readonly logger: Logger;
  private readonly settingsStore: SettingsStore;
  private readonly client: PlatformClient;
  private readonly auth: AuthSession;
  private readonly quitHandshake = createQuitHandshake();
  /** Sign-in, sign-out and settings changes run one at a time, in call order. */
  private operationQueue: Promise<unknown> = Promise.resolve();
  /** Decides when sip-provision requests are sent: start, polling, requests, retries. */
  private readonly scheduler: ProvisioningScheduler;
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
      clientCredentials: () => ({ clientId: this.state.settings.clientId, clientSecret: this.clientSecret }),
      baseUrl,
      now: options.now,
      logger: options.logger.child('auth'),
      keychainRetryMinMs: options.keychainRetryMinMs,
    });
    this.auth.onExpired((error) => void this.handleSessionExpired(error));
    this.auth.onTokenStorage((error) => this.updateKeychainWarning(error));

    this.scheduler = new ProvisioningScheduler({
      attempt: (trigger) => this.provisionOnce(trigger),
      onRetryScheduled: (retryAt) => this.showRetryTime(retryAt),
      now: options.now,
      logger: options.logger.child('provisioning'),
      timers: options.timers,
      random: options.random,
      requestLog: createFileRequestLog(options.settingsDir),
      rateLimit: options.provisioningRateLimit,
    });

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
    // A browser sign-in in progress was started for the old settings.
    this.abortBrowserSignIn();
    return this.enqueue(async () => {
      const parsed = publicSettingsSchema.safeParse(settings);
      if (!parsed.success) {
        throw new InvalidSettingsError(parsed.error.issues.map(describeSettingsIssue).join(' '));
      }

      const next = parsed.data;
      const previous = this.state.settings;
      const identityChanged =
        next.clientId !== previous.clientId || effectiveServer(next) !== effectiveServer(previous);
      if (identityChanged && this.state.session.status === 'signed-in') {
        this.logger.info('Server or client id changed while signed in; signing out first');
        await this.endSession();
      }
      if (next.clientId !== previous.clientId && this.state.clientSecretStored) {
        // The secret belongs to the app of the old client id.
        await this.deleteClientSecret();
      }

      const saved = await this.settingsStore.save(next);
      this.update({ settings: saved, settingsWarning: undefined });
      this.logger.info('Settings saved', { server: saved.server, clientIdSet: saved.clientId !== '' });
      return this.state;
    });
  }

  signInWithJwt(jwt: string): Promise<AppState> {
    this.abortBrowserSignIn();
    const signedIn = this.enqueue(async () => {
      if (this.state.session.status === 'signed-in') {
        await this.endSession();
      }
      return this.signIn({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }, 'jwt');
    });

    return signedIn.then((succeeded) => (succeeded ? this.provisionFor('sign-in') : this.state));
  }

  signInWithBrowser(): Promise<AppState> {
    this.abortBrowserSignIn();
    const controller = new AbortController();
    const pending: PendingBrowserSignIn = { controller, done: this.runBrowserSignIn(controller) };
    this.browserSignIn = pending;

    const finished = pending.done.finally(() => {
      if (this.browserSignIn === pending) {
        this.browserSignIn = null;
      }
    });
    return finished.then((succeeded) => (succeeded ? this.provisionFor('sign-in') : this.state));
  }

  async cancelSignIn(): Promise<AppState> {
    const pending = this.browserSignIn;
    if (pending !== null) {
      this.logger.info('Browser sign-in cancelled by the user');
      pending.controller.abort();
      await pending.done;
    }
    return this.getState();
  }

  saveClientSecret(clientSecret: string | null): Promise<AppState> {
    return this.enqueue(async () => {
      try {
        if (clientSecret === null) {
          await this.options.credentialStore.delete(CredentialAccount.ClientSecret);
        } else {
          await this.options.credentialStore.set(CredentialAccount.ClientSecret, clientSecret);
        }
      } catch (error) {
        const userError = this.describeKeychainFailure(error, 'Could not save the client secret in the keychain');
        if (this.state.session.status === 'signed-out') {
          this.update({ session: { status: 'signed-out', error: userError } });
        }
        return this.state;
      }

      this.clientSecret = clientSecret;
      this.logger.info(clientSecret === null ? 'Client secret deleted' : 'Client secret stored in the keychain');
      const signedOut = this.state.session.status === 'signed-out';
      this.update({
        clientSecretStored: clientSecret !== null,
        ...(signedOut ? { session: { status: 'signed-out', error: null } } : {}),
      });
      return this.state;
    });
  }

  signOut(): Promise<AppState> {
    this.abortBrowserSignIn();
    return this.enqueue(async () => {
      await this.endSession();
      return this.state;
    });
  }

  provision(): Promise<AppState> {
    return this.provisionFor('user');
  }

  requestProvisioning(reason: ProvisioningRequestReason): void {
    this.logger.info('The SIP engine requested provisioning', { reason });
    void this.provisionFor(reason);
  }

  notifyNetworkChange(online: boolean): void {
    this.logger.info(online ? 'Network connection reported back' : 'Network connection reported lost');
    this.scheduler.setOnline(online);
  }

  notifyResumed(): void {
    this.scheduler.resumed();
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
      this.update({
        settingsWarning: {
          code: 'SETTINGS-UNREADABLE',
          message: `The settings file could not be read, so the app uses the default settings. ${errorMessage(error)}`,
          action: 'Choose the server and client id again and save them, which replaces the file.',
        },
      });
    }

    await this.ensureInstanceId();
    await this.loadClientSecret();

    try {
      await this.restoreSession();
    } catch (error) {
      this.logger.error('Could not restore the stored session', { error });
      this.update({ session: { status: 'signed-out', error: describeSignInFailure(error) } });
    }

    if (this.state.session.status === 'signed-in' && this.options.provisionOnStart !== false) {
      // Not awaited: `provisionFor` waits for `ready`, which this method completes.
      void this.provisionFor('start');
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

  /**
   * Runs a browser sign-in: shows the waiting state, waits for the browser
   * outside the operation queue (so Cancel, sign-out and settings stay usable),
   * then exchanges the code in the queue. Returns whether the user is signed in.
   */
  private async runBrowserSignIn(controller: AbortController): Promise<boolean> {
    const target = await this.enqueue(async () => {
      if (controller.signal.aborted) {
        return null;
      }
      if (this.state.session.status === 'signed-in') {
        await this.endSession();
      }
      const settingsProblem = this.checkSettingsForSignIn();
      if (settingsProblem !== null) {
        this.update({ session: { status: 'signed-out', error: settingsProblem } });
        return null;
      }

      this.sessionEpoch += 1;
      this.scheduler.reset();
      this.update({ session: { status: 'waiting-for-browser' }, provisioning: { status: 'idle' } });
      return { baseUrl: resolvePlatformBaseUrl(this.state.settings), clientId: this.state.settings.clientId };
    });
    if (target === null) {
      return false;
    }

    let authorization: BrowserAuthorization;
    try {
      authorization = await authorizeInBrowser({
        ...target,
        openExternal: this.options.openExternal ?? rejectOpenExternal,
        timeoutMs: this.options.browserSignInTimeoutMs ?? DEFAULT_BROWSER_SIGN_IN_TIMEOUT_MS,
        signal: controller.signal,
        productName: this.options.productName ?? DEFAULT_PRODUCT_NAME,
        logger: this.options.logger.child('browser-sign-in'),
      });
    } catch (error) {
      return this.enqueue(async () => {
        const cancelled = error instanceof BrowserSignInError && error.reason === 'cancelled';
        this.endBrowserWait(controller, cancelled ? null : describeSignInFailure(error, 'browser'));
        return false;
      });
    }

    return this.enqueue(async () => {
      if (controller.signal.aborted || this.state.session.status !== 'waiting-for-browser') {
        const cancelled = new BrowserSignInError('cancelled', 'cancelled in the app');
        authorization.finish({ ok: false, error: cancelled.userError });
        this.endBrowserWait(controller, null);
        return false;
      }

      const succeeded = await this.signIn(authorization.grant, 'browser');
      authorization.finish(this.describeSignInOutcome());
      return succeeded;
    });
  }

  /** Returns the result of the last sign-in as the browser tab shows it. */
  private describeSignInOutcome(): BrowserSignInOutcome {
    const session = this.state.session;
    if (session.status === 'signed-in') {
      return { ok: true, user: session.user };
    }
    const error = session.status === 'signed-out' ? session.error : null;
    return { ok: false, error: error ?? describeSignInFailure(new NotSignedInError(), 'browser') };
  }

  /** Shows the end of a browser sign-in that did not reach the token exchange. */
  private endBrowserWait(controller: AbortController, error: UserFacingError | null): void {
    // A newer sign-in, a sign-out or a settings change may already have set the state.
    if (this.browserSignIn?.controller !== controller || this.state.session.status !== 'waiting-for-browser') {
      return;
    }
    this.update({ session: { status: 'signed-out', error } });
  }

  /** Aborts a browser sign-in that is waiting for the browser; its result no longer counts. */
  private abortBrowserSignIn(): void {
    this.browserSignIn?.controller.abort();
  }

  private async loadClientSecret(): Promise<void> {
    try {
      this.clientSecret = await this.options.credentialStore.get(CredentialAccount.ClientSecret);
      this.update({ clientSecretStored: this.clientSecret !== null });
    } catch (error) {
      this.logger.error('Could not read the client secret from the keychain', { error });
    }
  }

  private async deleteClientSecret(): Promise<void> {
    this.clientSecret = null;
    this.update({ clientSecretStored: false });
    try {
      await this.options.credentialStore.delete(CredentialAccount.ClientSecret);
      this.logger.info('Client id changed; deleted the client secret of the old one');
    } catch (error) {
      this.logger.error('Could not delete the client secret of the old client id', { error });
    }
  }

  /** Runs the sign-in steps; returns whether the user is signed in afterwards. */
  private async signIn(grant: SignInGrant, method: SignInMethod): Promise<boolean> {
    const settingsProblem = this.checkSettingsForSignIn();
    if (settingsProblem !== null) {
      this.update({ session: { status: 'signed-out', error: settingsProblem } });
      return false;
    }

    this.sessionEpoch += 1;
    this.scheduler.reset();
    this.update({ session: { status: 'signing-in' }, provisioning: { status: 'idle' } });

    let user: SignedInUser;
    try {
      await this.auth.signInWithGrant(grant);
      user = await fetchSignedInUser(this.client, this.auth);
    } catch (error) {
      const userError = describeSignInFailure(error, method);
      this.logger.warn('Sign-in failed', { method, code: userError.code, error });
      await this.discardFailedSignIn();
      this.update({ session: { status: 'signed-out', error: userError } });
      return false;
    }

    await this.writeCache(CredentialAccount.SignedInUser, { ownerId: this.auth.ownerId, user });
    this.update({ session: { status: 'signed-in', user } });
    return true;
  }

  private async provisionFor(trigger: ProvisioningTrigger): Promise<AppState> {
    await this.ready;
    await this.scheduler.request(trigger);
    return this.state;
  }

  /** Sends one sip-provision request and applies its result to the state; never throws. */
  private async provisionOnce(trigger: ProvisioningTrigger): Promise<ProvisioningAttemptResult> {
    if (this.state.session.status !== 'signed-in') {
      this.logger.warn('Provisioning requested while signed out; ignoring it', { trigger });
      return { outcome: 'abandoned' };
    }

    const epoch = this.sessionEpoch;
    const line = provisionedLine(this.state.provisioning);
    this.update({ provisioning: { status: 'provisioning', line } });

    let next: ProvisioningState;
    let result: ProvisioningAttemptResult;
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
      result = { outcome: 'succeeded', pollingIntervalSeconds: profile.pollingInterval };
      this.logger.info('SIP line provisioned', {
        trigger,
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
        return { outcome: 'abandoned' };
      }

      const userError = describeProvisioningFailure(error);
      result = { outcome: 'failed', retry: retryHintFor(error) };
      this.logger.warn('SIP provisioning failed', { trigger, code: userError.code, retry: result.retry.kind, error });
      next = { status: 'failed', error: userError, retryAt: null, line };
    }

    if (epoch !== this.sessionEpoch) {
      return { outcome: 'abandoned' };
    }
    this.update({ provisioning: next });
    return result;
  }


  /** Shows the time of the next automatic provisioning attempt on a failed state. */
  private showRetryTime(retryAt: number | null): void {
    const provisioning = this.state.provisioning;
    if (provisioning.status === 'failed' && provisioning.retryAt !== retryAt) {
      this.update({ provisioning: { ...provisioning, retryAt } });
    }
  }

  /** Signs out and deletes every keychain entry; keychain failures end up in the session error. */
  private async endSession(): Promise<void> {
    this.sessionEpoch += 1;
    this.scheduler.reset();
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
    this.scheduler.reset();
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

  /** Shows, or clears, the warning that refreshed tokens are not in the keychain. */
  private updateKeychainWarning(error: unknown): void {
    const session = this.state.session;
    if (session.status !== 'signed-in') return;

    if (error === null) {
      if (session.keychainWarning === undefined) return;
      this.update({ session: { status: 'signed-in', user: session.user } });
      return;
    }

    const cause =
      error instanceof KeychainUnavailableError ? error.userError : { code: 'KEYCHAIN_WRITE_FAILED', action: '' };
    this.update({
      session: {
        ...session,
        keychainWarning: {
          code: cause.code,
          message:
            'The OS keychain did not accept the renewed sign-in data, so you stay signed in only until the app quits.',
          action: (
            `${cause.action} The app keeps trying to store the sign-in data while it runs. ` +
            'If it quits before that works, you may need to sign in again.'
          ).trim(),
        },
      },
    });
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

  private update(change: {
    settings?: PublicSettings;
    clientSecretStored?: boolean;
    session?: SessionState;
    provisioning?: ProvisioningState;
    settingsWarning?: UserFacingError | undefined;
  }): void {
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

function rejectOpenExternal(): Promise<void> {
  return Promise.reject(new Error('this build has no connection to the system browser'));
}

/** Returns the server a session belongs to; the custom URL matters only when it is selected. */
function effectiveServer(settings: PublicSettings): string {
  return settings.server === 'custom' ? `custom:${settings.customServerUrl.trim()}` : settings.server;
}
