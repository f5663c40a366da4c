import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { startKamailio, type BenchSipUser, type KamailioServer } from './kamailio';

const DOMAIN = 'sip.bench.test';
// The password contains the db_text separator and escape characters.
const ALICE: BenchSipUser = { authorizationId: '802500000101', password: 'alice:pass\\word', username: '15550000101' };
const BOB: BenchSipUser = { authorizationId: '802500000102', password: 'bob-secret', username: '15550000102' };
const USERS = [ALICE, BOB];
const MESSAGE_TIMEOUT_MS = 3_000;

/** A SIP request or response as received over the WebSocket. */
interface SipMessage {
  raw: string;
  method?: string;
  requestUri?: string;
  status?: number;
  headers: Array<[name: string, value: string]>;
  body: string;
}

const COMPACT_HEADER_NAMES: Record<string, string> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported',
};

function parseSipMessage(raw: string): SipMessage {
  const headerEnd = raw.indexOf('\r\n\r\n');
  const head = headerEnd === -1 ? raw : raw.slice(0, headerEnd);
  const body = headerEnd === -1 ? '' : raw.slice(headerEnd + 4);
  const [startLine = '', ...headerLines] = head.split('\r\n');

  const headers: Array<[string, string]> = [];
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.push([COMPACT_HEADER_NAMES[name] ?? name, line.slice(colon + 1).trim()]);
  }

  const statusMatch = /^SIP\/2\.0 (\d{3}) /.exec(startLine);
  if (statusMatch) {
    return { raw, status: Number(statusMatch[1]), headers, body };
  }
  const [method, requestUri] = startLine.split(' ');
  return { raw, method, requestUri, headers, body };
}

function headerValues(message: SipMessage, name: string): string[] {
  return message.headers.filter(([headerName]) => headerName === name.toLowerCase()).map(([, value]) => value);
}

function header(message: SipMessage, name: string): string | undefined {
  return headerValues(message, name)[0];
}

function randomToken(): string {
  return randomBytes(6).toString('hex');
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** Builds a Digest response (RFC 2617 section 3.2.2, MD5, qop=auth when offered) to a challenge. */
function digestCredentials(challenge: string, user: BenchSipUser, method: string, uri: string, password = user.password): string {
  const params = new Map<string, string>();
  for (const match of challenge.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) {
    params.set(match[1]!.toLowerCase(), match[2] ?? match[3]!);
  }
  const realm = params.get('realm')!;
  const nonce = params.get('nonce')!;
  const ha1 = md5(`${user.authorizationId}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);

  const fields = [
    `username="${user.authorizationId}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`, 'algorithm=MD5',
  ];
  const qop = params.get('qop')?.split(',').map((value) => value.trim());
  if (qop?.includes('auth')) {
    const cnonce = randomToken();
    const nonceCount = '00000001';
    fields.push(`response="${md5(`${ha1}:${nonce}:${nonceCount}:${cnonce}:auth:${ha2}`)}"`);
    fields.push(`qop=auth`, `nc=${nonceCount}`, `cnonce="${cnonce}"`);
  } else {
    fields.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
  }
  if (params.has('opaque')) {
    fields.push(`opaque="${params.get('opaque')}"`);
  }
  return `Digest ${fields.join(', ')}`;
}

interface Waiter {
  match: (message: SipMessage) => boolean;
  resolve: (message: SipMessage) => void;
}

/** A raw SIP-over-WebSocket client (RFC 7118) with a queue of received messages. */
/** What identifies a SIP client apart from its connection: a client that reconnects keeps all three. */
interface ClientIdentity {
  viaHost: string;
  contactUser: string;
  /** The +sip.instance of RFC 5626, by which the registrar matches this client's contacts. */
  instanceId: string;
}

class SipWsClient {
  readonly transport: 'WS' | 'WSS';
  readonly viaHost: string;
  readonly contactUser: string;
  readonly instanceId: string;
  /** Users whose AOR this client has registered, unregistered again after each test. */
  readonly registeredUsers = new Set<BenchSipUser>();
  private readonly unclaimed: SipMessage[] = [];
  private readonly waiters: Waiter[] = [];

  private constructor(private readonly socket: WebSocket, url: string, identity: ClientIdentity) {
    this.transport = url.startsWith('wss:') ? 'WSS' : 'WS';
    this.viaHost = identity.viaHost;
    this.contactUser = identity.contactUser;
    this.instanceId = identity.instanceId;
    socket.on('message', (data) => this.receive(parseSipMessage(data.toString())));
  }

  /** Opens a WebSocket. With `identity`, a client that lost its connection connects again as itself. */
  static connect(url: string, identity?: ClientIdentity): Promise<SipWsClient> {
    const clientIdentity = identity ?? {
      viaHost: `${randomToken()}.invalid`,
      contactUser: randomToken(),
      instanceId: randomUUID(),
    };
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'sip', { rejectUnauthorized: false });
      socket.once('open', () => resolve(new SipWsClient(socket, url, clientIdentity)));
      socket.once('error', reject);
    });
  }

  get contactUri(): string {
    return `sip:${this.contactUser}@${this.viaHost};transport=${this.transport.toLowerCase()}`;
  }

  /** Returns the received messages that no next() call has taken. */
  unclaimedMessages(): SipMessage[] {
    return [...this.unclaimed];
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** Resolves with the first received message that matches, including ones that arrived before the call. */
  next(match: (message: SipMessage) => boolean, description: string): Promise<SipMessage> {
    const index = this.unclaimed.findIndex(match);
    if (index !== -1) {
      return Promise.resolve(this.unclaimed.splice(index, 1)[0]!);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`Timed out after ${MESSAGE_TIMEOUT_MS} ms waiting for ${description}`));
      }, MESSAGE_TIMEOUT_MS);
      this.waiters.push(waiter);
    });
  }

  /** Resolves with the final response to a request sent with this Call-ID and CSeq. */
  finalResponse(callId: string, cseq: string): Promise<SipMessage> {
    return this.next(
      (message) =>
        message.status !== undefined &&
        message.status >= 200 &&
        header(message, 'call-id') === callId &&
        header(message, 'cseq') === cseq,
      `final response to ${cseq} (Call-ID ${callId})`,
    );
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }

  private receive(message: SipMessage): void {
    const index = this.waiters.findIndex((waiter) => waiter.match(message));
    if (index === -1) {
      this.unclaimed.push(message);
      return;
    }
    const [waiter] = this.waiters.splice(index, 1);
    waiter!.resolve(message);
  }
}

interface RequestSpec {
  method: string;
  requestUri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  fromTag: string;
  toTag?: string;
  branch?: string;
  extraHeaders?: string[];
  body?: string;
}

function buildRequest(client: SipWsClient, spec: RequestSpec): string {
  const lines = [
    `${spec.method} ${spec.requestUri} SIP/2.0`,
    `Via: SIP/2.0/${client.transport} ${client.viaHost};branch=${spec.branch ?? `z9hG4bK${randomToken()}`}`,
    'Max-Forwards: 70',
    `From: <${spec.from}>;tag=${spec.fromTag}`,
    `To: <${spec.to}>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq} ${spec.method}`,
    ...(spec.extraHeaders ?? []),
    `Content-Length: ${Buffer.byteLength(spec.body ?? '')}`,
    '',
    spec.body ?? '',
  ];
  return lines.join('\r\n');
}

/**
 * Builds a response to a received request, copying the headers RFC 3261 section
 * 8.2.6.2 requires. The To tag is added unless the request has one already.
 */
function buildResponse(request: SipMessage, status: number, reason: string, toTag: string, extraHeaders: string[] = []): string {
  const copied = request.headers
    .filter(([name]) => ['via', 'record-route', 'from', 'call-id', 'cseq'].includes(name))
    .map(([name, value]) => `${name}: ${value}`);
  const to = header(request, 'to') ?? '';
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...copied,
    /;tag=/.test(to) ? `To: ${to}` : `To: ${to};tag=${toTag}`,
    ...extraHeaders,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Returns the Record-Route entries of a message in order, one entry per element. */
function recordRoutes(message: SipMessage): string[] {
  return headerValues(message, 'record-route')
    .flatMap((value) => value.split(/,(?=\s*<)/))
    .map((route) => route.trim());
}

function contactUriOf(message: SipMessage): string | undefined {
  return /<([^>]+)>/.exec(header(message, 'contact') ?? '')?.[1];
}

/** Removes the `alias` URI parameter that Kamailio's add_contact_alias() inserts. */
function withoutAlias(uri: string | undefined): string | undefined {
  return uri?.replace(/;alias=[^;>]*/, '');
}

function aorOf(user: BenchSipUser): string {
  return `sip:${user.username}@${DOMAIN}`;
}

interface RegisterResult {
  challenge: SipMessage;
  response: SipMessage;
}

/**
 * Sends REGISTER without credentials, then again with a digest response to the
 * 401 challenge, and returns both replies. `toUser` overrides the AOR being registered.
 */
async function register(
  client: SipWsClient,
  user: BenchSipUser,
  options: { expires: number; password?: string; toUser?: BenchSipUser },
): Promise<RegisterResult> {
  const aor = aorOf(options.toUser ?? user);
  const requestUri = `sip:${DOMAIN}`;
  const spec = {
    method: 'REGISTER',
    requestUri,
    from: aor,
    to: aor,
    callId: randomToken(),
    fromTag: randomToken(),
    extraHeaders: [
      `Contact: <${client.contactUri}>;reg-id=1;+sip.instance="<urn:uuid:${client.instanceId}>";expires=${options.expires}`,
      `Expires: ${options.expires}`,
      'Supported: path, gruu, outbound',
    ],
  };

  client.send(buildRequest(client, { ...spec, cseq: 1 }));
  const challenge = await client.finalResponse(spec.callId, '1 REGISTER');
  const wwwAuthenticate = header(challenge, 'www-authenticate');
  if (challenge.status !== 401 || !wwwAuthenticate) {
    return { challenge, response: challenge };
  }

  const credentials = digestCredentials(wwwAuthenticate, user, 'REGISTER', requestUri, options.password);
  client.send(
    buildRequest(client, { ...spec, cseq: 2, extraHeaders: [...spec.extraHeaders, `Authorization: ${credentials}`] }),
  );
  const response = await client.finalResponse(spec.callId, '2 REGISTER');
  if (response.status === 200 && !options.toUser) {
    if (options.expires > 0) {
      client.registeredUsers.add(user);
    } else {
      client.registeredUsers.delete(user);
    }
  }
  return { challenge, response };
}

/** Registers `user` for 300 s, fails the test unless the reply is 200 OK, and returns the 200 OK. */
async function registerOrFail(client: SipWsClient, user: BenchSipUser, server: KamailioServer): Promise<SipMessage> {
  const { response } = await register(client, user, { expires: 300 });
  expect(response.status, `REGISTER of ${user.username}:\n${response.raw}\n${server.log().slice(-3000)}`).toBe(200);
  return response;
}

/** Returns the public GRUU (RFC 5627) that the registrar assigned in a REGISTER 200 OK. */
function publicGruuOf(registerResponse: SipMessage): string {
  const gruu = /pub-gruu="([^"]+)"/.exec(header(registerResponse, 'contact') ?? '')?.[1];
  expect(gruu, registerResponse.raw).toBeDefined();
  return gruu!;
}

const openClients: SipWsClient[] = [];

async function connectClient(url: string, identity?: ClientIdentity): Promise<SipWsClient> {
  const client = await SipWsClient.connect(url, identity);
  openClients.push(client);
  return client;
}

/**
 * Unregisters and closes every client of the current test. Kamailio drops the
 * contact of a closed connection a few milliseconds after the close, so
 * unregistering first keeps it out of the next test's lookups.
 */
async function closeClients(): Promise<void> {
  for (const client of openClients.splice(0)) {
    for (const user of client.isOpen ? client.registeredUsers : []) {
      await register(client, user, { expires: 0 });
    }
    await client.close();
  }
}

describe('bench Kamailio', () => {
  let server: KamailioServer;

  beforeAll(async () => {
    server = await startKamailio({ domain: DOMAIN, users: USERS });
  });

  afterEach(closeClients);

  afterAll(async () => {
    await server?.stop();
  });

  it('registers with digest and unregisters', async () => {
    const client = await connectClient(server.wsUrl);

    const { challenge, response } = await register(client, ALICE, { expires: 300 });

    expect(challenge.status).toBe(401);
    const wwwAuthenticate = header(challenge, 'www-authenticate') ?? '';
    expect(wwwAuthenticate).toMatch(/^Digest /);
    expect(wwwAuthenticate).toContain(`realm="${DOMAIN}"`);
    expect(wwwAuthenticate).toMatch(/qop="auth"/);
    expect(response.status, `${response.raw}\n${server.log().slice(-3000)}`).toBe(200);
    const contact = header(response, 'contact') ?? '';
    expect(contact).toContain(`<${client.contactUri}>`);
    expect(contact).toMatch(/expires=300\b/);
    expect(await server.contacts(aorOf(ALICE))).toEqual([client.contactUri]);

    const unregister = await register(client, ALICE, { expires: 0 });

    expect(unregister.response.status).toBe(200);
    expect(await server.contacts(aorOf(ALICE))).toEqual([]);
  });

  it('rejects a wrong password every time', async () => {
    const client = await connectClient(server.wsUrl);

    for (let attempt = 1; attempt <= 3; attempt++) {
      const { challenge, response } = await register(client, BOB, { expires: 300, password: 'not-the-password' });

      expect(challenge.status).toBe(401);
      expect([401, 403], `attempt ${attempt}:\n${response.raw}`).toContain(response.status);
    }
    expect(await server.contacts(aorOf(BOB))).toEqual([]);
  });

  it("forbids registering another user's AOR", async () => {
    const client = await connectClient(server.wsUrl);

    const { response } = await register(client, ALICE, { expires: 300, toUser: BOB });

    expect(response.status).toBe(403);
    expect(await server.contacts(aorOf(BOB))).toEqual([]);
  });

  it('rejects too short expiry with 423', async () => {
    const client = await connectClient(server.wsUrl);

    const { response } = await register(client, ALICE, { expires: 30 });

    expect(response.status, response.raw).toBe(423);
    expect(header(response, 'min-expires')).toBe('60');
    expect(await server.contacts(aorOf(ALICE))).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.unclaimedMessages().map((message) => message.raw)).toEqual([]);
  });

  it('registers over WSS', async () => {
    const client = await connectClient(server.wssUrl);

    const { challenge, response } = await register(client, BOB, { expires: 300 });

    expect(challenge.status).toBe(401);
    expect(header(challenge, 'www-authenticate')).toMatch(/^Digest /);
    expect(response.status, `${response.raw}\n${server.log().slice(-3000)}`).toBe(200);
    expect(await server.contacts(aorOf(BOB))).toEqual([client.contactUri]);
  });

  it('drops the contact of a closed connection', async () => {
    const client = await connectClient(server.wsUrl);
    await registerOrFail(client, BOB, server);
    expect(await server.contacts(aorOf(BOB))).toEqual([client.contactUri]);

    await client.close();

    const deadline = Date.now() + 5_000;
    let contacts = await server.contacts(aorOf(BOB));
    while (contacts.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      contacts = await server.contacts(aorOf(BOB));
    }
    expect(contacts).toEqual([]);
  });

  it('accepts an AOR as URI or user part only', async () => {
    const client = await connectClient(server.wsUrl);
    await registerOrFail(client, ALICE, server);

    expect(await server.contacts(ALICE.username)).toEqual([client.contactUri]);
    expect(await server.contacts(`${ALICE.username}@${DOMAIN}`)).toEqual([client.contactUri]);
    await expect(server.contacts(`sip:${ALICE.username}@example.com`)).rejects.toThrow(/outside the bench domain/);
  });

  it('runs two instances side by side', async () => {
    const backup = await startKamailio({ domain: DOMAIN, users: USERS });
    try {
      const ports = [server.wsUrl, server.wssUrl, backup.wsUrl, backup.wssUrl].map((url) => new URL(url).port);
      expect(new Set(ports).size).toBe(4);
      expect(backup.wssHostPort).toBe(`127.0.0.1:${new URL(backup.wssUrl).port}`);
      const primaryClient = await connectClient(server.wsUrl);
      const backupClient = await connectClient(backup.wssUrl);

      await registerOrFail(primaryClient, ALICE, server);
      await registerOrFail(backupClient, ALICE, backup);

      expect(await server.contacts(aorOf(ALICE))).toEqual([primaryClient.contactUri]);
      expect(await backup.contacts(aorOf(ALICE))).toEqual([backupClient.contactUri]);
    } finally {
      await closeClients();
      await backup.stop();
    }
  });

  it('starts again on the same ports after kill', async () => {
    const restarted = await startKamailio({ domain: DOMAIN, users: USERS });
    try {
      const before = await connectClient(restarted.wsUrl);
      await registerOrFail(before, ALICE, restarted);

      await restarted.kill();

      await expect(restarted.contacts(aorOf(ALICE))).rejects.toThrow(/JSON-RPC/);
      await restarted.start();
      expect(before.isOpen).toBe(false);
      expect(await restarted.contacts(aorOf(ALICE))).toEqual([]);
      const after = await connectClient(restarted.wssUrl);
      await registerOrFail(after, ALICE, restarted);
      expect(await restarted.contacts(aorOf(ALICE))).toEqual([after.contactUri]);
    } finally {
      await closeClients();
      await restarted.stop();
    }
  });

  describe('INVITE routing', () => {
    /** Alice on ws:// calls Bob on wss://, so Kamailio also bridges the two transports. */
    async function connectCallPair(): Promise<{ alice: SipWsClient; bob: SipWsClient; aliceGruu: string; bobGruu: string }> {
      const alice = await connectClient(server.wsUrl);
      const bob = await connectClient(server.wssUrl);
      const aliceGruu = publicGruuOf(await registerOrFail(alice, ALICE, server));
      const bobGruu = publicGruuOf(await registerOrFail(bob, BOB, server));
      return { alice, bob, aliceGruu, bobGruu };
    }

    /**
     * Sends an INVITE from Alice, then again with a digest response to the 407
     * challenge, and returns the spec of the authenticated INVITE.
     */
    async function sendAuthenticatedInvite(
      alice: SipWsClient,
      targetUri: string,
      contactUri = `${alice.contactUri};ob`,
    ): Promise<RequestSpec> {
      const invite: RequestSpec = {
        method: 'INVITE',
        requestUri: targetUri,
        from: aorOf(ALICE),
        to: targetUri,
        callId: randomToken(),
        cseq: 1,
        fromTag: randomToken(),
        branch: `z9hG4bK${randomToken()}`,
        extraHeaders: [`Contact: <${contactUri}>`],
      };
      alice.send(buildRequest(alice, invite));
      const challenge = await alice.finalResponse(invite.callId, '1 INVITE');
      expect(challenge.status, challenge.raw).toBe(407);
      const proxyAuthenticate = header(challenge, 'proxy-authenticate');
      expect(proxyAuthenticate).toMatch(/^Digest /);
      alice.send(buildRequest(alice, { ...invite, method: 'ACK', toTag: toTagOf(challenge), extraHeaders: [] }));

      const authenticated: RequestSpec = {
        ...invite,
        cseq: 2,
        branch: `z9hG4bK${randomToken()}`,
        extraHeaders: [
          ...invite.extraHeaders!,
          `Proxy-Authorization: ${digestCredentials(proxyAuthenticate!, ALICE, 'INVITE', targetUri)}`,
        ],
      };
      alice.send(buildRequest(alice, authenticated));
      return authenticated;
    }

    it('relays an INVITE to the registered callee', async () => {
      const { alice, bob } = await connectCallPair();

      const invite = await sendAuthenticatedInvite(alice, aorOf(BOB));

      const received = await bob.next((message) => message.method === 'INVITE', 'INVITE at Bob');
      expect(received.requestUri).toMatch(new RegExp(`^sip:${bob.contactUser}@`));
      expect(header(received, 'from')).toContain(aorOf(ALICE));
      expect(header(received, 'proxy-authorization')).toBeUndefined();
      expect(headerValues(received, 'record-route').length).toBeGreaterThan(0);
      bob.send(buildResponse(received, 486, 'Busy Here', randomToken()));
      const final = await alice.finalResponse(invite.callId, '2 INVITE');
      expect(final.status).toBe(486);
      alice.send(buildRequest(alice, { ...invite, method: 'ACK', toTag: toTagOf(final), extraHeaders: [] }));
    });

    /**
     * Sets up a call from Alice to Bob in which both Contacts are their public
     * GRUUs, as SIP.js sends them, and returns Bob's BYE for that call.
     */
    async function establishGruuCall() {
      const { alice, bob, aliceGruu, bobGruu } = await connectCallPair();
      const invite = await sendAuthenticatedInvite(alice, aorOf(BOB), aliceGruu);
      const received = await bob.next((message) => message.method === 'INVITE', 'INVITE at Bob');
      const bobTag = randomToken();
      bob.send(buildResponse(received, 200, 'OK', bobTag, [`Contact: <${bobGruu}>`]));
      const answer = await alice.finalResponse(invite.callId, '2 INVITE');
      expect(answer.status).toBe(200);

      // RFC 3261 section 12.1.2: the caller's route set is the Record-Route list in reverse order.
      const aliceRoutes = recordRoutes(answer).reverse().map((route) => `Route: ${route}`);
      const bobTarget = contactUriOf(answer);
      expect(withoutAlias(bobTarget), answer.raw).toBe(bobGruu);
      alice.send(
        buildRequest(alice, { ...invite, method: 'ACK', requestUri: bobTarget!, toTag: bobTag, extraHeaders: aliceRoutes }),
      );
      // The location service replaces a GRUU in the Request-URI with the contact registered for it.
      const ack = await bob.next((message) => message.method === 'ACK', 'ACK at Bob');
      expect(ack.requestUri).toBe(bob.contactUri);

      // Section 12.1.1: the callee's route set is the Record-Route list in order.
      const bobRoutes = recordRoutes(received).map((route) => `Route: ${route}`);
      const aliceTarget = contactUriOf(received);
      expect(withoutAlias(aliceTarget), received.raw).toBe(aliceGruu);
      const bye: RequestSpec = {
        method: 'BYE',
        requestUri: aliceTarget!,
        from: aorOf(BOB),
        fromTag: bobTag,
        to: aorOf(ALICE),
        toTag: invite.fromTag,
        callId: invite.callId,
        cseq: 1,
        extraHeaders: bobRoutes,
      };
      return { alice, bob, bye };
    }

    // SIP.js puts the public GRUU from the REGISTER 200 OK into the Contact of its
    // INVITEs and 2xx responses, so in-dialog requests target the GRUUs.
    it('routes ACK and BYE between GRUUs', async () => {
      const { alice, bob, bye } = await establishGruuCall();

      bob.send(buildRequest(bob, bye));
      const byeAtAlice = await alice.next((message) => message.method === 'BYE', 'BYE at Alice');
      expect(byeAtAlice.requestUri).toBe(alice.contactUri);
      alice.send(buildResponse(byeAtAlice, 200, 'OK', bye.toTag!));
      const byeResponse = await bob.finalResponse(bye.callId, '1 BYE');
      expect(byeResponse.status).toBe(200);
    });

    // The alias in Bob's remote target names Alice's first connection. A GRUU
    // names her UA instance, so the BYE follows her registration to the new one.
    it('routes a GRUU after reconnecting', async () => {
      const { alice, bob, bye } = await establishGruuCall();
      await alice.close();
      await expect.poll(() => server.contacts(aorOf(ALICE)), { timeout: 5_000 }).toEqual([]);

      bob.send(buildRequest(bob, bye));
      const unavailable = await bob.finalResponse(bye.callId, '1 BYE');
      expect(unavailable.status, unavailable.raw).toBe(480);

      const reconnected = await connectClient(server.wsUrl, alice);
      await registerOrFail(reconnected, ALICE, server);
      bob.send(buildRequest(bob, { ...bye, cseq: 2 }));
      const byeAtAlice = await reconnected.next((message) => message.method === 'BYE', 'BYE at reconnected Alice');
      expect(byeAtAlice.requestUri).toBe(reconnected.contactUri);
      reconnected.send(buildResponse(byeAtAlice, 200, 'OK', bye.toTag!));
      const byeResponse = await bob.finalResponse(bye.callId, '2 BYE');
      expect(byeResponse.status).toBe(200);
    });

    it('relays CANCEL of a ringing call', async () => {
      const { alice, bob } = await connectCallPair();
      const invite = await sendAuthenticatedInvite(alice, aorOf(BOB));
      const received = await bob.next((message) => message.method === 'INVITE', 'INVITE at Bob');
      const bobTag = randomToken();
      bob.send(buildResponse(received, 180, 'Ringing', bobTag, [`Contact: <${bob.contactUri}>`]));
      await alice.next((message) => message.status === 180, '180 Ringing at Alice');

      // RFC 3261 section 9.1: CANCEL repeats the INVITE's Request-URI, Call-ID, From, To, CSeq number and branch.
      alice.send(buildRequest(alice, { ...invite, method: 'CANCEL', extraHeaders: [] }));

      const cancelResponse = await alice.finalResponse(invite.callId, '2 CANCEL');
      expect(cancelResponse.status).toBe(200);
      const cancel = await bob.next((message) => message.method === 'CANCEL', 'CANCEL at Bob');
      bob.send(buildResponse(cancel, 200, 'OK', bobTag));
      bob.send(buildResponse(received, 487, 'Request Terminated', bobTag));
      const final = await alice.finalResponse(invite.callId, '2 INVITE');
      expect(final.status).toBe(487);
      alice.send(buildRequest(alice, { ...invite, method: 'ACK', toTag: toTagOf(final), extraHeaders: [] }));
    });

    it('relays an authenticated MESSAGE', async () => {
      const { alice, bob } = await connectCallPair();
      const message: RequestSpec = {
        method: 'MESSAGE',
        requestUri: aorOf(BOB),
        from: aorOf(ALICE),
        to: aorOf(BOB),
        callId: randomToken(),
        cseq: 1,
        fromTag: randomToken(),
        extraHeaders: ['Content-Type: text/plain'],
        body: 'hello',
      };
      alice.send(buildRequest(alice, message));
      const challenge = await alice.finalResponse(message.callId, '1 MESSAGE');
      expect(challenge.status).toBe(407);

      const credentials = digestCredentials(header(challenge, 'proxy-authenticate')!, ALICE, 'MESSAGE', aorOf(BOB));
      alice.send(
        buildRequest(alice, { ...message, cseq: 2, extraHeaders: [...message.extraHeaders!, `Proxy-Authorization: ${credentials}`] }),
      );

      const received = await bob.next((incoming) => incoming.method === 'MESSAGE', 'MESSAGE at Bob');
      expect(received.body).toBe('hello');
      bob.send(buildResponse(received, 200, 'OK', randomToken()));
      const final = await alice.finalResponse(message.callId, '2 MESSAGE');
      expect(final.status).toBe(200);
    });

    it('rejects unregistered callee with 404', async () => {
      const alice = await connectClient(server.wsUrl);
      await registerOrFail(alice, ALICE, server);

      const invite = await sendAuthenticatedInvite(alice, `sip:15559999999@${DOMAIN}`);

      const final = await alice.finalResponse(invite.callId, '2 INVITE');
      expect(final.status).toBe(404);
    });

    it('rejects foreign domain with 403', async () => {
      const alice = await connectClient(server.wsUrl);
      const target = `sip:${BOB.username}@example.com`;
      const invite: RequestSpec = {
        method: 'INVITE',
        requestUri: target,
        from: aorOf(ALICE),
        to: target,
        callId: randomToken(),
        cseq: 1,
        fromTag: randomToken(),
        extraHeaders: [`Contact: <${alice.contactUri}>`],
      };

      alice.send(buildRequest(alice, invite));

      const final = await alice.finalResponse(invite.callId, '1 INVITE');
      expect(final.status).toBe(403);
    });
  });
});

function toTagOf(response: SipMessage): string {
  return /;tag=([^;>\s]+)/.exec(header(response, 'to') ?? '')?.[1] ?? '';
}
