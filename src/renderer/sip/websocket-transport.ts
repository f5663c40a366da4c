import { EmitterImpl, TransportState, type Core, type Emitter, type Transport } from 'sip.js';

import { claimEarlySipSocket, SIP_WEBSOCKET_PROTOCOL, WEBSOCKET_OPEN } from './early-sip-socket';

/** A double CRLF: the keep-alive ping and pong of SIP over connection-oriented transports (RFC 5626 §3.5.1). */
const CRLF_KEEP_ALIVE = /^(\r\n)+$/;

/** sip.js's own default for `connectionTimeout`, in seconds. */
const DEFAULT_CONNECTION_TIMEOUT_S = 5;

export interface SipWebSocketTransportOptions {
  /** URL of the SIP server, `wss://host:port` (`ws://` is accepted too). */
  server: string;
  /**
   * Maximum seconds for the WebSocket to open, and for it to close on
   * `disconnect()`, before the transport gives up on it. 5 unless set.
   */
  connectionTimeout?: number;
  /**
   * Called with the server URL each time the WebSocket opens, so the next start
   * can open its early socket there.
   */
  rememberServer?: (url: string) => void;
  /** Object that contains the early socket; `globalThis` unless set. */
  earlySocketHolder?: object;
  /** WebSocket class; the browser's own unless set. */
  WebSocketImpl?: new (url: string, protocols: string) => WebSocket;
}

/**
 * SIP over WebSocket (RFC 7118) for sip.js's UserAgent, in place of sip.js's
 * own Web transport. Towards the UserAgent it keeps that transport's states,
 * promises and `onConnect`/`onDisconnect`/`onMessage` calls.
 *
 * In addition it takes over the socket that the page's head script opened to
 * the same server before the main bundle ran. The first REGISTER then does not
 * wait for the TLS and WebSocket handshakes.
 *
 * States: Disconnected → Connecting → Connected → Disconnecting → Disconnected.
 * A close that the transport did not request ends in Disconnected with an error,
 * which reaches `onDisconnect` when the socket was connected and rejects
 * `connect()` when it was still opening. A socket that neither opens nor closes
 * within `connectionTimeout` is dropped, so `connect()` and `disconnect()`
 * always settle.
 *
 * Each SIP message sent and received is logged at `log` level, as sip.js's own
 * transport does, because the SIP trace is made of those lines.
 */
export class SipWebSocketTransport implements Transport {
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;

  readonly protocol: string;
  readonly #logger: Core.Logger;
  readonly #options: SipWebSocketTransportOptions;
  readonly #stateChange = new EmitterImpl<TransportState>();
  #state: TransportState = TransportState.Disconnected;
  #socket: WebSocket | undefined;
  #socketTimer: ReturnType<typeof setTimeout> | undefined;
  #connecting: Deferred | undefined;
  #disconnecting: Deferred | undefined;

  constructor(logger: Core.Logger, options: SipWebSocketTransportOptions) {
    let scheme: string;
    try {
      scheme = new URL(options.server).protocol;
    } catch {
      throw new Error(`Invalid WebSocket server URL '${options.server}'`);
    }
    if (scheme !== 'wss:' && scheme !== 'ws:') {
      throw new Error(`The SIP server URL '${options.server}' is not a ws:// or wss:// URL`);
    }
    this.protocol = scheme === 'wss:' ? 'WSS' : 'WS';
    this.#logger = logger;
    this.#options = options;
  }

  get #timeoutSeconds(): number {
    const seconds = this.#options.connectionTimeout;
    return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_CONNECTION_TIMEOUT_S;
  }

  get server(): string {
    return this.#options.server;
  }

  get state(): TransportState {
    return this.#state;
  }

  get stateChange(): Emitter<TransportState> {
    return this.#stateChange;
  }

  isConnected(): boolean {
    return this.#state === TransportState.Connected;
  }

  connect(): Promise<void> {
    if (this.#state === TransportState.Connected) return Promise.resolve();
    if (this.#state === TransportState.Connecting) return this.#connecting!.promise;

    const socket = this.#openSocket();
    if (socket instanceof Error) {
      // As with sip.js's own transport, a failed construction rejects connect()
      // and calls no onDisconnect, because nothing connected.
      this.#logger.error(socket.message);
      return Promise.reject(socket);
    }

    // The socket is attached before the state change is announced, so a
    // listener that calls disconnect() finds it and closes it.
    this.#connecting = deferred();
    const connecting = this.#connecting.promise;
    this.#attach(socket);
    this.#transition(TransportState.Connecting);
    if (!this.#holds(socket, TransportState.Connecting)) return connecting;

    if (socket.readyState === WEBSOCKET_OPEN) {
      this.#transition(TransportState.Connected);
    } else {
      this.#giveUpAfterTimeout(socket, TransportState.Connecting, 'Opening');
    }
    return connecting;
  }

  disconnect(): Promise<void> {
    if (this.#state === TransportState.Disconnected) return Promise.resolve();
    if (this.#state === TransportState.Disconnecting) return this.#disconnecting!.promise;

    this.#disconnecting = deferred();
    const disconnecting = this.#disconnecting.promise;
    const socket = this.#socket;
    this.#transition(TransportState.Disconnecting);
    if (!this.#holds(socket, TransportState.Disconnecting)) return disconnecting;

    if (socket === undefined || socket.readyState > WEBSOCKET_OPEN) {
      this.#socket = undefined;
      this.#transition(TransportState.Disconnected);
    } else {
      // A server that has gone silent never returns the close frame, and the
      // browser's own closing timeout is far longer than connectionTimeout.
      this.#giveUpAfterTimeout(socket, TransportState.Disconnecting, 'Closing');
      socket.close(1000);
    }
    return disconnecting;
  }

  dispose(): Promise<void> {
    return this.disconnect();
  }

  send(message: string): Promise<void> {
    if (this.#state !== TransportState.Connected || this.#socket === undefined) {
      return Promise.reject(new Error('Not connected.'));
    }
    this.#logger.log(`Sending WebSocket message:\n\n${message}\n`);
    try {
      this.#socket.send(message);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('WebSocket send failed.'));
    }
    return Promise.resolve();
  }

  /**
   * Returns whether `socket` is still the current one, in `state`. A state
   * listener or callback may have called connect() or disconnect() meanwhile.
   */
  #holds(socket: WebSocket | undefined, state: TransportState): boolean {
    return this.#socket === socket && this.#state === state;
  }

  /** Drops `socket` and ends in Disconnected when it is still in `state` after the timeout. */
  #giveUpAfterTimeout(socket: WebSocket, state: TransportState, action: 'Opening' | 'Closing'): void {
    const seconds = this.#timeoutSeconds;
    this.#socketTimer = setTimeout(() => {
      this.#socketTimer = undefined;
      if (!this.#holds(socket, state)) return;
      const timedOut = new Error(`${action} the WebSocket to ${this.server} timed out after ${seconds} s`);
      this.#logger.warn(timedOut.message);
      this.#dropSocket();
      // A close that the transport requested ends without an error, as a clean close does.
      this.#transition(TransportState.Disconnected, state === TransportState.Connecting ? timedOut : undefined);
    }, seconds * 1000);
  }

  /** Returns the head script's socket to this server when there is one, else a new socket. */
  #openSocket(): WebSocket | Error {
    const early = claimEarlySipSocket(this.server, this.#options.earlySocketHolder ?? globalThis);
    if (early !== undefined) {
      this.#logger.log(`Using the WebSocket to ${this.server} opened before start-up`);
      return early;
    }
    const WebSocketImpl = this.#options.WebSocketImpl ?? WebSocket;
    try {
      const socket = new WebSocketImpl(this.server, SIP_WEBSOCKET_PROTOCOL);
      socket.binaryType = 'arraybuffer';
      return socket;
    } catch (error) {
      return new Error(`Could not open a WebSocket to ${this.server}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #attach(socket: WebSocket): void {
    this.#socket = socket;
    socket.addEventListener('open', () => {
      if (socket !== this.#socket || this.#state !== TransportState.Connecting) return;
      this.#transition(TransportState.Connected);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      const requested = this.#state === TransportState.Disconnecting;
      const error = requested ? undefined : new Error(`WebSocket closed ${this.server} (code: ${event.code})`);
      if (error) this.#logger.warn(error.message);
      this.#transition(TransportState.Disconnected, error);
    });
    socket.addEventListener('error', () => {
      if (socket !== this.#socket) return;
      this.#logger.error(`WebSocket error on ${this.server}; the close event follows`);
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket) return;
      this.#receive(event.data);
    });
  }

  #receive(data: unknown): void {
    let text: string;
    if (typeof data === 'string') {
      text = data;
    } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(data);
      } catch {
        this.#logger.warn(`Discarded a binary WebSocket message from ${this.server} that is not UTF-8`);
        return;
      }
    } else {
      this.#logger.warn(`Discarded a WebSocket message of an unknown type from ${this.server}`);
      return;
    }
    if (text === '' || CRLF_KEEP_ALIVE.test(text)) return;
    if (this.#state !== TransportState.Connected) {
      this.#logger.warn(`Discarded a message from ${this.server} received while not connected`);
      return;
    }
    this.#logger.log(`Received WebSocket text message:\n\n${text}\n`);
    this.#call('onMessage', () => this.onMessage?.(text));
  }

  /** Runs a UserAgent callback; an exception in it is logged and does not break the transport's state. */
  #call(name: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#logger.error(`Exception thrown by the transport's ${name} callback: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Detaches the current socket and closes it without waiting for its close event. */
  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined && socket.readyState <= WEBSOCKET_OPEN) socket.close(1000);
  }

  #transition(next: TransportState, error?: Error): void {
    const previous = this.#state;
    this.#state = next;
    if (this.#socketTimer !== undefined) {
      clearTimeout(this.#socketTimer);
      this.#socketTimer = undefined;
    }

    // Promises settle first, so an exception in a callback or listener cannot
    // leave connect() or disconnect() pending.
    const connecting = previous === TransportState.Connecting ? this.#connecting : undefined;
    if (connecting) {
      this.#connecting = undefined;
      if (next === TransportState.Connected) connecting.resolve();
      else connecting.reject(error ?? new Error('Connect aborted.'));
    }
    const disconnecting = previous === TransportState.Disconnecting ? this.#disconnecting : undefined;
    if (disconnecting) {
      this.#disconnecting = undefined;
      if (next === TransportState.Disconnected) disconnecting.resolve();
      else disconnecting.reject(error ?? new Error('Disconnect aborted.'));
    }

    this.#logger.log(`Transport ${previous} → ${next}`);
    this.#call('stateChange listener', () => this.#stateChange.emit(next));

    if (next === TransportState.Connected) {
      this.#options.rememberServer?.(this.server);
      this.#call('onConnect', () => this.onConnect?.());
    }
    if (previous === TransportState.Connected) this.#call('onDisconnect', () => this.onDisconnect?.(error));
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}
