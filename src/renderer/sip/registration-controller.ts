import { Registerer, RegistererState, RequestPendingError, UserAgentState, type Core, type UserAgent } from 'sip.js';

import { Backoff } from '../../shared/backoff';
import type { UserFacingError } from '../../shared/errors';
import {
  AttemptWindow,
  isCredentialRejection,
  MAX_CONNECTION_ATTEMPTS,
  RECONNECT_BASE_MS,
  RECONNECT_MAX_MS,
  switchBackDelayMs,
} from './registration-policy';
import { createRegistrationMachine, type ProxyRole, type RegistrationState } from './registration-state';
import type { StateMachine } from './state-machine';

type IncomingResponse = Core.IncomingResponse;

/** REGISTER expiry requested from the registrar, in seconds; the registrar may grant less. */
const REGISTER_EXPIRES_S = 600;
/**
 * sip.js sends the refresh at this percentage of the granted expiry (its own
 * default is 99): 48 s into a 60 s grant, leaving 12 s for a slow response.
 */
const REFRESH_PERCENT = 80;
/** Time allowed for the un-REGISTER on stop or switch-back before the transport closes anyway. */
const UNREGISTER_TIMEOUT_MS = 1500;
/** Time allowed for a UserAgent to stop; a stop that waits for an unanswered request is abandoned. */
const USER_AGENT_STOP_TIMEOUT_MS = 300;

export interface RegistrationControllerOptions {
  /**
   * Builds a UserAgent for `server` (`host:port`) with the engine's delegates.
   * `onDisconnect` must become the UserAgent delegate's `onDisconnect`.
   */
  createUserAgent: (server: string, onDisconnect: (error?: Error) => void) => UserAgent;
  primaryServer: string;
  backupServer: string | null;
  /** Final REGISTER response codes that mean "use the other proxy" (`sipErrorCodes` of the profile). */
  sipErrorCodes: readonly number[];
  /** Seconds on the backup proxy before trying the primary again. */
  switchBackIntervalS: number;
  /** Extra headers for REGISTER (RingCentral's endpoint and client ids). */
  extraHeaders: string[];
  /** Tells whether a call is in progress; the proxy is not switched under a call. */
  hasActiveCalls: () => boolean;
  /** Called once when the registrar rejects the credentials, so new ones can be provisioned. */
  onCredentialsRejected: (statusCode: number) => void;
  now: () => number;
  random?: () => number;
}

/** One WebSocket proxy with its UserAgent and the Registerer on it. */
interface Connection {
  readonly server: string;
  readonly proxy: ProxyRole;
  readonly userAgent: UserAgent;
  registerer: Registerer;
}

type FailureKind =
  /** The WebSocket could not be opened. */
  | 'connect'
  /** The open WebSocket closed. */
  | 'transport-lost'
  /** The registrar rejected the REGISTER with a final response. */
  | 'rejected'
  /** The registration ended without a response to this controller's REGISTER: it expired, or sip.js's own refresh was rejected. */
  | 'lost'
  /** A REGISTER still waits for its response when the next one is due. */
  | 'no-answer'
  /** sip.js could not send the REGISTER. */
  | 'send';

interface Failure {
  kind: FailureKind;
  statusCode?: number;
  error: UserFacingError;
}

/**
 * Keeps one line registered over one of two proxies.
 *
 * - Registers on the primary proxy; sip.js refreshes before expiry and handles
 *   423 Interval Too Brief by retrying with the registrar's Min-Expires.
 * - A REGISTER rejected with a code in `sipErrorCodes`, a WebSocket that cannot
 *   open or that closes, or a REGISTER without a response moves the line to the
 *   other proxy. While on the backup, the line returns to the primary after
 *   `switchBackInterval` plus jitter, but never during a call.
 * - Other failures retry on the same proxy with exponential backoff and jitter,
 *   and `MAX_CONNECTION_ATTEMPTS` bounds the attempts per minute.
 * - Rejected credentials (401, 403, 407 after the digest retry) are not retried
 *   with the same password: `onCredentialsRejected` asks for new ones, once.
 * - `reconnect()` (resume from sleep, network back) opens a new WebSocket and
 *   registers again, because a socket can look open and be dead.
 */
export class RegistrationController {
  readonly machine: StateMachine<RegistrationState> = createRegistrationMachine();

  readonly #options: RegistrationControllerOptions;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #attempts = new AttemptWindow(MAX_CONNECTION_ATTEMPTS.attempts, MAX_CONNECTION_ATTEMPTS.windowMs);
  #connection: Connection;
  #target: ProxyRole = 'primary';
  /** Incremented per attempt and per failure, so results of an older attempt are dropped. */
  #generation = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #switchBackTimer: ReturnType<typeof setTimeout> | null = null;
  /** The switch-back time came during a call; it happens when the calls end. */
  #switchBackDue = false;
  /** A REGISTER asked for the other proxy during a call; the switch happens when the calls end. */
  #failoverDue = false;
  /** The first failure after a registration retries at once; later ones back off. */
  #quickRetryUsed = false;
  /** The Registerer still waits for the response to an earlier REGISTER and must be replaced. */
  #registererWedged = false;
  #credentialsReported = false;
  #online = true;
  #started = false;
  #stopping = false;

  constructor(options: RegistrationControllerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS, this.#random);
    this.#connection = this.#createConnection('primary');
  }

  /** The UserAgent of the current proxy; it changes when the line switches proxies. */
  get userAgent(): UserAgent {
    return this.#connection.userAgent;
  }

  get isRegistered(): boolean {
    return this.machine.state.status === 'registered';
  }

  /** Connects and registers; failures are retried until `stop()`. */
  async start(): Promise<void> {
    this.#started = true;
    this.#stopping = false;
    await this.#attempt({ fresh: false });
  }

  /** Sends the un-REGISTER, waits 1.5 s at most for its response, and closes the WebSocket. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#generation += 1;
    this.#clearRetry();
    this.#clearSwitchBack();

    const connection = this.#connection;
    if (connection.registerer.state === RegistererState.Registered && connection.userAgent.isConnected()) {
      if (this.machine.can('unregistering')) this.machine.transition({ status: 'unregistering' });
      await unregisterWithin(connection.registerer, UNREGISTER_TIMEOUT_MS);
    }

    await stopWithin(connection.userAgent, USER_AGENT_STOP_TIMEOUT_MS);
    if (this.machine.state.status !== 'unregistered') {
      this.machine.transition({ status: 'unregistered' });
    }
  }

  /**
   * Opens a new WebSocket and registers again now, resetting the backoff. Used
   * after a resume from sleep and when the network comes back.
   */
  reconnect(cause: 'resume' | 'network-online'): void {
    this.#online = true;
    if (!this.#started || this.#stopping) return;

    console.info(`[registration] ${cause}: opening a new connection to wss://${this.#connection.server}`);
    this.#backoff.reset();
    this.#quickRetryUsed = false;
    void this.#attempt({ fresh: true });
  }

  /** Records that the operating system reports no network, so retries wait for `reconnect('network-online')`. */
  networkOffline(): void {
    this.#online = false;
    if (!this.#started || this.#stopping || this.isRegistered) return;

    this.#clearRetry();
    this.#generation += 1;
    this.#showOffline();
  }

  /** Runs the next attempt now, for a user's "Try again". */
  retryNow(): void {
    if (!this.#started || this.#stopping) return;

    this.#backoff.reset();
    void this.#attempt({ fresh: true });
  }

  /** Updates the error after provisioning returned the same credentials that the registrar rejected. */
  credentialsUnchanged(): void {
    const state = this.machine.state;
    if (state.status !== 'failed' || !this.#credentialsReported) return;

    this.machine.transition({
      ...state,
      error: {
        ...state.error,
        action:
          'RingCentral returned the same SIP credentials again. Sign out and sign in again; if the error remains, ' +
          'ask your RingCentral administrator to check the device of this softphone.',
      },
    });
  }

  /** Runs a proxy switch that a call postponed once no call is left; the engine calls it whenever calls change. */
  callsChanged(): void {
    if (this.#stopping || this.#options.hasActiveCalls()) return;

    if (this.#switchBackDue) {
      this.#switchBackDue = false;
      void this.#switchBack();
      return;
    }

    if (this.#failoverDue && !this.isRegistered) {
      this.#failoverDue = false;
      this.#target = otherProxy(this.#target);
      void this.#attempt({ fresh: false });
    }
  }

  async #attempt(options: { fresh: boolean }): Promise<void> {
    this.#clearRetry();
    if (this.#stopping) return;
    if (!this.#online) {
      this.#showOffline();
      return;
    }

    const now = this.#options.now();
    const slot = this.#attempts.nextSlot(now);
    if (slot > now) {
      this.#deferAttempt(slot, options);
      return;
    }
    this.#attempts.record(now);

    this.#generation += 1;
    const generation = this.#generation;
    const connection = await this.#prepareConnection(options.fresh);
    if (generation !== this.#generation || this.#stopping) return;

    this.machine.transition({ status: 'connecting', server: connection.server, proxy: connection.proxy });
    let opened: boolean;
    try {
      opened = await connectUserAgent(connection.userAgent);
    } catch (error) {
      if (generation !== this.#generation || this.#stopping) return;
      this.#onFailure({
        kind: 'connect',
        error: {
          code: 'SIP-TRANSPORT',
          message: `Could not connect to the SIP server wss://${connection.server}: ${errorText(error)}.`,
          action: 'Check the network connection, proxy and firewall.',
        },
      });
      return;
    }

    if (generation !== this.#generation || this.#stopping) return;
    this.machine.transition({ status: 'registering', server: connection.server, proxy: connection.proxy });

    try {
      await this.#register(connection, generation);
    } catch (error) {
      if (generation !== this.#generation || this.#stopping) return;
      if (error instanceof RequestPendingError && opened) {
        // RFC 3261 section 10.2: no new REGISTER before the previous one has a
        // final response or has timed out. That one went out on a WebSocket
        // that is gone, so no response can arrive, and a new Registerer takes over.
        this.#replaceRegisterer(connection);
        try {
          await this.#register(connection, generation);
          return;
        } catch (retryError) {
          if (generation !== this.#generation || this.#stopping) return;
          error = retryError;
        }
      }
      if (error instanceof RequestPendingError) {
        // The earlier REGISTER still has no response on this WebSocket, so the
        // WebSocket is suspect too.
        this.#registererWedged = true;
        this.#onFailure({
          kind: 'no-answer',
          error: {
            code: 'SIP-REGISTER-TIMEOUT',
            message: `The SIP server wss://${connection.server} sent no response to the previous REGISTER.`,
            action: 'The softphone opens a new connection.',
          },
        });
        return;
      }
      this.#onFailure({
        kind: 'send',
        error: {
          code: 'SIP-REGISTER',
          message: `Sending REGISTER to wss://${connection.server} failed: ${errorText(error)}.`,
          action: 'Check the network connection.',
        },
      });
    }
  }

  #register(connection: Connection, generation: number): Promise<unknown> {
    return connection.registerer.register({
      requestDelegate: {
        onAccept: () => {
          if (generation === this.#generation) this.#onRegistered(connection);
        },
        onReject: (response) => this.#onRejected(connection, generation, response),
      },
    });
  }

  /**
   * Gives the connection a new Registerer. Call it only after the WebSocket of
   * the old one's pending REGISTER is gone. That request then ends with sip.js's
   * own 408, which moves the old Registerer to Unregistered before dispose()
   * finishes. So dispose() does not un-REGISTER the contact the new one uses.
   */
  #replaceRegisterer(connection: Connection): void {
    const old = connection.registerer;
    connection.registerer = this.#createRegisterer(connection);
    void old.dispose().catch(() => undefined);
  }

  /**
   * Returns the connection for the target proxy. It is a new UserAgent when the
   * proxy changes, because sip.js fixes the WebSocket URL when it builds one.
   * `fresh` closes the WebSocket of the same proxy first, and the UserAgent
   * stays, so calls keep their sessions.
   */
  async #prepareConnection(fresh: boolean): Promise<Connection> {
    const current = this.#connection;
    const server = this.#serverFor(this.#target);

    if (current.server !== server) {
      const next = this.#createConnection(this.#target);
      this.#connection = next;
      await stopWithin(current.userAgent, USER_AGENT_STOP_TIMEOUT_MS);
      return next;
    }

    // A Registerer still waiting for a response accepts no new REGISTER, so a
    // new WebSocket and a new Registerer replace both.
    const wedged = this.#registererWedged || current.registerer.state === RegistererState.Terminated;
    this.#registererWedged = false;
    if ((fresh || wedged) && current.userAgent.state === UserAgentState.Started) {
      await current.userAgent.transport.disconnect().catch(() => undefined);
    }
    if (wedged) {
      this.#replaceRegisterer(current);
    }
    return current;
  }

  #createConnection(proxy: ProxyRole): Connection {
    const server = this.#serverFor(proxy);
    const holder: { connection?: Connection } = {};
    const userAgent = this.#options.createUserAgent(server, (error) => {
      if (holder.connection !== undefined) this.#onDisconnect(holder.connection, error);
    });

    const connection: Connection = { server, proxy, userAgent, registerer: undefined as unknown as Registerer };
    connection.registerer = this.#createRegisterer(connection);
    holder.connection = connection;
    return connection;
  }

  #createRegisterer(connection: Connection): Registerer {
    const registerer = new Registerer(connection.userAgent, {
      expires: REGISTER_EXPIRES_S,
      refreshFrequency: REFRESH_PERCENT,
      regId: 1,
      extraHeaders: this.#options.extraHeaders,
      logConfiguration: false,
    });
    registerer.stateChange.addListener((state) => this.#onRegistererState(connection, registerer, state));
    return registerer;
  }

  #serverFor(proxy: ProxyRole): string {
    return proxy === 'backup' && this.#options.backupServer !== null
      ? this.#options.backupServer
      : this.#options.primaryServer;
  }

  #isCurrent(connection: Connection, registerer?: Registerer): boolean {
    if (this.#stopping || connection !== this.#connection) return false;
    return registerer === undefined || registerer === connection.registerer;
  }

  #onRegistererState(connection: Connection, registerer: Registerer, state: RegistererState): void {
    if (!this.#isCurrent(connection, registerer)) return;

    if (state === RegistererState.Registered) {
      this.#onRegistered(connection);
      return;
    }

    if (state === RegistererState.Unregistered) {
      // sip.js reports a rejection to the request delegate right after this
      // state change. When none follows, the registration expired, or a
      // refresh failed, which sip.js sends without a delegate.
      const generation = this.#generation;
      setTimeout(() => this.#onRegistrationEnded(connection, registerer, generation), 0);
    }
  }

  #onRegistrationEnded(connection: Connection, registerer: Registerer, generation: number): void {
    if (generation !== this.#generation || !this.#isCurrent(connection, registerer)) return;

    const status = this.machine.state.status;
    if (status !== 'registered' && status !== 'registering') return;

    this.#generation += 1;
    const server = `wss://${connection.server}`;
    this.#onFailure({
      kind: 'lost',
      error: {
        code: 'SIP-REGISTRATION-LOST',
        message: `The SIP registration at ${server} expired, or its refresh failed.`,
        action: 'The softphone registers again.',
      },
    });
  }

  #onRegistered(connection: Connection): void {
    if (!this.#isCurrent(connection)) return;

    this.#clearRetry();
    this.#backoff.reset();
    this.#quickRetryUsed = false;
    this.#credentialsReported = false;
    this.#failoverDue = false;

    const current = this.machine.state;
    const continuing = current.status === 'registered' && current.server === connection.server;
    const since = continuing ? current.since : this.#options.now();

    let switchBackAt: number | null = null;
    if (connection.proxy === 'backup') {
      switchBackAt = continuing && current.switchBackAt !== null ? current.switchBackAt : this.#scheduleSwitchBack();
    } else {
      this.#clearSwitchBack();
    }

    this.machine.transition({ status: 'registered', server: connection.server, proxy: connection.proxy, since, switchBackAt });
  }

  #onRejected(connection: Connection, generation: number, response: IncomingResponse): void {
    if (generation !== this.#generation || !this.#isCurrent(connection)) return;

    const statusCode = response.message.statusCode ?? 0;
    const reasonPhrase = response.message.reasonPhrase ?? '';
    this.#generation += 1;
    const server = `wss://${connection.server}`;

    if (isCredentialRejection(statusCode)) {
      this.#onCredentialsRejected(server, statusCode, reasonPhrase);
      return;
    }

    this.#onFailure({
      kind: 'rejected',
      statusCode,
      error: {
        code: `SIP-${statusCode}`,
        message: `The SIP server ${server} rejected the registration: ${statusCode} ${reasonPhrase}.`,
        action: 'The softphone tries again.',
      },
    });
  }

  #onCredentialsRejected(server: string, statusCode: number, reasonPhrase: string): void {
    // sip.js has already answered the digest challenge, and retried once with a
    // new nonce when the server marked the old one stale. Retrying with the
    // same password cannot help and may lock the device out, so the line waits
    // for new credentials.
    const firstReport = !this.#credentialsReported;
    this.#credentialsReported = true;
    this.#clearSwitchBack();

    this.machine.transition({
      status: 'failed',
      error: {
        code: `SIP-${statusCode}`,
        message: `The SIP server ${server} did not accept the SIP credentials: ${statusCode} ${reasonPhrase}.`,
        action: firstReport
          ? 'The softphone is getting new SIP credentials from RingCentral.'
          : 'Sign out and sign in again to get new SIP credentials.',
      },
      retryAt: null,
    });

    if (firstReport) this.#options.onCredentialsRejected(statusCode);
  }

  #onDisconnect(connection: Connection, error: Error | undefined): void {
    // Without an error, this controller closed the WebSocket itself.
    if (error === undefined || !this.#isCurrent(connection)) return;

    // While connecting, the failed connect() reports the same event.
    const status = this.machine.state.status;
    if (status !== 'registering' && status !== 'registered') return;

    this.#generation += 1;
    this.#onFailure({
      kind: 'transport-lost',
      error: {
        code: 'SIP-TRANSPORT',
        message: `Lost the connection to the SIP server wss://${connection.server}: ${error.message}.`,
        action: 'Check the network connection.',
      },
    });
  }

  #onFailure(failure: Failure): void {
    if (this.#stopping) return;

    this.#clearRetry();
    this.#clearSwitchBack();
    if (!this.#online) {
      this.#showOffline();
      return;
    }

    const { delayMs, switched } = this.#planRetry(failure);
    const retryAt = this.#options.now() + delayMs;
    const next = switched ? `Trying wss://${this.#serverFor(this.#target)} instead.` : 'The softphone tries again.';

    console.warn(`[registration] ${failure.error.code}: ${failure.error.message} Next attempt in ${delayMs} ms.`);
    this.machine.transition({
      status: 'failed',
      error: { ...failure.error, action: `${failure.error.action} ${next}` },
      retryAt,
    });

    // A response to the REGISTER proves the WebSocket works; any other failure casts doubt on it.
    const fresh = failure.kind !== 'rejected';
    this.#retryTimer = setTimeout(() => void this.#attempt({ fresh }), delayMs);
  }

  /**
   * Chooses the proxy of the next attempt and its delay. The first failure
   * after a registration retries at once, on the other proxy when the failure
   * calls for it. Further failures back off.
   */
  #planRetry(failure: Failure): { delayMs: number; switched: boolean } {
    const delayMs = this.#quickRetryUsed ? this.#backoff.nextDelayMs() : 0;
    this.#quickRetryUsed = true;

    const deadTransport = failure.kind === 'connect' || failure.kind === 'transport-lost' || failure.kind === 'no-answer';
    const switchCode =
      failure.kind === 'rejected' &&
      failure.statusCode !== undefined &&
      this.#options.sipErrorCodes.includes(failure.statusCode);
    if (this.#options.backupServer === null || (!deadTransport && !switchCode)) {
      return { delayMs, switched: false };
    }

    if (switchCode && this.#options.hasActiveCalls()) {
      // The WebSocket still carries the call's dialog, and a UserAgent on the
      // other proxy would end it, so the switch waits until the calls end.
      this.#failoverDue = true;
      return { delayMs, switched: false };
    }

    this.#target = otherProxy(this.#target);
    return { delayMs, switched: true };
  }

  #deferAttempt(slot: number, options: { fresh: boolean }): void {
    const delayMs = slot - this.#options.now();
    console.warn(`[registration] ${MAX_CONNECTION_ATTEMPTS.attempts} connection attempts in the last minute; next in ${delayMs} ms.`);

    const state = this.machine.state;
    if (state.status === 'failed') {
      this.machine.transition({ ...state, retryAt: slot });
    }
    this.#retryTimer = setTimeout(() => void this.#attempt(options), delayMs);
  }

  #showOffline(): void {
    if (!this.machine.can('failed') && this.machine.state.status !== 'failed') return;

    this.machine.transition({
      status: 'failed',
      error: {
        code: 'NETWORK-OFFLINE',
        message: 'The computer has no network connection.',
        action: 'The softphone registers again as soon as the network is back.',
      },
      retryAt: null,
    });
  }

  #scheduleSwitchBack(): number {
    this.#clearSwitchBack();
    const delayMs = switchBackDelayMs(this.#options.switchBackIntervalS, this.#random);
    this.#switchBackTimer = setTimeout(() => void this.#switchBack(), delayMs);
    return this.#options.now() + delayMs;
  }

  async #switchBack(): Promise<void> {
    this.#switchBackTimer = null;
    if (this.#stopping || this.#connection.proxy !== 'backup') return;

    if (this.#options.hasActiveCalls()) {
      this.#switchBackDue = true;
      return;
    }

    console.info(`[registration] switching back to the primary proxy wss://${this.#options.primaryServer}`);
    const backup = this.#connection;
    this.#generation += 1;
    if (backup.registerer.state === RegistererState.Registered && backup.userAgent.isConnected()) {
      await unregisterWithin(backup.registerer, UNREGISTER_TIMEOUT_MS);
    }
    if (this.#stopping || backup !== this.#connection) return;

    this.#target = 'primary';
    this.#quickRetryUsed = false;
    this.#backoff.reset();
    await this.#attempt({ fresh: false });
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #clearSwitchBack(): void {
    if (this.#switchBackTimer !== null) clearTimeout(this.#switchBackTimer);
    this.#switchBackTimer = null;
  }
}

function otherProxy(proxy: ProxyRole): ProxyRole {
  return proxy === 'primary' ? 'backup' : 'primary';
}

/** Opens the UserAgent's WebSocket unless it is open; returns whether a new one was opened. */
async function connectUserAgent(userAgent: UserAgent): Promise<boolean> {
  if (userAgent.isConnected()) return false;

  if (userAgent.state === UserAgentState.Started) {
    await userAgent.reconnect();
  } else {
    await userAgent.start();
  }
  return true;
}

/** Sends the un-REGISTER and waits for its response, or `timeoutMs` at most. */
async function unregisterWithin(registerer: Registerer, timeoutMs: number): Promise<void> {
  const unregistered = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Unregistered || state === RegistererState.Terminated) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

  await registerer.unregister().catch(() => undefined);
  await unregistered;
}

/** Stops a UserAgent, waiting `timeoutMs` at most: a stop can wait for an unanswered request. */
async function stopWithin(userAgent: UserAgent, timeoutMs: number): Promise<void> {
  if (userAgent.state === UserAgentState.Stopped) return;

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([userAgent.stop().catch(() => undefined), timeout]);
  clearTimeout(timer);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
