import { Registerer, RegistererState, type Core, type UserAgent } from 'sip.js';

import type { UserFacingError } from '../../shared/errors';
import { Backoff } from './backoff';
import { createRegistrationMachine, type RegistrationState } from './registration-state';
import type { StateMachine } from './state-machine';

type IncomingResponse = Core.IncomingResponse;

/** REGISTER expiry requested from the registrar, in seconds. */
const REGISTER_EXPIRES_S = 600;
/** Time allowed for the un-REGISTER on stop before the transport closes anyway. */
const UNREGISTER_TIMEOUT_MS = 2000;
const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 60_000;

export interface RegistrationControllerOptions {
  userAgent: UserAgent;
  /** `host:port` of the proxy the UserAgent connects to, for state and messages. */
  server: string;
  /** Extra headers for REGISTER (RingCentral's endpoint and client ids). */
  extraHeaders: string[];
  now: () => number;
}

/**
 * Keeps one line registered: opens the WebSocket, sends REGISTER (sip.js
 * refreshes it before expiry), and after a lost transport or a rejected
 * REGISTER tries again with exponential backoff and jitter.
 */
export class RegistrationController {
  readonly machine: StateMachine<RegistrationState> = createRegistrationMachine();

  readonly #userAgent: UserAgent;
  readonly #registerer: Registerer;
  readonly #server: string;
  readonly #now: () => number;
  readonly #backoff = new Backoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS);
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #stopping = false;

  constructor(options: RegistrationControllerOptions) {
    this.#userAgent = options.userAgent;
    this.#server = options.server;
    this.#now = options.now;

    this.#registerer = new Registerer(this.#userAgent, {
      expires: REGISTER_EXPIRES_S,
      regId: 1,
      extraHeaders: options.extraHeaders,
    });
    this.#registerer.stateChange.addListener((state) => this.#onRegistererState(state));
  }

  get isRegistered(): boolean {
    return this.machine.state.status === 'registered';
  }

  /** Connects and registers; failures are retried with backoff until `stop()`. */
  async start(): Promise<void> {
    this.#stopping = false;
    await this.#connectAndRegister();
  }

  /** Un-REGISTERs (waiting at most a short time for the answer) and closes the WebSocket. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearRetry();

    if (this.#registerer.state === RegistererState.Registered) {
      this.machine.transition({ status: 'unregistering' });
      await this.#unregister();
    }

    await this.#userAgent.stop();
    if (this.machine.state.status !== 'unregistered') {
      this.machine.transition({ status: 'unregistered' });
    }
  }

  /** Called by the UserAgent's delegate when the WebSocket closes. */
  onTransportLost(error: Error | undefined): void {
    if (this.#stopping) return;

    this.#fail({
      code: 'SIP-TRANSPORT',
      message: `Lost the connection to the SIP server wss://${this.#server}${error ? `: ${error.message}` : ''}.`,
      action: 'Check the network connection. The softphone reconnects automatically.',
    });
  }

  async #connectAndRegister(): Promise<void> {
    this.#clearRetry();
    if (this.#stopping) return;

    this.machine.transition({ status: 'connecting', server: this.#server });
    try {
      if (!this.#userAgent.isConnected()) {
        if (this.#userAgent.state === 'Started') await this.#userAgent.reconnect();
        else await this.#userAgent.start();
      }
    } catch (error) {
      this.#fail({
        code: 'SIP-TRANSPORT',
        message: `Could not connect to the SIP server wss://${this.#server}: ${errorText(error)}`,
        action: 'Check the network connection. The softphone keeps trying.',
      });
      return;
    }

    if (this.#stopping) return;
    this.machine.transition({ status: 'registering', server: this.#server });
    await this.#registerer
      .register({ requestDelegate: { onReject: (response) => this.#onRegisterRejected(response) } })
      .catch((error: unknown) => {
        this.#fail({
          code: 'SIP-REGISTER',
          message: `Sending REGISTER failed: ${errorText(error)}`,
          action: 'The softphone keeps trying.',
        });
      });
  }

  #onRegistererState(state: RegistererState): void {
    if (this.#stopping) return;

    if (state === RegistererState.Registered) {
      this.#backoff.reset();
      const current = this.machine.state;
      const since = current.status === 'registered' ? current.since : this.#now();
      this.machine.transition({ status: 'registered', server: this.#server, since });
      return;
    }

    if (state === RegistererState.Unregistered && this.machine.state.status === 'registered') {
      this.#fail({
        code: 'SIP-REGISTRATION-LOST',
        message: 'The SIP registration expired or was removed by the server.',
        action: 'The softphone registers again automatically.',
      });
    }
  }

  #onRegisterRejected(response: IncomingResponse): void {
    const { statusCode, reasonPhrase } = response.message;

    // 401/407 reaching this point means the digest credentials were rejected
    // after the challenge: retrying with the same password would only lock the
    // device out, so the user is told to provision again.
    const isAuthFailure = statusCode === 401 || statusCode === 403 || statusCode === 407;
    this.#fail(
      {
        code: `SIP-${statusCode}`,
        message: `The SIP server rejected the registration: ${statusCode} ${reasonPhrase}.`,
        action: isAuthFailure
          ? 'The SIP credentials were not accepted. Sign out and sign in again to get new ones.'
          : 'The softphone tries again shortly.',
      },
      !isAuthFailure,
    );
  }

  #fail(error: UserFacingError, retry = true): void {
    if (this.#stopping) return;

    const delay = retry ? this.#backoff.nextDelayMs() : null;
    this.machine.transition({
      status: 'failed',
      error,
      retryAt: delay === null ? null : this.#now() + delay,
    });

    this.#clearRetry();
    if (delay !== null) {
      this.#retryTimer = setTimeout(() => void this.#connectAndRegister(), delay);
    }
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  async #unregister(): Promise<void> {
    const unregistered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, UNREGISTER_TIMEOUT_MS);
      this.#registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Unregistered || state === RegistererState.Terminated) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

    await this.#registerer.unregister().catch(() => undefined);
    await unregistered;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
