import type { AppState, PublicSettings } from '../../shared/app-state';
import { IpcEvent, type SoftphoneBridge } from '../../shared/ipc';
import { AudioElementOutput } from '../audio/remote-audio';
import type { RegistrationState } from '../sip/registration-state';
import { SoftphoneEngine, type CallInfo } from '../sip/softphone-engine';

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

  #engine: SoftphoneEngine | null = null;
  #engineProfileKey: string | null = null;
  #engineStarting: Promise<void> = Promise.resolve();

  constructor(
    private readonly bridge: SoftphoneBridge,
    private readonly audioContainer: HTMLElement,
  ) {}

  async init(): Promise<void> {
    this.bridge.on(IpcEvent.StateChanged, (state) => this.#applyAppState(state));
    this.bridge.on(IpcEvent.WillQuit, () => void this.#shutDown());
    this.#applyAppState(await this.bridge.getState());
  }

  /** Saves the server choice and client id, then signs in with a JWT credential. */
  async signInWithJwt(settings: PublicSettings, jwt: string): Promise<void> {
    await this.#act(async () => {
      this.#applyAppState(await this.bridge.saveSettings(settings));
      this.#applyAppState(await this.bridge.signInWithJwt(jwt));
    });
  }

  async signOut(): Promise<void> {
    await this.#act(async () => {
      this.#applyAppState(await this.bridge.signOut());
    });
  }

  /** Asks the main process to provision the SIP line again. */
  async provision(): Promise<void> {
    await this.#act(async () => {
      this.#applyAppState(await this.bridge.provision());
    });
  }

  async dial(input: string): Promise<void> {
    await this.#act(async () => {
      if (!this.#engine) throw new Error('The phone line is not set up yet. Sign in first.');
      await this.#engine.call(input);
    });
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

    const provisioning = state.provisioning;
    const profileKey =
      provisioning.status === 'ready'
        ? JSON.stringify([provisioning.profile, provisioning.instanceId, state.settings.clientId])
        : null;

    // A failed re-provisioning keeps the line that works; sign-out and a new
    // profile replace it.
    if (provisioning.status === 'failed' || provisioning.status === 'provisioning') return;
    if (profileKey === this.#engineProfileKey) return;

    this.#engineProfileKey = profileKey;
    this.#engineStarting = this.#engineStarting.then(() => this.#replaceEngine(state));
  }

  async #replaceEngine(state: AppState): Promise<void> {
    if (this.#engine) {
      const old = this.#engine;
      this.#engine = null;
      await old.stop();
    }

    const provisioning = state.provisioning;
    if (provisioning.status !== 'ready') {
      this.registration = { status: 'unregistered' };
      this.calls = [];
      return;
    }

    const engine = new SoftphoneEngine({
      profile: provisioning.profile,
      identity: {
        instanceId: provisioning.instanceId,
        clientId: state.settings.clientId,
        userAgentString: __APP_USER_AGENT__,
      },
      audioOutput: new AudioElementOutput(this.audioContainer),
    });

    engine.subscribe(() => {
      this.registration = engine.registration.state;
      this.calls = engine.calls();
    });
    engine.onCallEnded((call) => {
      this.lastEndedCall = call;
    });

    this.#engine = engine;
    await engine.start();
  }

  async #shutDown(): Promise<void> {
    await this.#engineStarting;
    await this.#engine?.stop().catch((error: unknown) => console.warn('Unregister on quit failed', error));
    await this.bridge.quitReady();
  }
}
