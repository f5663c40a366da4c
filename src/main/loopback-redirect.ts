import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Logger } from './logger';

/** An HTML page sent to the browser tab that followed the redirect. */
export interface RedirectPage {
  status: number;
  html: string;
}

export interface LoopbackRedirectOptions {
  /** Path of the redirect URI, starting with `/`. */
  path: string;
  /** Milliseconds to wait for the redirect; then `redirect` rejects with `RedirectTimeoutError`. */
  timeoutMs: number;
  /** Aborting closes the listener and rejects a pending `redirect` with the signal's reason. */
  signal?: AbortSignal;
  /** Sent when `respond` is not called within `responseHoldMs` of the redirect, or on `close`. */
  fallbackPage: RedirectPage;
  /** Milliseconds the redirect's response waits for `respond`; 60 s unless set. */
  responseHoldMs?: number;
  logger: Logger;
}

/**
 * A one-shot HTTP listener on 127.0.0.1 for the OAuth redirect of a native app
 * (RFC 8252 section 7.3). The first GET to `path` settles `redirect` and stops the
 * listener from accepting connections. Its response waits for `respond`.
 */
export interface LoopbackRedirectListener {
  /** `http://127.0.0.1:<port><path>`, the `redirect_uri` of the authorization request. */
  readonly redirectUri: string;
  /** Resolves with the URL of the first request to `path`, query included. */
  readonly redirect: Promise<URL>;
  /** Sends `page` as the response to the redirect request; only the first call counts. */
  respond(page: RedirectPage): void;
  /** Stops the listener. A held response gets the fallback page; a pending `redirect` rejects. */
  close(): void;
}

/** The browser did not come back to the redirect URI in time. */
export class RedirectTimeoutError extends Error {
  override readonly name = 'RedirectTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`No browser redirect arrived within ${Math.round(timeoutMs / 1000)} seconds.`);
  }
}

/** The listener was closed before the browser came back. */
export class RedirectListenerClosedError extends Error {
  override readonly name = 'RedirectListenerClosedError';

  constructor() {
    super('The redirect listener was closed before the browser came back.');
  }
}

const DEFAULT_RESPONSE_HOLD_MS = 60_000;

// The callback URL carries the authorization code, so the page loads nothing,
// sends no Referer and is not cached.
const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  Connection: 'close',
} as const;

const NOT_FOUND_PAGE = '<!doctype html><title>Not found</title><p>Not found.</p>';

/**
 * Starts the listener on 127.0.0.1 with a port chosen by the OS. Requests to
 * other paths or with other methods get 404 and leave the listener waiting.
 */
export async function startLoopbackRedirectListener(options: LoopbackRedirectOptions): Promise<LoopbackRedirectListener> {
  const { logger } = options;
  const holdMs = options.responseHoldMs ?? DEFAULT_RESPONSE_HOLD_MS;

  let settle: { resolve: (url: URL) => void; reject: (error: unknown) => void } | null = null;
  const redirect = new Promise<URL>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A caller that stops waiting (after an abort) must not cause an unhandled rejection.
  redirect.catch(() => undefined);

  let heldResponse: ServerResponse | null = null;
  let redirectReceived = false;
  let closed = false;
  let waitTimer: ReturnType<typeof setTimeout> | null = null;
  let holdTimer: ReturnType<typeof setTimeout> | null = null;

  const server = createServer((request, response) => handleRequest(request, response));

  const sendPage = (response: ServerResponse, page: RedirectPage) => {
    if (response.headersSent || response.destroyed) {
      return;
    }
    response.writeHead(page.status, PAGE_HEADERS);
    response.end(page.html);
  };

  const stopListening = () => {
    if (waitTimer !== null) {
      clearTimeout(waitTimer);
      waitTimer = null;
    }
    options.signal?.removeEventListener('abort', onAbort);
    server.close();
    server.closeIdleConnections();
  };

  const fail = (error: unknown) => {
    settle?.reject(error);
    settle = null;
  };

  const respond = (page: RedirectPage) => {
    if (holdTimer !== null) {
      clearTimeout(holdTimer);
      holdTimer = null;
    }
    const response = heldResponse;
    heldResponse = null;
    if (response !== null) {
      sendPage(response, page);
    }
  };

  const close = () => {
    if (closed) {
      return;
    }
    closed = true;
    respond(options.fallbackPage);
    fail(new RedirectListenerClosedError());
    stopListening();
  };

  function onAbort(): void {
    const reason: unknown = options.signal?.reason;
    fail(reason);
    close();
  }

  function handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', redirectUri);
    if (request.method !== 'GET' || url.pathname !== options.path || redirectReceived) {
      response.writeHead(404, PAGE_HEADERS);
      response.end(NOT_FOUND_PAGE);
      return;
    }

    // RFC 8252 section 8.3: the listener only serves this one redirect.
    redirectReceived = true;
    heldResponse = response;
    stopListening();
    logger.info('Browser came back to the redirect URI', { path: url.pathname });

    holdTimer = setTimeout(() => {
      logger.warn('No result for the browser tab in time; sent the fallback page', { holdMs });
      respond(options.fallbackPage);
    }, holdMs);
    holdTimer.unref?.();

    settle?.resolve(url);
    settle = null;
  }

  if (options.signal?.aborted) {
    throw options.signal.reason;
  }

  // RFC 8252 section 7.3: loopback IP literal, any port; "localhost" may resolve elsewhere (section 8.3).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://127.0.0.1:${port}${options.path}`;

  options.signal?.addEventListener('abort', onAbort, { once: true });
  waitTimer = setTimeout(() => {
    logger.warn('The browser did not come back in time; closing the redirect listener', {
      timeoutMs: options.timeoutMs,
    });
    fail(new RedirectTimeoutError(options.timeoutMs));
    close();
  }, options.timeoutMs);
  waitTimer.unref?.();

  logger.info('Listening for the browser redirect', { port, path: options.path });
  return { redirectUri, redirect, respond, close };
}
