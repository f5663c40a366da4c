// Edge cases of SipWebSocketTransport: re-entrant calls, late events, silent
// servers and early sockets that are no longer usable. Every server here
// listens on 127.0.0.1.
import { Registerer, TransportState, UserAgent } from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { type WebSocket as ServerSocket } from 'ws';

import { claimEarlySipSocket } from '../../src/renderer/sip/early-sip-socket';
import { SipWebSocketTransport, type SipWebSocketTransportOptions } from '../../src/renderer/sip/websocket-transport';
import {
  openEarlySocketTo,
  SAMPLE_REGISTER,
  sleep,
  startRelay,
  useLoopbackTls,
  waitUntil,
  type TlsWebSocketServer,
} from './tls-websocket-server';

const REGISTER = SAMPLE_REGISTER;
const { startServer, transportTo, webSocketClass } = useLoopbackTls();

/** Resolves with 'settled' or 'pending' once `promise` settles or `ms` pass. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    sleep(ms).then(() => 'pending' as const),
  ]);
}

describe('SipWebSocketTransport edge cases', () => {
  let server: TlsWebSocketServer;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    for (const connection of server.connections) connection.terminate();
    server.connections.length = 0;
    server.received.length = 0;
  });

  it('disconnect from Connecting listener closes socket', async () => {
    const subject = transportTo(server.url, { connectionTimeout: 0.3 });
    cleanups.push(() => subject.transport.dispose());
    let disconnecting: Promise<void> | undefined;
    subject.transport.stateChange.addListener((state) => {
      if (state === TransportState.Connecting && disconnecting === undefined) disconnecting = subject.transport.disconnect();
    });

    await expect(subject.transport.connect()).rejects.toThrow('Connect aborted.');
    await disconnecting;
    expect(subject.transport.state).toBe(TransportState.Disconnected);
    expect(subject.states).toEqual([TransportState.Connecting, TransportState.Disconnecting, TransportState.Disconnected]);

    // Past the connection timeout, the socket is not open at the server.
    await sleep(600);
    expect(server.openConnections()).toBe(0);
  });

  it('connect during Disconnecting replaces socket', async () => {
    const subject = transportTo(server.url);
    cleanups.push(() => subject.transport.dispose());
    await subject.transport.connect();

    const disconnecting = subject.transport.disconnect();
    const connecting = subject.transport.connect();
    await expect(disconnecting).rejects.toThrow('Disconnect aborted.');
    await connecting;
    expect(subject.transport.state).toBe(TransportState.Connected);
    expect(subject.disconnects).toEqual([undefined]);

    await waitUntil(() => server.connections.length === 2 && server.openConnections() === 1, 'one open connection at the server');
    await subject.transport.send(REGISTER);
    await waitUntil(() => server.received.length === 1, 'the REGISTER');
    expect(server.connections[1]!.readyState).toBe(WebSocket.OPEN);
  });

  it('late close after timeout is ignored', async () => {
    const relay = await startRelay(server.port);
    cleanups.push(() => relay.close());
    relay.hold = 1; // the first handshake never reaches the server
    const subject = transportTo(relay.url, { connectionTimeout: 0.3 });
    cleanups.push(() => subject.transport.dispose());

    let again: Promise<void> | undefined;
    subject.transport.stateChange.addListener((state) => {
      if (state === TransportState.Disconnected && again === undefined) again = subject.transport.connect();
    });

    await expect(subject.transport.connect()).rejects.toThrow('timed out after 0.3 s');
    await again;
    await sleep(100); // the first socket's close event has come and gone
    expect(subject.transport.state).toBe(TransportState.Connected);
    expect(subject.disconnects).toEqual([]);
    await subject.transport.send(REGISTER);
    await waitUntil(() => server.received.length === 1, 'the REGISTER over the second socket');
  });

  it('disconnect from silent server is bounded', async () => {
    // After sleep or a network change, RegistrationController.reconnect() awaits
    // transport.disconnect() before opening a new socket. The close waits for the
    // server's close frame, which a silent server never sends.
    const relay = await startRelay(server.port);
    const subject = transportTo(relay.url, { connectionTimeout: 2 });
    cleanups.push(() => subject.transport.dispose());
    cleanups.push(() => relay.close()); // runs first, so the pending close ends
    await subject.transport.connect();
    relay.links[0]!.silence();

    const started = Date.now();
    const outcome = await settlesWithin(subject.transport.disconnect(), 4_000);
    expect(outcome).toBe('settled');
    expect(subject.transport.state).toBe(TransportState.Disconnected);
    expect(Date.now() - started).toBeLessThan(4_000);
  }, 15_000);

  it('early socket closed before claim is skipped', async () => {
    const holder = openEarlySocketTo(server.url, webSocketClass());
    await waitUntil(() => server.connections.length === 1, 'the early connection');
    server.connections[0]!.close(1001);
    await sleep(100);

    const subject = transportTo(server.url, { earlySocketHolder: holder });
    cleanups.push(() => subject.transport.dispose());
    await subject.transport.connect();
    expect(server.connections).toHaveLength(2);
    await subject.transport.send(REGISTER);
    await waitUntil(() => server.received.length === 1, 'the REGISTER over the new socket');
    expect(claimEarlySipSocket(server.url, holder)).toBeUndefined();
  });

  it('disconnect closes opening early socket', async () => {
    const relay = await startRelay(server.port);
    cleanups.push(() => relay.close());
    relay.hold = 1;
    const holder = openEarlySocketTo(relay.url, webSocketClass());
    await waitUntil(() => relay.links.length === 1, 'the early TCP connection, held');

    const subject = transportTo(relay.url, { earlySocketHolder: holder });
    cleanups.push(() => subject.transport.dispose());
    const connecting = subject.transport.connect();
    expect(relay.links).toHaveLength(1); // the early socket was claimed
    await subject.transport.disconnect();
    await expect(connecting).rejects.toThrow('Connect aborted.');
    await waitUntil(() => relay.links[0]!.closed, 'the held connection to close');
    expect(subject.transport.state).toBe(TransportState.Disconnected);
  });

  it('closes opening early socket to another server', async () => {
    const relay = await startRelay(server.port);
    cleanups.push(() => relay.close());
    relay.hold = 1;
    const holder = openEarlySocketTo(relay.url, webSocketClass());
    await waitUntil(() => relay.links.length === 1, 'the early TCP connection, held');

    // Closing a socket that is still opening fires `error`, which must not go unhandled.
    const subject = transportTo(server.url, { earlySocketHolder: holder });
    cleanups.push(() => subject.transport.dispose());
    await subject.transport.connect();
    await waitUntil(() => relay.links[0]!.closed, 'the held connection to close');
    expect(server.connections).toHaveLength(1);
  });

  it('open early socket to silent server connects', async () => {
    // An open early socket is used without a round trip, so a dead server shows
    // only when sip.js times out the first REGISTER (Timer F, 32 s by default).
    const relay = await startRelay(server.port);
    cleanups.push(() => relay.close());
    const holder = openEarlySocketTo(relay.url, webSocketClass());
    await waitUntil(() => server.connections.length === 1, 'the early connection');
    await sleep(50);
    relay.links[0]!.silence();

    const subject = transportTo(relay.url, { earlySocketHolder: holder });
    cleanups.push(async () => {
      relay.links[0]!.client.destroy();
      await subject.transport.dispose();
    });
    const connecting = subject.transport.connect();
    expect(subject.transport.state).toBe(TransportState.Connected); // synchronously, inside connect()
    await connecting;
    await subject.transport.send(REGISTER);
    await sleep(200);
    expect(server.received).toEqual([]);
    expect(subject.transport.isConnected()).toBe(true);
  });
});

describe('SipWebSocketTransport under a sip.js UserAgent', () => {
  let server: TlsWebSocketServer;

  beforeAll(async () => {
    server = await startServer();
    // Replies 200 OK to each REGISTER, with the headers that the client matches the response by.
    server.connections.push = function (this: ServerSocket[], ...sockets: ServerSocket[]) {
      for (const socket of sockets) {
        socket.on('message', (data) => {
          const request = String(data);
          if (!request.startsWith('REGISTER ')) return;
          const header = (name: string) => request.split('\r\n').filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
          socket.send(
            [
              'SIP/2.0 200 OK',
              ...header('Via'),
              ...header('From'),
              `${header('To')[0]};tag=server1`,
              ...header('Call-ID'),
              ...header('CSeq'),
              `${header('Contact')[0]};expires=600`,
              'Content-Length: 0',
              '',
              '',
            ].join('\r\n'),
          );
        });
      }
      return Array.prototype.push.apply(this, sockets);
    };
  });
  afterAll(async () => {
    await server.close();
  });

  it('SIP messages reach sip.js log', async () => {
    const lines: string[] = [];
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI('sip:1001@sip.example.invalid'),
      transportConstructor: SipWebSocketTransport,
      transportOptions: { server: server.url, connectionTimeout: 5, WebSocketImpl: webSocketClass(), earlySocketHolder: {} } satisfies SipWebSocketTransportOptions,
      logBuiltinEnabled: false,
      logLevel: 'debug',
      logConnector: (_level, category, _label, content) => lines.push(`${category} ${content}`),
    });
    try {
      await userAgent.start();
      const registerer = new Registerer(userAgent, { expires: 600 });
      const registered = new Promise<void>((resolve) => registerer.stateChange.addListener((state) => state === 'Registered' && resolve()));
      await registerer.register();
      await registered;

      // The SIP trace switch writes these log lines to sip-trace.log.
      const logged = lines.join('\n');
      expect(logged).toContain('REGISTER sip:sip.example.invalid SIP/2.0'); // the request as sent
      expect(logged).toContain('SIP/2.0 200 OK'); // the response as received
    } finally {
      await userAgent.stop().catch(() => undefined);
    }
  });

  it('UserAgent stop unregisters and closes', async () => {
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI('sip:1002@sip.example.invalid'),
      transportConstructor: SipWebSocketTransport,
      transportOptions: { server: server.url, connectionTimeout: 5, WebSocketImpl: webSocketClass(), earlySocketHolder: {} } satisfies SipWebSocketTransportOptions,
      logBuiltinEnabled: false,
    });
    await userAgent.start();
    const registerer = new Registerer(userAgent, { expires: 600 });
    const registered = new Promise<void>((resolve) => registerer.stateChange.addListener((state) => state === 'Registered' && resolve()));
    await registerer.register();
    await registered;
    const connection = server.connections.at(-1)!;
    server.received.length = 0;

    await userAgent.stop();

    expect(server.received.some((request) => request.startsWith('REGISTER ') && /expires=0|Expires: 0/i.test(request))).toBe(true);
    expect(userAgent.transport.state).toBe(TransportState.Disconnected);
    await waitUntil(() => connection.readyState === WebSocket.CLOSED, 'the server to see the close');
  });
});
