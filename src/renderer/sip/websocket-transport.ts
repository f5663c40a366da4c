import { EmitterImpl, TransportState, type Core, type Emitter, type Transport } from 'sip.js';

import { claimEarlySipSocket, SIP_WEBSOCKET_PROTOCOL } from './early-sip-socket';

/** `WebSocket.readyState` values, spelled out so that tests can pass another WebSocket class. */
const CONNECTING = 0;
const OPEN = 1;

/** A double CRLF: the keep-alive ping and pong of SIP over connection-oriented transports (RFC 5626 §3.5.1). */
const CRLF_KEEP_ALIVE = /^(\r\n)+$/;

export interface SipWebSocketTransportOptions {
  /** URL of the SIP server, `wss://host:port` (`ws://` is accepted too). */
  server: string;
  /** Maximum seconds for the WebSocket to open before the attempt fails. */
  connectionTimeout: number;
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
 * A close that the transport did not ask for ends in Disconnected with an error,
 * which reaches `onDisconnect` when the socket was connected and rejects
 * `connect()` when it was still opening.
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
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
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
      // sip.js's own transport reports a failed construction the same way: a
      // rejected connect, with no onDisconnect because it never connected.
      this.#logger.error(socket.message);
      return Promise.reject(socket);
    }

    this.#connecting = deferred();
    const connecting = this.#connecting.promise;
    this.#transition(TransportState.Connecting);
    this.#attach(socket);

    if (socket.readyState === OPEN) {
      this.#transition(TransportState.Connected);
    } else {
      const seconds = this.#options.connectionTimeout;
      this.#connectTimer = setTimeout(() => {
        if (this.#socket !== socket || this.#state !== TransportState.Connecting) return;
        const timedOut = new Error(`Opening the WebSocket to ${this.server} timed out after ${seconds} s`);
        this.#logger.warn(timedOut.message);
        this.#dropSocket();
        this.#transition(TransportState.Disconnected, timedOut);
      }, seconds * 1000);
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
    if (socket === undefined || socket.readyState > OPEN) {
      this.#socket = undefined;
      this.#transition(TransportState.Disconnected);
    } else {
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
    try {
      this.#socket.send(message);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('WebSocket send failed.'));
    }
    return Promise.resolve();
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
    this.onMessage?.(text);
  }

  /** Detaches the current socket and closes it without waiting for its close event. */
  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined && socket.readyState <= OPEN) socket.close(1000);
  }

  #transition(next: TransportState, error?: Error): void {
    const previous = this.#state;
    this.#state = next;
    if (this.#connectTimer !== undefined && next !== TransportState.Connecting) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    }
    const connecting = previous === TransportState.Connecting ? this.#connecting : undefined;
    if (connecting) this.#connecting = undefined;
    const disconnecting = previous === TransportState.Disconnecting ? this.#disconnecting : undefined;
    if (disconnecting) this.#disconnecting = undefined;

    this.#logger.log(`Transport ${previous} → ${next}`);
    this.#stateChange.emit(next);

    if (next === TransportState.Connected) {
      this.#options.rememberServer?.(this.server);
      this.onConnect?.();
    }
    if (previous === TransportState.Connected) this.onDisconnect?.(error);
    if (connecting) {
      if (next === TransportState.Connected) connecting.resolve();
      else connecting.reject(error ?? new Error('Connect aborted.'));
    }
    if (disconnecting) {
      if (next === TransportState.Disconnected) disconnecting.resolve();
      else disconnecting.reject(error ?? new Error('Disconnect aborted.'));
    }
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
