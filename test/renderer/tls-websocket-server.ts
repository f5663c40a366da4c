/**
 * Loopback servers for the SIP WebSocket transport's tests: a WebSocket server
 * over TLS that speaks the `sip` subprotocol, and a TCP relay in front of it
 * that can hold or silence connections. Everything listens on 127.0.0.1.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { connect as connectTcp, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TransportState, type Core } from 'sip.js';
import { afterAll, beforeAll } from 'vitest';
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from 'ws';

import { openEarlySipSocket, rememberSipServer } from '../../src/renderer/sip/early-sip-socket';
import { SipWebSocketTransport, type SipWebSocketTransportOptions } from '../../src/renderer/sip/websocket-transport';
import { createCertificate } from '../bench/kamailio';

type WebSocketClass = NonNullable<SipWebSocketTransportOptions['WebSocketImpl']>;

/** A minimal REGISTER, as the transport carries it: an opaque SIP message. */
export const SAMPLE_REGISTER = 'REGISTER sip:sip.example.invalid SIP/2.0\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n';

const silentLogger = { error() {}, warn() {}, log() {}, debug() {} } as unknown as Core.Logger;

/**
 * Creates a transport to `url` that records its states, messages, disconnects
 * and connects. It looks for an early socket only in `extra.earlySocketHolder`.
 */
export function recordingTransport(url: string, WebSocketImpl: WebSocketClass, extra: Partial<SipWebSocketTransportOptions> = {}) {
  const transport = new SipWebSocketTransport(silentLogger, {
    server: url,
    connectionTimeout: 5,
    WebSocketImpl,
    earlySocketHolder: {},
    ...extra,
  });
  const states: TransportState[] = [];
  const messages: string[] = [];
  const disconnects: Array<Error | undefined> = [];
  let connects = 0;
  transport.stateChange.addListener((state) => states.push(state));
  transport.onMessage = (message) => messages.push(message);
  transport.onDisconnect = (error) => disconnects.push(error);
  transport.onConnect = () => (connects += 1);
  return { transport, states, messages, disconnects, connects: () => connects };
}

/** Opens an early socket to `url`, as the page's head script does after a start that reached `url`; returns its holder. */
export function openEarlySocketTo(url: string, WebSocketImpl: WebSocketClass): object {
  const storage = memoryStorage();
  rememberSipServer(storage, url);
  const holder = {};
  openEarlySipSocket(storage, holder, WebSocketImpl);
  return holder;
}

export interface LoopbackCertificate {
  certificate: Buffer;
  key: Buffer;
  remove(): Promise<void>;
}

/** Creates a self-signed certificate for 127.0.0.1 in a temporary folder. */
export async function createLoopbackCertificate(): Promise<LoopbackCertificate> {
  const folder = await mkdtemp(join(tmpdir(), 'ws-transport-'));
  await createCertificate(folder);
  return {
    certificate: await readFile(join(folder, 'cert.pem')),
    key: await readFile(join(folder, 'key.pem')),
    remove: () => rm(folder, { recursive: true, force: true }),
  };
}

/**
 * Registers hooks that create a loopback certificate before the calling file's
 * tests and remove it after them. Returns the server, transport and WebSocket
 * class factories that use it.
 */
export function useLoopbackTls() {
  let tls: LoopbackCertificate | undefined;
  let webSocketClass: WebSocketClass | undefined;

  beforeAll(async () => {
    tls = await createLoopbackCertificate();
    webSocketClass = trustingWebSocket(tls.certificate);
  });
  afterAll(async () => {
    await tls?.remove();
  });

  const created = () => {
    if (tls === undefined || webSocketClass === undefined) throw new Error('The loopback certificate is created in beforeAll');
    return { tls, webSocketClass };
  };
  return {
    startServer: () => startTlsWebSocketServer(created().tls),
    webSocketClass: () => created().webSocketClass,
    transportTo: (url: string, extra: Partial<SipWebSocketTransportOptions> = {}) =>
      recordingTransport(url, created().webSocketClass, extra),
  };
}

/** Returns a `ws` client class that trusts `certificate`, with the browser WebSocket's constructor shape. */
export function trustingWebSocket(certificate: Buffer): WebSocketClass {
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols: string) {
      super(url, protocols, { ca: certificate });
    }
  }
  return TrustingWebSocket as unknown as WebSocketClass;
}

export interface TlsWebSocketServer {
  url: string;
  port: number;
  connections: ServerSocket[];
  /** Subprotocol of each connection, in order. */
  protocols: string[];
  received: string[];
  /** Returns how many connections are open at the server. */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startTlsWebSocketServer(tls: LoopbackCertificate): Promise<TlsWebSocketServer> {
  const https = createHttpsServer({ cert: tls.certificate, key: tls.key });
  const wss = new WebSocketServer({ server: https, handleProtocols: (offered) => (offered.has('sip') ? 'sip' : false) });
  const server: TlsWebSocketServer = {
    url: '',
    port: 0,
    connections: [],
    protocols: [],
    received: [],
    openConnections: () => server.connections.filter((connection) => connection.readyState === WebSocket.OPEN).length,
    async close() {
      for (const connection of server.connections) connection.terminate();
      wss.close();
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
  wss.on('connection', (socket) => {
    server.connections.push(socket);
    server.protocols.push(socket.protocol);
    socket.on('message', (data) => server.received.push(String(data)));
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  server.port = (https.address() as AddressInfo).port;
  server.url = `wss://127.0.0.1:${server.port}`;
  return server;
}

/**
 * A TCP relay on 127.0.0.1 in front of a server. Setting `hold` keeps that many
 * next connections from reaching the server. A link's `silence()` stops it from
 * carrying bytes while both ends stay open, which is how a dead server or a
 * lost network path looks to the client.
 */
export interface Relay {
  url: string;
  links: RelayLink[];
  hold: number;
  close(): Promise<void>;
}

export interface RelayLink {
  client: Socket;
  /** Whether the client's side of the TCP connection has ended. */
  closed: boolean;
  silence(): void;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    const link: RelayLink = { client, closed: false, silence: () => undefined };
    relay.links.push(link);
    client.on('end', () => (link.closed = true));
    client.on('close', () => (link.closed = true));
    if (relay.hold > 0) {
      relay.hold -= 1;
      // Reads and drops the handshake, and sends nothing back.
      client.on('data', () => undefined);
      return;
    }

    const upstream = connectTcp(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('error', () => undefined);
    let silent = false;
    client.on('data', (chunk) => void (silent || upstream.write(chunk)));
    upstream.on('data', (chunk) => void (silent || client.write(chunk)));
    client.on('close', () => void (silent || upstream.destroy()));
    upstream.on('close', () => void (silent || client.destroy()));
    link.silence = () => {
      silent = true;
    };
  });
  const relay: Relay = {
    url: '',
    links: [],
    hold: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  relay.url = `wss://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  return relay;
}

/** Returns an in-memory `Storage`, as the page's `localStorage` behaves. */
export function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (name) => items.get(name) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (name) => void items.delete(name),
    setItem: (name, value) => void items.set(name, String(value)),
  };
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Polls `condition` every 5 ms; throws naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}
