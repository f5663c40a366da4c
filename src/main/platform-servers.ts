import type { PublicSettings } from '../shared/app-state';

/** Base URLs of RingCentral's public platforms. */
export const PLATFORM_BASE_URLS = {
  production: 'https://platform.ringcentral.com',
  sandbox: 'https://platform.devtest.ringcentral.com',
} as const;

/** A custom server URL that is not an absolute http(s) URL without credentials, query or fragment. */
export class InvalidServerUrlError extends Error {
  override readonly name = 'InvalidServerUrlError';

  constructor(
    readonly value: string,
    readonly reason: string,
  ) {
    super(
      `Invalid custom server URL "${displayedUrl(value)}": ${reason}. ` +
        'Enter a URL such as https://platform.example.com or http://127.0.0.1:8080.',
    );
  }
}

/** Maximum length of a rejected URL repeated in a message. */
const MAX_DISPLAYED_URL_LENGTH = 120;

/** Masks the user name and password of a URL and cuts long values, for messages. */
function displayedUrl(value: string): string {
  const masked = value.replace(/\/\/[^/@\s]*@/, '//***@');
  return masked.length > MAX_DISPLAYED_URL_LENGTH ? `${masked.slice(0, MAX_DISPLAYED_URL_LENGTH)}…` : masked;
}

/** Tells whether plain http may reach `hostname`: only loopback hosts, where tokens never cross a network. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Parses a custom platform base URL and returns it without a trailing slash.
 * Throws `InvalidServerUrlError` for anything but an absolute https URL, or an
 * http URL of a loopback host.
 * A path prefix is kept, so a platform behind a reverse-proxy path works.
 */
export function normalizeCustomServerUrl(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') {
    throw new InvalidServerUrlError(value, 'it is empty');
  }

  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new InvalidServerUrlError(value, 'it is not an absolute URL');
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidServerUrlError(value, `the scheme must be http or https, not ${url.protocol.replace(':', '')}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new InvalidServerUrlError(
      value,
      'plain http is allowed only for this computer (127.0.0.1 or localhost) because tokens would cross the network unencrypted; use https',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidServerUrlError(value, 'it must not contain a user name or password');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidServerUrlError(value, 'it must not contain a query or fragment');
  }

  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** Returns the platform base URL selected by the settings, without a trailing slash. */
export function resolvePlatformBaseUrl(settings: Pick<PublicSettings, 'server' | 'customServerUrl'>): string {
  switch (settings.server) {
    case 'production':
      return PLATFORM_BASE_URLS.production;
    case 'sandbox':
      return PLATFORM_BASE_URLS.sandbox;
    case 'custom':
      return normalizeCustomServerUrl(settings.customServerUrl);
  }
}
