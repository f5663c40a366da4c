import { isIPv4, isIPv6 } from 'node:net';

import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

import { MAX_PHONE_EXTENSION_DIGITS, type DialLink } from '../shared/desktop';
import type { Logger } from './logger';

/** URL schemes the app registers with the OS and accepts from it. */
export const DIAL_LINK_SCHEMES = ['tel', 'sip', 'callto'] as const;

/** Links longer than this are rejected before parsing; real ones are under 100 characters. */
export const MAX_DIAL_LINK_LENGTH = 512;

/** Characters of a link quoted in an error message. */
const MAX_QUOTED_LENGTH = 80;

const DIAL_LINK_PREFIX = /^(?:tel|sip|callto):/i;

// Control characters and text direction marks could disguise a link when shown.
const UNSAFE_TO_SHOW = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The part of Electron's `app` that registers URL scheme handlers. */
export interface ProtocolClientApp {
  isDefaultProtocolClient(protocol: string): boolean;
  /** The name of the app handling `url`'s scheme, or an empty string when none does. */
  getApplicationNameForProtocol(url: string): string;
  setAsDefaultProtocolClient(protocol: string): boolean;
}

/**
 * Makes the app the handler of each dial-link scheme that no other app handles.
 * A scheme another app owns (FaceTime or Teams for `tel:`, say) is left alone,
 * because taking it silently would override the user's choice. The packaged
 * app still declares all three schemes, so the OS offers it as a choice.
 */
export function claimFreeDialLinkSchemes(app: ProtocolClientApp, logger: Logger): void {
  for (const scheme of DIAL_LINK_SCHEMES) {
    if (app.isDefaultProtocolClient(scheme)) {
      continue;
    }

    const owner = app.getApplicationNameForProtocol(`${scheme}:`);
    if (owner !== '') {
      logger.info('Another app handles this link scheme; leaving it', { scheme, owner });
      continue;
    }

    const registered = app.setAsDefaultProtocolClient(scheme);
    if (registered) {
      logger.info('Registered as the handler of a link scheme', { scheme });
    } else {
      logger.warn('Could not register as the handler of a link scheme', { scheme });
    }
  }
}

/** Returns the first command-line argument that is a `tel:`, `sip:` or `callto:` link, or null. */
export function findDialLinkInArgv(argv: readonly string[]): string | null {
  return argv.slice(1).find((argument) => DIAL_LINK_PREFIX.test(argument)) ?? null;
}

/**
 * Parses a link the OS handed over. Phone numbers (`tel:`, RFC 3966, and
 * `callto:`) must be valid numbers by libphonenumber's full metadata and come
 * out in E.164. A `sip:` URI (RFC 3261 section 19.1) must name a user and a
 * host, and comes out as `sip:user@host[:port]` without parameters or headers,
 * so a link cannot add headers to the INVITE. A phone number's `ext=` digits
 * come out in `extension`. Everything else is invalid.
 *
 * @param defaultCountry ISO 3166-1 code used for numbers without a country code, or null.
 */
export function parseDialLink(link: string, defaultCountry: string | null): DialLink {
  if (link.length > MAX_DIAL_LINK_LENGTH) {
    return invalid(link, `is longer than ${MAX_DIAL_LINK_LENGTH} characters`);
  }
  if (link.includes(' ') || UNSAFE_TO_SHOW.test(link)) {
    return invalid(link, 'contains spaces, control characters or text direction marks');
  }

  const colon = link.indexOf(':');
  const scheme = colon === -1 ? '' : link.slice(0, colon).toLowerCase();
  const body = link.slice(colon + 1);

  switch (scheme) {
    case 'tel':
    case 'callto':
      return parseTelephoneLink(link, body, defaultCountry);
    case 'sip':
      return parseSipLink(link, body);
    default:
      return invalid(link, 'is not a tel:, sip: or callto: link');
  }
}

/** Visual separators of RFC 3966 plus the spaces that `callto:` links carry as `%20`. */
const PHONE_NUMBER_TEXT = /^\+?[\s(]*[0-9][0-9\s().\-\u00a0]*$/;

function parseTelephoneLink(link: string, body: string, defaultCountry: string | null): DialLink {
  // `callto://+1…` and `tel://+1…` appear in the wild; RFC 3966 has no slashes.
  const withoutSlashes = body.startsWith('//') ? body.slice(2) : body;
  const [numberPart = '', ...parameters] = withoutSlashes.split('?')[0]!.split(';');

  let number = decodeComponent(numberPart);
  if (number === null || !PHONE_NUMBER_TEXT.test(number)) {
    return invalid(link, 'is not a phone number');
  }

  // RFC 3966 section 5.1.5: a local number carries its context. A context that
  // starts with "+" is the global number prefix of the local number.
  const context = parameters.map(decodeComponent).find((parameter) => parameter?.toLowerCase().startsWith('phone-context='));
  const contextValue = context?.slice('phone-context='.length) ?? '';
  if (!number.startsWith('+') && PHONE_NUMBER_TEXT.test(contextValue) && contextValue.startsWith('+')) {
    number = `${contextValue}${number}`;
  }

  const country = defaultCountry !== null && isSupportedCountry(defaultCountry) ? (defaultCountry as CountryCode) : undefined;
  if (!number.startsWith('+') && country === undefined) {
    return invalid(link, 'has no country code; links must give numbers as +<country code><number>');
  }

  const extension = parseExtension(parameters);
  if (extension === INVALID_EXTENSION) {
    return invalid(link, 'has an extension (ext=) that is not 1 to 15 digits');
  }

  const phoneNumber = parsePhoneNumberFromString(number, { defaultCountry: country });
  if (phoneNumber === undefined || !phoneNumber.isValid()) {
    return invalid(link, 'is not a valid phone number');
  }

  const valid: DialLink = { status: 'valid', target: phoneNumber.number, display: phoneNumber.formatInternational() };
  return extension === null ? valid : { ...valid, extension };
}

const INVALID_EXTENSION = Symbol('invalid extension');
/** RFC 3966 `extension`: phone digits with visual separators, which are dropped. */
const EXTENSION_TEXT = /^[0-9][0-9().-]*$/;

/**
 * Returns the digits of the `ext=` parameter, null when there is none, or
 * `INVALID_EXTENSION` when it is empty, too long, not digits or given twice.
 */
function parseExtension(parameters: readonly string[]): string | null | typeof INVALID_EXTENSION {
  const values = parameters
    .filter((parameter) => parameter.toLowerCase().startsWith('ext='))
    .map((parameter) => decodeComponent(parameter.slice('ext='.length)));
  if (values.length === 0) return null;

  const [value] = values;
  if (values.length > 1 || value === null || value === undefined || !EXTENSION_TEXT.test(value)) return INVALID_EXTENSION;

  const digits = value.replace(/[().-]/g, '');
  return digits.length <= MAX_PHONE_EXTENSION_DIGITS ? digits : INVALID_EXTENSION;
}

// RFC 3261 section 25.1 `user`: unreserved, escaped and user-unreserved
// characters, minus ";", "?" and "/", which this parser does not accept in a user.
const SIP_USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})+$/;
// RFC 3261 `hostname`: dot-separated labels, the last one starting with a letter.
const SIP_HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;
const MAX_SIP_USER_LENGTH = 256;
const MAX_HOSTNAME_LENGTH = 253;

function parseSipLink(link: string, body: string): DialLink {
  // Parameters (`;transport=tls`) and headers (`?subject=…`) are not dialed.
  const address = body.split(/[;?]/, 1)[0]!;
  const parts = address.split('@');
  if (parts.length !== 2) {
    return invalid(link, 'is not a SIP address of the form sip:user@host');
  }

  const [user, hostPort] = parts as [string, string];
  if (user.includes(':')) {
    return invalid(link, 'contains a password');
  }
  if (user.length > MAX_SIP_USER_LENGTH || !SIP_USER.test(user)) {
    return invalid(link, 'has an invalid user part');
  }

  const host = parseHostPort(hostPort);
  if (host === null) {
    return invalid(link, 'has an invalid host');
  }

  const target = `sip:${user}@${host}`;
  return { status: 'valid', target, display: target.slice('sip:'.length) };
}

/** Returns `host[:port]` with the host in lower case, or null when it is not valid. */
function parseHostPort(hostPort: string): string | null {
  const match = /^(\[[^\]]*\]|[^:]*)(?::([0-9]{1,5}))?$/.exec(hostPort);
  if (match === null) {
    return null;
  }

  const [, host = '', port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
    return null;
  }

  const validHost = host.startsWith('[')
    ? isIPv6(host.slice(1, -1))
    : isIPv4(host) || (host.length <= MAX_HOSTNAME_LENGTH && SIP_HOSTNAME.test(host));
  if (!validHost) {
    return null;
  }
  return port === undefined ? host.toLowerCase() : `${host.toLowerCase()}:${port}`;
}

function decodeComponent(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function invalid(link: string, problem: string): DialLink {
  return { status: 'invalid', message: `Not dialed: the link "${quoteLink(link)}" ${problem}.` };
}


function quoteLink(link: string): string {
  const safe = link.replace(new RegExp(UNSAFE_TO_SHOW.source, 'g'), '\ufffd');
  return safe.length > MAX_QUOTED_LENGTH ? `${safe.slice(0, MAX_QUOTED_LENGTH)}…` : safe;
}
