/**
 * The WebSocket to the SIP server that the renderer opens before its main
 * bundle loads. A small classic script in the page's head
 * (src/renderer/early/open-sip-socket.ts) opens it to the last server whose
 * WebSocket opened. The TLS and WebSocket handshakes then run while the bundle
 * is fetched, compiled and evaluated, and the SIP transport claims the socket.
 *
 * This module is bundled into that script too, so it imports nothing.
 */

/** `localStorage` key of the `wss://` URL of the last server whose WebSocket opened. */
export const LAST_SIP_SERVER_KEY = 'rc-softphone.last-sip-server';

/** How long an unclaimed early socket stays open before the page closes it. */
export const EARLY_SOCKET_CLAIM_WINDOW_MS = 10_000;

/** The WebSocket subprotocol of SIP over WebSocket (RFC 7118). */
export const SIP_WEBSOCKET_PROTOCOL = 'sip';

const SLOT = Symbol.for('rc-softphone.early-sip-socket');

/** `WebSocket.readyState` values, spelled out so that code here and in tests needs no global `WebSocket`. */
export const WEBSOCKET_CONNECTING = 0;
export const WEBSOCKET_OPEN = 1;

type WebSocketConstructor = new (url: string, protocols: string) => WebSocket;

interface EarlySocket {
  url: string;
  socket: WebSocket;
}

type SlotHolder = { [SLOT]?: EarlySocket };

/** Returns whether the early script may open `url`: `wss://` URLs only. */
export function isEarlySocketUrl(url: string | null): url is string {
  if (url === null) return false;
  try {
    return new URL(url).protocol === 'wss:';
  } catch {
    return false;
  }
}

/** Opens the early socket to the remembered server, when there is one. Run once per page. */
export function openEarlySipSocket(
  storage: Storage,
  holder: object = globalThis,
  WebSocketImpl: WebSocketConstructor = WebSocket,
): void {
  let url: string | null;
  try {
    url = storage.getItem(LAST_SIP_SERVER_KEY);
  } catch {
    return; // Storage is unavailable; the transport connects as usual.
  }
  if (!isEarlySocketUrl(url)) return;

  let socket: WebSocket;
  try {
    socket = new WebSocketImpl(url, SIP_WEBSOCKET_PROTOCOL);
  } catch {
    return;
  }
  socket.binaryType = 'arraybuffer';
  // Closing a socket that is still opening fires `error`. The transport attaches
  // its own listeners once it claims the socket. Until then this one keeps the
  // event handled, which Node's `ws` requires.
  socket.addEventListener('error', () => undefined);
  const slot = holder as SlotHolder;
  slot[SLOT] = { url, socket };
  setTimeout(() => {
    if (slot[SLOT]?.socket !== socket) return;
    delete slot[SLOT];
    socket.close(1000);
  }, EARLY_SOCKET_CLAIM_WINDOW_MS);
}

/**
 * Takes the early socket when it was opened to `url` and is still opening or
 * open. Any other early socket is closed, so at most one connection is left.
 */
export function claimEarlySipSocket(url: string, holder: object = globalThis): WebSocket | undefined {
  const slot = holder as SlotHolder;
  const early = slot[SLOT];
  if (early === undefined) return undefined;
  delete slot[SLOT];

  const usable = early.socket.readyState === WEBSOCKET_CONNECTING || early.socket.readyState === WEBSOCKET_OPEN;
  if (early.url === url && usable) return early.socket;
  if (usable) early.socket.close(1000);
  return undefined;
}

/**
 * Returns the page's `localStorage`, or undefined where there is none or the
 * browser denies it (reading `window.localStorage` then throws a SecurityError).
 */
export function pageStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

/** Remembers the server of an opened WebSocket for the next start. */
export function rememberSipServer(storage: Storage, url: string): void {
  try {
    if (storage.getItem(LAST_SIP_SERVER_KEY) !== url) storage.setItem(LAST_SIP_SERVER_KEY, url);
  } catch {
    // A full or disabled storage only costs the next start its head start.
  }
}

/** Forgets the server, so a signed-out start opens no connection. */
export function forgetSipServer(storage: Storage): void {
  try {
    storage.removeItem(LAST_SIP_SERVER_KEY);
  } catch {
    // Nothing to forget.
  }
}
