import * as oauth from 'oauth4webapi';

import type { SignedInUser } from '../shared/app-state';
import type { UserFacingError } from '../shared/errors';
import { type AuthorizationCodeGrant, TOKEN_PATH } from './auth-session';
import type { Logger } from './logger';
import {
  type RedirectPage,
  RedirectListenerClosedError,
  RedirectTimeoutError,
  startLoopbackRedirectListener,
} from './loopback-redirect';

export const AUTHORIZE_PATH = '/restapi/oauth/authorize';
/** Path of the loopback redirect URI, `http://127.0.0.1:<port>/oauth/callback`. */
export const REDIRECT_PATH = '/oauth/callback';
/** Time the user has to finish the sign-in in the browser, password and second factor included. */
export const DEFAULT_BROWSER_SIGN_IN_TIMEOUT_MS = 5 * 60_000;

/** Reason a browser sign-in ended before the app received an authorization code. */
export type BrowserSignInFailure =
  | 'timeout'
  | 'cancelled'
  | 'state-mismatch'
  | 'access-denied'
  | 'authorization-error'
  | 'invalid-redirect'
  | 'browser-not-opened'
  | 'listener-failed';

/** The browser part of the sign-in failed; `userError` is what the UI shows. */
export class BrowserSignInError extends Error {
  override readonly name = 'BrowserSignInError';
  readonly userError: UserFacingError;

  constructor(
    readonly reason: BrowserSignInFailure,
    /** The value behind the failure: a timeout, an OAuth error code, a system error message. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    const userError = describeBrowserSignInFailure(reason, detail);
    super(`${userError.message} ${userError.action}`, options);
    this.userError = userError;
  }
}

/** The result of the sign-in as shown in the browser tab. */
export type BrowserSignInOutcome = { ok: true; user: SignedInUser } | { ok: false; error: UserFacingError };

export interface BrowserAuthorizationOptions {
  /** Platform base URL without a trailing slash. */
  baseUrl: string;
  clientId: string;
  /** Opens a URL in the system browser (Electron's `shell.openExternal`). */
  openExternal: (url: string) => Promise<void>;
  /** Milliseconds to wait for the browser to come back. */
  timeoutMs: number;
  /** Aborting stops the wait and closes the listener; the promise rejects with a `cancelled` failure. */
  signal: AbortSignal;
  /** App name shown on the page the browser tab ends on, for example "RC Softphone". */
  productName: string;
  logger: Logger;
}

/** An authorization code received from the browser, ready for the token exchange. */
export interface BrowserAuthorization {
  grant: AuthorizationCodeGrant;
  /** Shows `outcome` in the browser tab and closes the redirect listener. */
  finish(outcome: BrowserSignInOutcome): void;
}

/**
 * Runs the browser part of the OAuth 2.0 authorization code flow with PKCE
 * (RFC 7636, S256) for a native app (RFC 8252). It opens the authorize page in the
 * system browser with a loopback redirect URI, waits for the redirect, and checks
 * `state` and the OAuth error parameters. oauth4webapi creates the verifier,
 * challenge and state and validates the redirect. The caller exchanges the code
 * (`AuthSession.signInWithGrant`), so the exchange shares the token endpoint's
 * 429 handling and error mapping with the other grants. Throws `BrowserSignInError`.
 */
export async function authorizeInBrowser(options: BrowserAuthorizationOptions): Promise<BrowserAuthorization> {
  const { logger, signal } = options;
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();

  const pages = createPages(options.productName);
  let listener;
  try {
    listener = await startLoopbackRedirectListener({
      path: REDIRECT_PATH,
      timeoutMs: options.timeoutMs,
      signal,
      fallbackPage: pages.fallback,
      logger,
    });
  } catch (error) {
    if (signal.aborted) {
      throw cancelled(error);
    }
    throw new BrowserSignInError('listener-failed', errorMessage(error), { cause: error });
  }

  try {
    const authorizeUrl = new URL(`${options.baseUrl}${AUTHORIZE_PATH}`);
    authorizeUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: options.clientId,
      redirect_uri: listener.redirectUri,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();

    const callbackUrl = await openAndWaitForRedirect(options, authorizeUrl.href, listener.redirect);
    const code = validateRedirect(options, callbackUrl, state);

    logger.info('Received an authorization code from the browser', { codeLength: code.length });
    return {
      grant: { grant_type: 'authorization_code', code, redirect_uri: listener.redirectUri, code_verifier: codeVerifier },
      finish(outcome) {
        listener.respond(outcome.ok ? pages.signedIn(outcome.user) : pages.failed(outcome.error));
        listener.close();
      },
    };
  } catch (error) {
    const failure = toBrowserSignInError(error, signal, options.timeoutMs);
    logger.warn('Browser sign-in failed', { reason: failure.reason, detail: failure.detail });
    listener.respond(pages.failed(failure.userError));
    listener.close();
    throw failure;
  }
}

/**
 * Opens the authorize page and resolves with the redirect URL. The redirect may
 * arrive before `openExternal` settles, so the two run side by side.
 */
async function openAndWaitForRedirect(
  options: BrowserAuthorizationOptions,
  authorizeUrl: string,
  redirect: Promise<URL>,
): Promise<URL> {
  const opening = options.openExternal(authorizeUrl).then(
    () => redirect,
    (error: unknown) => {
      throw new BrowserSignInError('browser-not-opened', errorMessage(error), { cause: error });
    },
  );
  // The redirect may win while `opening` still fails later; that failure no longer matters.
  opening.catch(() => undefined);

  options.logger.info('Opened the authorize page in the system browser', { authorizePath: AUTHORIZE_PATH });
  return Promise.race([redirect, opening]);
}

/** Checks the redirect with oauth4webapi (state, iss, error) and returns the authorization code. */
function validateRedirect(options: BrowserAuthorizationOptions, callbackUrl: URL, expectedState: string): string {
  const authorizationServer: oauth.AuthorizationServer = {
    issuer: options.baseUrl,
    authorization_endpoint: `${options.baseUrl}${AUTHORIZE_PATH}`,
    token_endpoint: `${options.baseUrl}${TOKEN_PATH}`,
  };
  const client: oauth.Client = { client_id: options.clientId };

  let parameters: URLSearchParams;
  try {
    parameters = oauth.validateAuthResponse(authorizationServer, client, callbackUrl, expectedState);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      const description = error.error_description ? `: ${error.error_description}` : '';
      const reason = error.error === 'access_denied' ? 'access-denied' : 'authorization-error';
      throw new BrowserSignInError(reason, `${error.error}${description}`);
    }
    // RFC 6749 section 10.12: a redirect whose state differs from the one sent may
    // be forged (CSRF), so none of its other parameters is used.
    if (callbackUrl.searchParams.get('state') !== expectedState) {
      throw new BrowserSignInError('state-mismatch', 'the state parameter does not match');
    }
    throw new BrowserSignInError('invalid-redirect', errorMessage(error));
  }

  const code = parameters.get('code');
  if (code === null || code === '') {
    throw new BrowserSignInError('invalid-redirect', 'the redirect has no code parameter');
  }
  return code;
}

function toBrowserSignInError(error: unknown, signal: AbortSignal, timeoutMs: number): BrowserSignInError {
  if (error instanceof BrowserSignInError) {
    return error;
  }
  if (error instanceof RedirectTimeoutError) {
    return new BrowserSignInError('timeout', formatDuration(timeoutMs), { cause: error });
  }
  if (signal.aborted || error instanceof RedirectListenerClosedError) {
    return cancelled(error);
  }
  return new BrowserSignInError('invalid-redirect', errorMessage(error), { cause: error });
}

function cancelled(cause: unknown): BrowserSignInError {
  if (cause instanceof BrowserSignInError) {
    return cause;
  }
  return new BrowserSignInError('cancelled', 'the sign-in was cancelled in the app', { cause });
}

function describeBrowserSignInFailure(reason: BrowserSignInFailure, detail: string): UserFacingError {
  switch (reason) {
    case 'timeout':
      return {
        code: 'BROWSER_SIGN_IN_TIMEOUT',
        message: `The browser did not return to the app within ${detail}, so the sign-in was stopped.`,
        action: 'Click "Sign in with browser" again and finish the sign-in in the browser tab that opens.',
      };
    case 'cancelled':
      return {
        code: 'SIGN_IN_CANCELLED',
        message: 'The browser sign-in was cancelled.',
        action: 'Sign in again when you are ready.',
      };
    case 'state-mismatch':
      return {
        code: 'OAUTH_STATE_MISMATCH',
        message:
          'The browser returned a sign-in answer that does not belong to the sign-in this app started ' +
          '(the OAuth state value did not match), so the app rejected it.',
        action: 'Close other RingCentral sign-in tabs, then click "Sign in with browser" again.',
      };
    case 'access-denied':
      return {
        code: 'access_denied',
        message: `Access was denied on the RingCentral sign-in page (${detail}).`,
        action:
          'Sign in again and allow the app access. If your account may not use this app, ask your RingCentral administrator.',
      };
    case 'authorization-error':
      return {
        code: detail.split(':')[0] ?? 'authorization_error',
        message: `The RingCentral sign-in page returned an error (${detail}).`,
        action:
          'Check the server and client id in the settings. The RingCentral app must allow the Authorization Code ' +
          'flow with PKCE and list http://127.0.0.1 as a redirect URI.',
      };
    case 'invalid-redirect':
      return {
        code: 'INVALID_REDIRECT',
        message: `The browser came back to the app without a usable authorization code (${detail}).`,
        action: 'Click "Sign in with browser" again.',
      };
    case 'browser-not-opened':
      return {
        code: 'BROWSER_NOT_OPENED',
        message: `The app could not open the system browser (${detail}).`,
        action: 'Set a default web browser in the system settings and try again, or sign in with a JWT credential.',
      };
    case 'listener-failed':
      return {
        code: 'REDIRECT_LISTENER_FAILED',
        message: `The app could not listen on 127.0.0.1 for the browser's answer (${detail}).`,
        action: 'Check that firewall or security software lets the app listen on 127.0.0.1, then try again.',
      };
  }
}

function createPages(productName: string) {
  return {
    signedIn: (user: SignedInUser): RedirectPage => ({
      status: 200,
      html: renderPage(`Signed in to ${productName}`, [
        user.extensionNumber === ''
          ? `You are signed in as ${user.name}.`
          : `You are signed in as ${user.name} (extension ${user.extensionNumber}).`,
        `You can close this tab and return to ${productName}.`,
      ]),
    }),
    failed: (error: UserFacingError): RedirectPage => ({
      status: 400,
      html: renderPage(`Sign-in to ${productName} did not finish`, [
        error.message,
        error.action,
        `You can close this tab and return to ${productName}.`,
      ]),
    }),
    fallback: {
      status: 200,
      html: renderPage(`${productName} received the sign-in answer`, [
        `Return to ${productName} to see whether the sign-in succeeded. You can close this tab.`,
      ]),
    },
  };
}

function renderPage(title: string, paragraphs: string[]): string {
  const body = paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('');
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<title>${escapeHtml(title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>' +
    `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function formatDuration(ms: number): string {
  const minutes = ms / 60_000;
  if (Number.isInteger(minutes)) {
    return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  }
  const seconds = Math.round(ms / 1000);
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
