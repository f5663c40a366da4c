import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

import { TransportState } from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import {
  claimEarlySipSocket,
  forgetSipServer,
  LAST_SIP_SERVER_KEY,
  openEarlySipSocket,
  rememberSipServer,
} from '../../src/renderer/sip/early-sip-socket';
import type { SipWebSocketTransport, SipWebSocketTransportOptions } from '../../src/renderer/sip/websocket-transport';
import {
  memoryStorage,
  SAMPLE_REGISTER,
  useLoopbackTls,
  waitUntil,
  type TlsWebSocketServer,
} from './tls-websocket-server';

const REGISTER = SAMPLE_REGISTER;
const { startServer, transportTo, webSocketClass } = useLoopbackTls();

describe('SipWebSocketTransport', () => {
  let server: TlsWebSocketServer;
  const transports: SipWebSocketTransport[] = [];

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.dispose()));
    server.connections.length = 0;
    server.protocols.length = 0;
    server.received.length = 0;
  });

  function track<T extends { transport: SipWebSocketTransport }>(subject: T): T {
    transports.push(subject.transport);
    return subject;
  }

  it('carries SIP both ways over the sip subprotocol', async () => {
    const remembered: string[] = [];
    const subject = track(transportTo(server.url, { rememberServer: (url) => remembered.push(url) }));
    expect(subject.transport.protocol).toBe('WSS');

    await subject.transport.connect();
    expect(subject.transport.isConnected()).toBe(true);
    expect(subject.states).toEqual([TransportState.Connecting, TransportState.Connected]);
    expect(subject.connects()).toBe(1);
    expect(server.protocols).toEqual(['sip']);
    expect(remembered).toEqual([server.url]);

    await subject.transport.send(REGISTER);
    await waitUntil(() => server.received.length === 1, 'the REGISTER at the server');
    expect(server.received).toEqual([REGISTER]);

    const response = 'SIP/2.0 401 Unauthorized\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n';
    server.connections[0]!.send(response);
    // A keep-alive pong is not a SIP message.
    server.connections[0]!.send('\r\n');
    server.connections[0]!.send(Buffer.from(response.replace('401 Unauthorized', '200 OK')), { binary: true });
    await waitUntil(() => subject.messages.length === 2, 'two SIP messages');
    expect(subject.messages).toEqual([response, response.replace('401 Unauthorized', '200 OK')]);
  });

  it('drops a binary frame that is not UTF-8', async () => {
    const subject = track(transportTo(server.url));
    await subject.transport.connect();
    server.connections[0]!.send(Buffer.from([0xc3, 0x28]), { binary: true });
    server.connections[0]!.send('OPTIONS sip:a@b SIP/2.0\r\n\r\n');
    await waitUntil(() => subject.messages.length === 1, 'the text frame');
    expect(subject.messages).toEqual(['OPTIONS sip:a@b SIP/2.0\r\n\r\n']);
    expect(subject.transport.isConnected()).toBe(true);
  });

  it('reports a server close to onDisconnect', async () => {
    const subject = track(transportTo(server.url));
    await subject.transport.connect();
    server.connections[0]!.close(1001);
    await waitUntil(() => subject.disconnects.length === 1, 'onDisconnect');
    expect(subject.disconnects[0]?.message).toMatch(/WebSocket closed .* \(code: 1001\)/);
    expect(subject.transport.state).toBe(TransportState.Disconnected);
    await expect(subject.transport.send(REGISTER)).rejects.toThrow('Not connected.');
  });

  it('disconnects cleanly and connects again', async () => {
    const subject = track(transportTo(server.url));
    await subject.transport.connect();
    await subject.transport.disconnect();
    expect(subject.disconnects).toEqual([undefined]);
    expect(subject.states).toEqual([
      TransportState.Connecting,
      TransportState.Connected,
      TransportState.Disconnecting,
      TransportState.Disconnected,
    ]);

    await subject.transport.connect();
    expect(subject.transport.isConnected()).toBe(true);
    expect(server.connections).toHaveLength(2);
  });

  it('shares one pending connect between callers', async () => {
    const subject = track(transportTo(server.url));
    const first = subject.transport.connect();
    const second = subject.transport.connect();
    await Promise.all([first, second]);
    expect(server.connections).toHaveLength(1);
  });

  it('aborts connect on an early disconnect', async () => {
    const subject = track(transportTo(server.url));
    const connecting = subject.transport.connect();
    const disconnecting = subject.transport.disconnect();
    await expect(connecting).rejects.toThrow('Connect aborted.');
    await disconnecting;
    expect(subject.transport.state).toBe(TransportState.Disconnected);
    expect(subject.disconnects).toEqual([]);
  });
});

describe('SipWebSocketTransport against servers that fail', () => {
  it('rejects connect when nothing listens', async () => {
    const unused = createTcpServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const port = (unused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));

    const subject = transportTo(`wss://127.0.0.1:${port}`);
    await expect(subject.transport.connect()).rejects.toThrow(/WebSocket closed/);
    expect(subject.transport.state).toBe(TransportState.Disconnected);
    expect(subject.disconnects).toEqual([]);
  });

  it('times out a handshake that never completes', async () => {
    const sockets: Socket[] = [];
    const silent: TcpServer = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const subject = transportTo(`wss://127.0.0.1:${(silent.address() as AddressInfo).port}`, { connectionTimeout: 0.3 });
      await expect(subject.transport.connect()).rejects.toThrow('timed out after 0.3 s');
      expect(subject.states).toEqual([TransportState.Connecting, TransportState.Disconnected]);
      expect(subject.disconnects).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('rejects a non-WebSocket server URL', () => {
    expect(() => transportTo('https://127.0.0.1:1')).toThrow("is not a ws:// or wss:// URL");
    expect(() => transportTo('not a url')).toThrow("Invalid WebSocket server URL 'not a url'");
  });
});

describe('early SIP socket', () => {
  let server: TlsWebSocketServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => {
    server.connections.length = 0;
  });

  it('is taken over once open', async () => {
    const storage = memoryStorage();
    rememberSipServer(storage, server.url);
    const holder = {};
    openEarlySipSocket(storage, holder, webSocketClass());
    await waitUntil(() => server.connections.length === 1, 'the early connection');
    // The client side sees the open a little after the server does.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const subject = transportTo(server.url, { earlySocketHolder: holder });
    await subject.transport.connect();
    expect(subject.connects()).toBe(1);
    await subject.transport.send(REGISTER);
    await waitUntil(() => server.received.length === 1, 'the REGISTER');
    expect(server.connections).toHaveLength(1);
    expect(claimEarlySipSocket(server.url, holder)).toBeUndefined();
    await subject.transport.dispose();
    server.received.length = 0;
  });

  it('is taken over while it is still opening', async () => {
    const storage = memoryStorage();
    rememberSipServer(storage, server.url);
    const holder = {};
    openEarlySipSocket(storage, holder, webSocketClass());

    const subject = transportTo(server.url, { earlySocketHolder: holder });
    await subject.transport.connect();
    expect(subject.states).toEqual([TransportState.Connecting, TransportState.Connected]);
    expect(server.connections).toHaveLength(1);
    await subject.transport.dispose();
  });

  it('is closed when the profile names another server', async () => {
    const other = await startServer();
    try {
      const storage = memoryStorage();
      rememberSipServer(storage, other.url);
      const holder = {};
      openEarlySipSocket(storage, holder, webSocketClass());
      await waitUntil(() => other.connections.length === 1, 'the early connection to the old server');

      const subject = transportTo(server.url, { earlySocketHolder: holder });
      await subject.transport.connect();
      expect(server.connections).toHaveLength(1);
      await waitUntil(() => other.connections[0]!.readyState === WebSocket.CLOSED, 'the old server to see the close');
      await subject.transport.dispose();
    } finally {
      await other.close();
    }
  });

  it('opens nothing without a remembered wss:// server', () => {
    const storage = memoryStorage();
    const holder = {};
    openEarlySipSocket(storage, holder, webSocketClass());
    expect(claimEarlySipSocket(server.url, holder)).toBeUndefined();

    storage.setItem(LAST_SIP_SERVER_KEY, 'ws://127.0.0.1:1');
    openEarlySipSocket(storage, holder, webSocketClass());
    expect(claimEarlySipSocket('ws://127.0.0.1:1', holder)).toBeUndefined();

    rememberSipServer(storage, server.url);
    forgetSipServer(storage);
    expect(storage.getItem(LAST_SIP_SERVER_KEY)).toBeNull();
  });

  it('survives a storage that throws', () => {
    const broken = memoryStorage();
    broken.getItem = () => {
      throw new Error('storage disabled');
    };
    broken.setItem = broken.getItem;
    const holder = {};
    expect(() => openEarlySipSocket(broken, holder, webSocketClass())).not.toThrow();
    expect(() => rememberSipServer(broken, server.url)).not.toThrow();
    expect(claimEarlySipSocket(server.url, holder)).toBeUndefined();
  });
});
