import { provisionedLine, type AppState, type ProvisionedLine, type PublicSettings } from '../../shared/app-state';
import { errorMessage, type UserFacingError } from '../../shared/errors';
import { IpcEvent, type SoftphoneBridge } from '../../shared/ipc';
import { AudioElementOutput } from '../audio/remote-audio';
import { Ringer } from '../audio/ringer';
import { formatDialString, resolveDialingContext, type DialingContext } from '../sip/dial-target';
import type { SipProfile } from '../../shared/sip-profile';
import type { RegistrationState } from '../sip/registration-state';
import { forgetSipServer, pageStorage } from '../sip/early-sip-socket';
import { SoftphoneEngine, type CallInfo } from '../sip/softphone-engine';
import { AudioDevicesState } from './audio-devices.svelte';
import { CallHistoryState } from './call-history.svelte';
import { DesktopState } from './desktop.svelte';
import { callBackNumberOf } from './history-entry';
import { IncomingCallAlerts } from './incoming-call-alerts';
import { PreferencesState } from './preferences.svelte';

/** Reads of the main process's state at start before the window reports the failure. */
const STATE_READ_ATTEMPTS = 3;
const STATE_READ_RETRY_MS = 1000;

/**
 * The renderer's reactive view of the softphone: main-process state from the
 * bridge, and registration and calls from the SIP engine. Components read these
 * fields and call the methods; they hold no SIP logic.
 */
export class SoftphoneStore {
  app = $state<AppState | null>(null);
  registration = $state<RegistrationState>({ status: 'unregistered' });
  calls = $state<CallInfo[]>([]);
  lastEndedCall = $state<CallInfo | null>(null);
  /** A failed user action (dialing, answering), shown until the next action. */
  actionError = $state<string | null>(null);
  /** The SIP profile the line registers with now; it outlives a failed re-provisioning. */
  activeProfile = $state<SipProfile | null>(null);
  /**
   * A sign-in attempt started and the main process has not reported its end.
   * The session error in the state until then belongs to an earlier attempt.
   */
  #signInPending = $state(false);

  readonly preferences: PreferencesState;
  readonly audio: AudioDevicesState;
  /** Call history; `history.missedCount` is the missed-call count for the UI and the tray. */
  readonly history: CallHistoryState;
  /** Start at login, Do Not Disturb, the SIP trace switch and dial links from the OS. */
  readonly desktop: DesktopState;
  readonly #speakerOutput: AudioElementOutput;
  readonly #alerts: IncomingCallAlerts;

  #engine: SoftphoneEngine | null = null;
  #engineProfileKey: string | null = null;
  #engineStarting: Promise<void> = Promise.resolve();

  constructor(
    private readonly bridge: SoftphoneBridge,
    private readonly audioContainer: HTMLElement,
    mediaDevices: MediaDevices = navigator.mediaDevices,
  ) {
    const ringer = new Ringer(audioContainer);
    this.#speakerOutput = new AudioElementOutput(audioContainer);
    this.preferences = new PreferencesState(bridge);
    this.history = new CallHistoryState(bridge);
    this.desktop = new DesktopState(bridge);
    this.audio = new AudioDevicesState({
      mediaDevices,
      preferences: this.preferences,
      speakerOutput: this.#speakerOutput,
      ringer,
      callMedia: () => this.#engine?.callMedia() ?? [],
      container: audioContainer,
    });
    this.#alerts = new IncomingCallAlerts({
      ringer,
      bridge,
      ringerDeviceId: () => this.audio.ringerDeviceId(),
      describeCaller: (call) => ({
        callId: call.id,
        callerName: call.remoteName,
        callerNumber: formatDialString(callBackNumberOf(call), this.dialingContext),
      }),
      onError: (message) => {
        this.actionError = message;
      },
    });
  }

  /**
   * Country for numbers typed without a country code: the dialing setting, else
   * the country of the line's own number, else the UI language's region.
   */
  get dialingContext(): DialingContext {
    return resolveDialingContext({
      preferredCountry: this.preferences.value.dialing.defaultCountry,
      userNumber: this.activeProfile?.username ?? null,
      locale: navigator.language,
    });
  }

  async init(): Promise<void> {
    this.desktop.listen();
    let stateEvents = 0;
    this.bridge.on(IpcEvent.StateChanged, (state) => {
      stateEvents += 1;
      this.#applyAppState(state);
    });
    this.bridge.on(IpcEvent.WillQuit, () => void this.#shutDown());
    this.bridge.on(IpcEvent.IncomingCallAction, ({ callId, action }) =>
      void (action === 'answer' ? this.answer(callId) : this.decline(callId)),
    );
    this.bridge.on(IpcEvent.PowerResumed, () => this.#engine?.reconnect('resume'));
    this.bridge.on(IpcEvent.NetworkOnline, () => this.#engine?.reconnect('network-online'));
    this.bridge.on(IpcEvent.NetworkOffline, () => this.#engine?.networkOffline());
    // The state is read together with the rest, so the line starts after one
    // round trip, and the dialing country, the history and Do Not Disturb are
    // there before the first call. The three loads report their own failures.
    const [state] = await Promise.all([
      this.#readState(),
      this.preferences.load(),
      this.history.load(),
      this.desktop.load(),
    ]);
    // A StateChanged event that arrived meanwhile carries a state at least as new as this response.
    if (state !== null && stateEvents === 0) this.#applyAppState(state);
    // The devices are listed once the line is starting: a call needs them only when it connects.
    void this.audio.init();
  }

  /** Reads the main process's state, trying again a few times; null, with the error shown, when every attempt failed. */
  async #readState(): Promise<AppState | null> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.bridge.getState();
      } catch (error) {
        console.error(`Reading the app state failed (attempt ${attempt} of ${STATE_READ_ATTEMPTS})`, error);
        if (attempt >= STATE_READ_ATTEMPTS) {
          this.actionError = `The softphone could not read its state from the app: ${errorMessage(error)}. Quit the app and start it again.`;
          return null;
        }
        await new Promise((resolve) => setTimeout(resolve, STATE_READ_RETRY_MS));
      }
    }
  }

  /**
   * The error of the last sign-in attempt, for the sign-in form. An earlier
   * attempt's error is hidden from the moment a new attempt starts, so the form
   * does not show it next to the new attempt's outcome (such as a settings error in `actionError`).
   */
  get signInError(): UserFacingError | null {
    const session = this.app?.session;
    if (session?.status !== 'signed-out' || this.#signInPending) return null;
    return session.error;
  }

  /** Saves the server choice, client id and a new client secret if given, then signs in with a JWT credential. */
  async signInWithJwt(settings: PublicSettings, jwt: string, newClientSecret?: string): Promise<void> {
    this.#signInPending = true;
    await this.#act(async () => {
      if (await this.#saveSignInSettings(settings, newClientSecret)) {
        this.#applySignInResult(await this.bridge.signInWithJwt(jwt));
      }
    });
  }

  /**
   * Saves the settings like `signInWithJwt`, then signs in through the system
   * browser. Resolves when that sign-in has ended; the state shows its progress.
   */
  async signInWithBrowser(settings: PublicSettings, newClientSecret?: string): Promise<void> {
    this.#signInPending = true;
    await this.#act(async () => {
      if (await this.#saveSignInSettings(settings, newClientSecret)) {
        this.#applySignInResult(await this.bridge.signInWithBrowser());
      }
    });
  }

  /** Stops a browser sign-in that waits for the browser. */
  async cancelSignIn(): Promise<void> {
    await this.#act(async () => {
      this.#applyAppState(await this.bridge.cancelSignIn());
    });
  }

  /** Deletes the client secret from the keychain. */
  async removeClientSecret(): Promise<void> {
    await this.#act(async () => {
      this.#applyAppState(await this.bridge.saveClientSecret(null));
    });
  }

  /**
   * Ends the calls, then signs out. The calls end first, with a BYE while the
   * line is still registered and the session still valid.
   */
  async signOut(): Promise<void> {
    await this.#act(async () => {
      await this.#engine?.hangUpAll();
      this.#applyAppState(await this.bridge.signOut());
    });
  }

  /** Asks the main process to provision the SIP line again. */
  async provision(): Promise<void> {
    await this.#act(async () => {
      this.#applyAppState(await this.bridge.provision());
    });
  }

  /** Retries the SIP registration now instead of at the scheduled time. */
  retryRegistration(): void {
    this.#engine?.retryRegistration();
  }

  async dial(input: string): Promise<void> {
    await this.#act(async () => {
      if (!this.#engine) throw new Error('The phone line is not set up yet. Sign in first.');
      await this.#engine.call(input);
    });
  }

  /** Opens the microphone while the user dials, so the call starts sooner; see PreparedMicrophone. */
  prepareCall(): void {
    this.#engine?.prepareCall();
  }

  async answer(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().answer(callId));
  }

  async decline(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().decline(callId));
  }

  async hangUp(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().hangUp(callId));
  }

  // In-call commands. A rejected hold, transfer, park, flip or record shows in
  // the call's notice; actionError gets only what the call's state rules out.

  async sendToVoicemail(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().sendToVoicemail(callId));
  }

  async setMuted(callId: string, muted: boolean): Promise<void> {
    await this.#act(async () => this.#requireEngine().setMuted(callId, muted));
  }

  async hold(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().hold(callId));
  }

  /** Takes a call off hold; another connected call goes on hold (swap). */
  async resume(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().resume(callId));
  }

  async sendDtmf(callId: string, tones: string): Promise<void> {
    await this.#act(async () => this.#requireEngine().sendDtmf(callId, tones));
  }

  async transfer(callId: string, target: string): Promise<void> {
    await this.#act(() => this.#requireEngine().transfer(callId, target));
  }

  async consult(callId: string, target: string): Promise<void> {
    await this.#act(async () => {
      await this.#requireEngine().consult(callId, target);
    });
  }

  async completeTransfer(consultCallId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().completeTransfer(consultCallId));
  }

  async park(callId: string): Promise<void> {
    await this.#act(() => this.#requireEngine().park(callId));
  }

  async flip(callId: string, target: string): Promise<void> {
    await this.#act(() => this.#requireEngine().flip(callId, target));
  }

  async setRecording(callId: string, recording: boolean): Promise<void> {
    await this.#act(() => this.#requireEngine().setRecording(callId, recording));
  }

  /** Saves the settings and a new client secret; returns false when the keychain rejected the secret. */
  async #saveSignInSettings(settings: PublicSettings, newClientSecret: string | undefined): Promise<boolean> {
    this.#applyAppState(await this.bridge.saveSettings(settings));
    if (newClientSecret === undefined) return true;

    const state = await this.bridge.saveClientSecret(newClientSecret);
    if (!state.clientSecretStored) {
      // The keychain error in this state is the outcome of this attempt.
      this.#applySignInResult(state);
      return false;
    }
    this.#applyAppState(state);
    return true;
  }

  /** Applies the state that ends a sign-in attempt, so its session error shows. */
  #applySignInResult(state: AppState): void {
    this.#signInPending = false;
    this.#applyAppState(state);
  }

  async #act(action: () => Promise<void>): Promise<void> {
    this.actionError = null;
    try {
      await action();
    } catch (error) {
      this.actionError = error instanceof Error ? error.message : String(error);
    }
  }

  #requireEngine(): SoftphoneEngine {
    if (!this.#engine) throw new Error('The phone line is not set up.');
    return this.#engine;
  }

  #applyAppState(state: AppState): void {
    this.app = state;
    // Waiting for the browser, signing in or signed in: the attempt reached the main process.
    if (state.session.status !== 'signed-out') this.#signInPending = false;

    const provisioning = state.provisioning;
    const line = provisionedLine(provisioning);

    // While provisioning runs or after it failed, the line keeps the profile it
    // has from an earlier response or the keychain cache. Only before the first
    // profile arrives is there nothing to start.
    if (line === null && (provisioning.status === 'failed' || provisioning.status === 'provisioning')) return;

    // Signed out, or signed in without a line: the next start opens no early
    // WebSocket. This also covers a start that finds a server left from a
    // session that ended while the app was not running.
    if (line === null) {
      const storage = pageStorage();
      if (storage) forgetSipServer(storage);
    }

    const profileKey = line === null ? null : JSON.stringify([line.profile, line.instanceId, state.settings.clientId]);
    if (profileKey === this.#engineProfileKey) {
      if (provisioning.status === 'ready') this.#engine?.profileConfirmed();
      return;
    }

    this.#engineProfileKey = profileKey;
    this.#engineStarting = this.#engineStarting
      .then(() => this.#replaceEngine(state, line))
      // A failed start must not stop the next profile's start, nor quit.
      .catch((error: unknown) => console.error('Starting the SIP line failed', error));
  }

  async #replaceEngine(state: AppState, line: ProvisionedLine | null): Promise<void> {
    if (this.#engine) {
      const old = this.#engine;
      this.#engine = null;
      await old.stop();
    }

    if (line === null) {
      this.registration = { status: 'unregistered' };
      this.calls = [];
      this.desktop.reportPhoneStatus(this.registration, this.calls);
      this.activeProfile = null;
      return;
    }

    const engine = new SoftphoneEngine({
      profile: line.profile,
      requestProvisioning: (reason) => {
        this.bridge.requestProvisioning(reason).catch((error: unknown) => console.warn('Requesting provisioning failed', error));
      },
      identity: {
        instanceId: line.instanceId,
        clientId: state.settings.clientId,
        userAgentString: __APP_USER_AGENT__,
      },
      audioOutput: this.#speakerOutput,
      audioConstraints: () => this.audio.microphoneConstraints(),
      dialingContext: () => this.dialingContext,
      sipLog: this.desktop.forwardSipLog,
      sipServerStorage: pageStorage(),
    });

    engine.subscribe(() => {
      this.registration = engine.registration.state;
      this.calls = engine.calls();
      this.history.observe(this.calls);
      this.#alerts.update(this.desktop.callsToAlert(this.calls, (call) => void this.#divert(call)));
      this.desktop.reportPhoneStatus(this.registration, this.calls);
    });
    engine.onCallEnded((call) => {
      this.lastEndedCall = call;
      void this.history.record(call);
    });

    this.#engine = engine;
    this.activeProfile = line.profile;
    // Not awaited: a connect that waits for its timeout must not hold up quit or the next profile.
    void engine.start();
  }

  /** Do Not Disturb: sends a ringing call to voicemail when RingCentral call control allows it, else declines it. */
  async #divert(call: CallInfo): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    try {
      await (call.rcCallControl ? engine.sendToVoicemail(call.id) : engine.decline(call.id));
    } catch (error) {
      console.warn(`Do Not Disturb could not divert call ${call.id}`, error);
    }
  }

  async #shutDown(): Promise<void> {
    this.#alerts.stopAll();
    await this.#engineStarting;
    await this.#engine?.stop().catch((error: unknown) => console.warn('Unregister on quit failed', error));
    await this.bridge.quitReady();
  }
}
