import { createHash, randomBytes } from 'node:crypto';

import WebSocket from 'ws';

import {
  buildSipMessage,
  cseqOf,
  header,
  headerList,
  parseSipMessage,
  tagOf,
  uriOf,
  type SipMessage,
} from './sip-message';

/**
 * A scripted SIP user agent for the bench: a plain WebSocket client (RFC 7118)
 * that registers on Kamailio as one line and plays the RingCentral server's
 * part towards a softphone. It sends INVITEs with a `P-rc` header, answers the
 * client's call-control MESSAGEs and INFOs, sends its own, and answers
 * re-INVITEs as each test scripts. Its SDP is made up: signalling works, media
 * never connects.
 */

export interface RcSipPeerOptions {
  /** Kamailio's plain WebSocket URL, ws://127.0.0.1:<port>. */
  wsUrl: string;
  domain: string;
  /** AOR user part, the digest user (authorizationId) and its password. */
  username: string;
  authorizationId: string;
  password: string;
}

/** What the peer does with a re-INVITE it receives: its final status, and an SDP answer for 2xx. */
export type ReinviteScript = (request: SipMessage) => { status: number; reason?: string };

const RESPONSE_TIMEOUT_MS = 10_000;
/** An INVITE may ring until the test answers, declines or cancels it. */
const INVITE_TIMEOUT_MS = 60_000;
const DEFAULT_REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  603: 'Decline',
};

export class RcSipPeer {
  /** Every request the peer received, in order, retransmissions included. */
  readonly requests: SipMessage[] = [];
  readonly aor: string;

  readonly #options: RcSipPeerOptions;
  readonly #socket: WebSocket;
  readonly #contact: string;
  readonly #viaHost = `${randomToken(8)}.invalid`;
  readonly #calls = new Map<string, PeerCall>();
  readonly #waiters = new Set<{ match: (message: SipMessage) => boolean; resolve: (message: SipMessage) => void }>();
  #cseq = 1;
  #received = 0;

  private constructor(options: RcSipPeerOptions, socket: WebSocket) {
    this.#options = options;
    this.#socket = socket;
    this.aor = `sip:${options.username}@${options.domain}`;
    this.#contact = `<sip:${options.username}@${this.#viaHost};transport=ws>`;
    socket.on('message', (data) => this.#receive(data.toString()));
  }

  /** Connects to Kamailio and registers the line. */
  static async start(options: RcSipPeerOptions): Promise<RcSipPeer> {
    const socket = new WebSocket(options.wsUrl, 'sip');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });

    const peer = new RcSipPeer(options, socket);
    await peer.#register();
    return peer;
  }

  async close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.close();
    });
  }

  /** Resolves with the first request (already received or still to come) that `match` accepts. */
  waitForRequest(match: (request: SipMessage) => boolean, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<SipMessage> {
    const received = this.requests.find(match);
    if (received) return Promise.resolve(received);
    return this.#waitFor((message) => message.method !== null && match(message), timeoutMs, 'request');
  }

  /**
   * Sends an INVITE with a made-up audio offer to `user` on the bench domain and
   * returns the call once the INVITE went out (after the proxy's digest challenge).
   */
  async invite(user: string, extraHeaders: Array<[string, string]> = []): Promise<PeerCall> {
    const call = new PeerCall(this, randomToken(16), randomToken(8), `sip:${user}@${this.#options.domain}`);
    this.#calls.set(call.callId, call);
    await call.sendInvite(extraHeaders);
    return call;
  }

  /** Sends an out-of-dialog MESSAGE and resolves with its final status. */
  async message(user: string, contentType: string, body: string): Promise<number> {
    const target = `sip:${user}@${this.#options.domain}`;
    const response = await this.sendRequest(
      {
        method: 'MESSAGE',
        requestUri: target,
        to: `<${target}>`,
        fromTag: randomToken(8),
        callId: randomToken(16),
        headers: [['Content-Type', contentType]],
        body,
      },
      true,
    );
    return response.status!;
  }

  // ---------------------------------------------------------------------------
  // Transport and transactions (used by PeerCall)
  // ---------------------------------------------------------------------------

  get contact(): string {
    return this.#contact;
  }

  nextCseq(): number {
    return this.#cseq++;
  }

  newVia(): { value: string; branch: string } {
    const branch = `z9hG4bK${randomToken(12)}`;
    return { value: `SIP/2.0/WS ${this.#viaHost};branch=${branch};rport`, branch };
  }

  send(text: string): void {
    this.#socket.send(text);
  }

  /**
   * Sends a request and resolves with its final response. With `authenticate`,
   * a 401 or 407 is answered once with digest credentials (RFC 2617, qop=auth).
   */
  async sendRequest(request: PeerRequest, authenticate: boolean, onProvisional?: (response: SipMessage) => void): Promise<SipMessage> {
    const first = await this.#transaction(request, onProvisional);
    if (!authenticate || (first.status !== 401 && first.status !== 407)) return first;

    const challengeHeader = first.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
    const credentialsHeader = first.status === 401 ? 'Authorization' : 'Proxy-Authorization';
    const challenge = header(first, challengeHeader);
    if (!challenge) throw new Error(`${first.status} without ${challengeHeader}`);

    const authorization = digestAuthorization(challenge, request.method, request.requestUri, this.#options);
    return this.#transaction(
      { ...request, cseq: undefined, headers: [...(request.headers ?? []), [credentialsHeader, authorization]] },
      onProvisional,
    );
  }

  /** Sends one request and waits for its final response; an INVITE's non-2xx final response is ACKed. */
  #transaction(request: PeerRequest, onProvisional?: (response: SipMessage) => void): Promise<SipMessage> {
    const via = request.via ?? this.newVia();
    const cseq = request.cseq ?? this.nextCseq();
    request.onSent?.({ branch: via.branch, cseq });

    const text = buildSipMessage({
      startLine: `${request.method} ${request.requestUri} SIP/2.0`,
      headers: [
        ['Via', via.value],
        ...(request.route ?? []).map((route): [string, string] => ['Route', route]),
        ['Max-Forwards', '70'],
        ['To', request.to],
        ['From', `<${this.aor}>;tag=${request.fromTag}`],
        ['Call-ID', request.callId],
        ['CSeq', `${cseq} ${request.method}`],
        ['Contact', this.#contact],
        ['User-Agent', 'RcSipPeer/1.0'],
        ...(request.headers ?? []),
      ],
      body: request.body,
    });

    const timeoutMs = request.method === 'INVITE' ? INVITE_TIMEOUT_MS : RESPONSE_TIMEOUT_MS;
    const response = new Promise<SipMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`No final response to ${request.method} ${request.requestUri} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const waiter = {
        match: (message: SipMessage) => {
          if (message.status === null || !headerList(message, 'via')[0]?.includes(`branch=${via.branch}`)) return false;
          if (cseqOf(message).method !== request.method) return false;
          if (message.status < 200) {
            onProvisional?.(message);
            return false;
          }
          return true;
        },
        resolve: (message: SipMessage) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.#waiters.add(waiter);
    });

    this.send(text);
    return response.then((final) => {
      if (request.method === 'INVITE' && final.status! >= 300) this.#ackFailure(request, final, via.value, cseq);
      return final;
    });
  }

  /** ACK for a non-2xx final response: the INVITE's branch, CSeq number and Route (RFC 3261 §17.1.1.3). */
  #ackFailure(request: PeerRequest, response: SipMessage, via: string, cseq: number): void {
    this.send(
      buildSipMessage({
        startLine: `ACK ${request.requestUri} SIP/2.0`,
        headers: [
          ['Via', via],
          ...(request.route ?? []).map((route): [string, string] => ['Route', route]),
          ['Max-Forwards', '70'],
          ['To', header(response, 'to')!],
          ['From', `<${this.aor}>;tag=${request.fromTag}`],
          ['Call-ID', request.callId],
          ['CSeq', `${cseq} ACK`],
        ],
      }),
    );
  }

  /** Answers a request with `status`, copying Via, From, To (with a tag), Call-ID, CSeq and Record-Route. */
  respond(request: SipMessage, status: number, options: { toTag?: string; body?: string; headers?: Array<[string, string]> } = {}): void {
    const to = header(request, 'to')!;
    const toWithTag = tagOf(to) || !options.toTag ? to : `${to};tag=${options.toTag}`;
    const headers: Array<[string, string]> = [
      ...headerList(request, 'via').map((via): [string, string] => ['Via', via]),
      ...headerList(request, 'record-route').map((route): [string, string] => ['Record-Route', route]),
      ['To', toWithTag],
      ['From', header(request, 'from')!],
      ['Call-ID', header(request, 'call-id')!],
      ['CSeq', header(request, 'cseq')!],
    ];
    if (status >= 200 && status < 300 && request.method !== 'MESSAGE') headers.push(['Contact', this.#contact]);
    headers.push(...(options.headers ?? []));
    if (options.body) headers.push(['Content-Type', 'application/sdp']);

    this.send(
      buildSipMessage({ startLine: `SIP/2.0 ${status} ${DEFAULT_REASONS[status] ?? 'Unknown'}`, headers, body: options.body }),
    );
  }

  async #register(): Promise<void> {
    const response = await this.sendRequest(
      {
        method: 'REGISTER',
        requestUri: `sip:${this.#options.domain}`,
        to: `<${this.aor}>`,
        fromTag: randomToken(8),
        callId: randomToken(16),
        headers: [['Expires', '600']],
      },
      true,
    );
    if (response.status !== 200) throw new Error(`The peer's REGISTER failed: ${response.status} ${response.reason}`);
  }

  #receive(text: string): void {
    let message: SipMessage;
    try {
      message = parseSipMessage(text);
    } catch {
      return;
    }
    message.sequence = ++this.#received;

    for (const waiter of [...this.#waiters]) {
      if (waiter.match(message)) {
        this.#waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
    if (message.method === null) return;

    this.requests.push(message);
    const call = this.#calls.get(header(message, 'call-id') ?? '');
    if (call) {
      call.receive(message);
      return;
    }

    // Out-of-dialog requests: MESSAGE and OPTIONS get 200; anything else is not expected here.
    if (message.method === 'ACK') return;
    this.respond(message, message.method === 'MESSAGE' || message.method === 'OPTIONS' ? 200 : 481, {
      toTag: randomToken(8),
    });
  }

  #waitFor(match: (message: SipMessage) => boolean, timeoutMs: number, what: string): Promise<SipMessage> {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (message: SipMessage) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`The peer received no matching ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#waiters.add(waiter);
    });
  }
}

interface PeerRequest {
  method: string;
  requestUri: string;
  to: string;
  fromTag: string;
  callId: string;
  cseq?: number;
  via?: { value: string; branch: string };
  route?: string[];
  headers?: Array<[string, string]>;
  body?: string;
  /** Told the branch and CSeq the request went out with, for a later CANCEL. */
  onSent?: (sent: { branch: string; cseq: number }) => void;
}

/** One call the peer placed to a softphone. */
export class PeerCall {
  /** Every response to the INVITE, provisional ones included, in order. */
  readonly inviteResponses: SipMessage[] = [];
  /** Requests the softphone sent in this dialog (INFO, re-INVITE, BYE...). */
  readonly dialogRequests: SipMessage[] = [];
  /** The peer's answer to re-INVITEs; 200 with a matching SDP answer unless a test sets it. */
  onReinvite: ReinviteScript = () => ({ status: 200 });
  /** Called for each INFO after the peer answered it with 200. */
  onInfo: (request: SipMessage) => void = () => undefined;

  #inviteSent: { branch: string; cseq: number } | null = null;
  #byeSent = false;
  #remoteTag: string | null = null;
  #remoteTarget: string | null = null;
  #routeSet: string[] = [];
  #final: Promise<SipMessage> | null = null;
  readonly #iceUfrag = randomToken(8);
  readonly #icePassword = randomToken(24);

  constructor(
    private readonly peer: RcSipPeer,
    readonly callId: string,
    private readonly localTag: string,
    private readonly target: string,
  ) {}

  /** True once either end sent BYE in this dialog. */
  get ended(): boolean {
    return this.#byeSent || this.dialogRequests.some((request) => request.method === 'BYE');
  }

  /** Resolves with the INVITE's final response: 200 when answered (ACK sent), 487 after CANCEL. */
  finalResponse(): Promise<SipMessage> {
    if (!this.#final) throw new Error('The INVITE was not sent.');
    return this.#final;
  }

  /** Resolves with the first provisional or final response with `status`. */
  async waitForResponse(status: number, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<SipMessage> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.inviteResponses.find((response) => response.status === status);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seen = this.inviteResponses.map((response) => response.status).join(', ') || 'none';
    throw new Error(`No ${status} to the peer's INVITE within ${timeoutMs} ms (responses: ${seen})`);
  }

  /** Resolves with the first in-dialog request from the softphone that `match` accepts. */
  async waitForDialogRequest(match: (request: SipMessage) => boolean, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<SipMessage> {
    const found = this.dialogRequests.find(match);
    if (found) return found;
    return this.peer.waitForRequest((request) => header(request, 'call-id') === this.callId && match(request), timeoutMs);
  }

  async sendInvite(extraHeaders: Array<[string, string]>): Promise<void> {
    const sent = new Promise<void>((resolve) => {
      this.#final = this.peer
        .sendRequest(
          {
            method: 'INVITE',
            requestUri: this.target,
            to: `<${this.target}>`,
            fromTag: this.localTag,
            callId: this.callId,
            headers: [...extraHeaders, ['Content-Type', 'application/sdp'], ['Allow', 'INVITE, ACK, CANCEL, BYE, INFO, MESSAGE, NOTIFY, REFER']],
            body: this.#sdp('actpass', 'sendrecv'),
            onSent: (request) => {
              this.#inviteSent = request;
              resolve();
            },
          },
          true,
          (response) => this.inviteResponses.push(response),
        )
        .then((final) => {
          this.inviteResponses.push(final);
          if (final.status! >= 200 && final.status! < 300) this.#confirm(final);
          return final;
        });
      // A test that never asks for the final response must not see its timeout as an unhandled rejection.
      this.#final.catch(() => undefined);
    });
    await sent;
  }

  /** CANCELs the INVITE (RFC 3261 §9.1): same branch, Call-ID, From, To and CSeq number. */
  cancel(): Promise<SipMessage> {
    const sent = this.#inviteSent;
    if (!sent) throw new Error('The INVITE was not sent.');

    return this.peer.sendRequest(
      {
        method: 'CANCEL',
        requestUri: this.target,
        to: `<${this.target}>`,
        fromTag: this.localTag,
        callId: this.callId,
        cseq: sent.cseq,
        via: { value: this.peer.newVia().value.replace(/branch=[^;]+/, `branch=${sent.branch}`), branch: sent.branch },
      },
      false,
    );
  }

  /** Sends an in-dialog request (INFO, BYE, re-INVITE...) and resolves with its final response; a 2xx to INVITE is ACKed. */
  async request(method: string, contentType?: string, body?: string): Promise<SipMessage> {
    if (!this.#remoteTarget || !this.#remoteTag) throw new Error('The call is not answered.');
    if (method === 'BYE') this.#byeSent = true;

    const response = await this.peer.sendRequest(
      {
        method,
        requestUri: this.#remoteTarget,
        to: `<${this.target}>;tag=${this.#remoteTag}`,
        fromTag: this.localTag,
        callId: this.callId,
        route: this.#routeSet,
        headers: contentType ? [['Content-Type', contentType]] : [],
        body,
      },
      false,
    );
    if (method === 'INVITE' && response.status! >= 200 && response.status! < 300) this.#ack(response);
    return response;
  }

  /** Sends a re-INVITE with the peer's made-up SDP and the given direction. */
  reinvite(direction: 'sendrecv' | 'sendonly' = 'sendrecv'): Promise<SipMessage> {
    return this.request('INVITE', 'application/sdp', this.#sdp('actpass', direction));
  }

  receive(request: SipMessage): void {
    this.dialogRequests.push(request);

    switch (request.method) {
      case 'ACK':
        return;
      case 'INVITE': {
        const { status } = this.onReinvite(request);
        const offer = request.body;
        const answer = status >= 200 && status < 300 && offer ? this.#answerTo(offer) : undefined;
        this.peer.respond(request, status, { body: answer });
        return;
      }
      case 'INFO':
        this.peer.respond(request, 200);
        this.onInfo(request);
        return;
      case 'CANCEL':
        // A CANCEL reaches the peer only for INVITEs it received, which it answers at once.
        this.peer.respond(request, 481);
        return;
      default:
        this.peer.respond(request, 200);
    }
  }

  /** Confirms the dialog of a 2xx: remote tag and target, route set reversed (RFC 3261 §12.1.2), ACK. */
  #confirm(response: SipMessage): void {
    this.#remoteTag = tagOf(header(response, 'to'));
    this.#remoteTarget = uriOf(header(response, 'contact') ?? '');
    this.#routeSet = headerList(response, 'record-route').reverse();
    this.#ack(response);
  }

  /** ACK for a 2xx: a new transaction along the route set (RFC 3261 §13.2.2.4). */
  #ack(response: SipMessage): void {
    const via = this.peer.newVia();
    this.peer.send(
      buildSipMessage({
        startLine: `ACK ${this.#remoteTarget} SIP/2.0`,
        headers: [
          ['Via', via.value],
          ...this.#routeSet.map((route): [string, string] => ['Route', route]),
          ['Max-Forwards', '70'],
          ['To', header(response, 'to')!],
          ['From', `<${this.peer.aor}>;tag=${this.localTag}`],
          ['Call-ID', this.callId],
          ['CSeq', `${cseqOf(response).number} ACK`],
        ],
      }),
    );
  }

  /**
   * Answers an offer with the matching direction (RFC 3264 §6.1). The peer
   * offered actpass and the softphone's answer took the DTLS client role, so the
   * peer stays the DTLS server (`passive`): browsers refuse a role change
   * within a session (RFC 8842 §5.3).
   */
  #answerTo(offer: string): string {
    const offered = /^a=(sendrecv|sendonly|recvonly|inactive)/m.exec(offer)?.[1] ?? 'sendrecv';
    const answered = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' }[offered]!;
    return this.#sdp('passive', answered);
  }

  #sdp(setup: 'actpass' | 'passive', direction: string): string {
    const fingerprint = Array.from({ length: 32 }, (_, index) => ((index * 37 + 11) % 256).toString(16).padStart(2, '0'))
      .join(':')
      .toUpperCase();
    return [
      'v=0',
      `o=- ${Date.now()} 1 IN IP4 127.0.0.1`,
      's=-',
      't=0 0',
      'a=group:BUNDLE 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 101',
      'c=IN IP4 127.0.0.1',
      'a=rtcp:9 IN IP4 0.0.0.0',
      // Port 9 (discard) on loopback: connectivity checks go nowhere, so media never flows.
      'a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host',
      `a=ice-ufrag:${this.#iceUfrag}`,
      `a=ice-pwd:${this.#icePassword}`,
      `a=fingerprint:sha-256 ${fingerprint}`,
      `a=setup:${setup}`,
      'a=mid:0',
      `a=${direction}`,
      'a=rtcp-mux',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      '',
    ].join('\r\n');
  }
}

function digestAuthorization(challenge: string, method: string, uri: string, options: RcSipPeerOptions): string {
  const parameter = (name: string) => new RegExp(`${name}="?([^",]+)"?`, 'i').exec(challenge)?.[1];
  const realm = parameter('realm') ?? options.domain;
  const nonce = parameter('nonce') ?? '';
  const qop = parameter('qop');
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');

  const ha1 = md5(`${options.authorizationId}:${realm}:${options.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const fields = [`username="${options.authorizationId}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`, 'algorithm=MD5'];

  if (qop?.split(/\s*,\s*/).includes('auth')) {
    const cnonce = randomToken(12);
    const nc = '00000001';
    fields.push(`response="${md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`, 'qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  } else {
    fields.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
  }
  return `Digest ${fields.join(', ')}`;
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
