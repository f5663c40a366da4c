import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/min';

import { MAX_PHONE_EXTENSION_DIGITS } from '../../shared/desktop';

/**
 * Default country for numbers typed without a country code: from the dialing
 * setting or the user's own number. Only the calling code is known when the
 * user's number names no single country.
 */
export interface DialingContext {
  /** ISO 3166-1 alpha-2 code, for example "US". */
  defaultCountry: CountryCode | null;
  /** Country calling code without "+", for example "1"; used when `defaultCountry` is null. */
  defaultCallingCode: string | null;
}

export const NO_DIALING_CONTEXT: DialingContext = { defaultCountry: null, defaultCallingCode: null };

/** Kind of input the user typed, which decides how it is dialed. */
export type DialTargetKind = 'phone-number' | 'extension' | 'feature-code' | 'sip-uri';

export interface DialTarget {
  kind: DialTargetKind;
  /** The request-URI of the INVITE. */
  uri: string;
  /**
   * Remote party as the call screen shows it: national format for numbers of
   * the default country, international format for others, anything else as typed.
   */
  display: string;
  /** Dial string that reaches the same target again: E.164 number, extension, feature code or SIP URI. */
  dialString: string;
  /** Extension after a phone number ("ext. 12", ";ext=12"), dialed as DTMF once the call connects. */
  extension: string | null;
}

export type InvalidDialTargetReason = 'empty' | 'not-a-number' | 'invalid-number' | 'missing-country' | 'invalid-sip-uri';

/** Input that is neither a valid phone number, an extension, a feature code nor a SIP URI. */
export class InvalidDialTargetError extends Error {
  override readonly name = 'InvalidDialTargetError';

  constructor(
    readonly input: string,
    readonly reason: InvalidDialTargetReason,
    context: DialingContext = NO_DIALING_CONTEXT,
  ) {
    super(describeInvalidInput(input.trim(), reason, context));
  }
}

/**
 * RingCentral accounts allow extension numbers of up to 8 digits
 * (`maxExtensionNumberLength` in the account limits of the RingCentral API).
 * Digit strings this short that are no valid phone number are dialed as typed:
 * extensions and short codes such as 911 or 988.
 */
export const MAX_EXTENSION_DIGITS = 8;

/** Feature codes such as `*67` or `#31#`; 32 characters is far above any real code. */
const MAX_FEATURE_CODE_LENGTH = 32;

const SEPARATORS = /[\s().\-/\u00a0]/g;
const FEATURE_CODE = /^[*#][0-9*#]*$/;
const DIGITS = /^[0-9]+$/;
/**
 * Digits with an optional `+` and an optional extension (`x12`, `ext. 12`,
 * `;ext=12`, `#12`), separators removed. The number and the extension are read
 * apart, because libphonenumber takes at most 9 digits after `x`.
 */
const PHONE_NUMBER_TEXT = new RegExp(
  `^(\\+?[0-9]+)(?:(?:;ext=|ext|extension|x|#)([0-9]{1,${MAX_PHONE_EXTENSION_DIGITS}}))?$`,
  'i',
);
const SIP_URI = /^sips?:[^@\s<>"]+@[A-Za-z0-9.\-[\]:]+$/i;
const SIP_SCHEME = /^sips?:/i;
const TEL_SCHEME = /^tel:/i;
const DECIMAL_DIGIT = /\p{Nd}/gu;
const ONE_DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * Turns what the user typed into the INVITE's request-URI and the text shown for
 * it. Phone numbers go out in E.164 (`sip:+16505550100@domain`), because
 * RingCentral routes E.164 request-URIs; extensions and feature codes go out as
 * typed; `sip:` URIs are used unchanged. Throws `InvalidDialTargetError`.
 */
export function parseDialTarget(input: string, domain: string, context: DialingContext = NO_DIALING_CONTEXT): DialTarget {
  const trimmed = input.trim();
  if (trimmed === '') throw new InvalidDialTargetError(input, 'empty', context);

  if (SIP_SCHEME.test(trimmed)) {
    if (!SIP_URI.test(trimmed)) throw new InvalidDialTargetError(input, 'invalid-sip-uri', context);
    return { kind: 'sip-uri', uri: trimmed, display: trimmed.replace(SIP_SCHEME, ''), dialString: trimmed, extension: null };
  }

  const text = toAsciiDigits(trimmed).replace(TEL_SCHEME, '');
  const compact = text.replace(SEPARATORS, '');

  if (FEATURE_CODE.test(compact) && compact.length <= MAX_FEATURE_CODE_LENGTH) {
    return { kind: 'feature-code', uri: sipUri(compact, domain), display: compact, dialString: compact, extension: null };
  }

  const parts = PHONE_NUMBER_TEXT.exec(compact);
  if (parts === null) throw new InvalidDialTargetError(input, 'not-a-number', context);
  const [, numberDigits = '', extension = null] = parts;

  const phoneNumber = parsePhoneNumber(numberDigits, context);
  if (phoneNumber?.isValid()) {
    return {
      kind: 'phone-number',
      uri: sipUri(phoneNumber.number, domain),
      display: formatPhoneNumber(phoneNumber, context),
      dialString: phoneNumber.number,
      extension,
    };
  }

  if (DIGITS.test(compact) && compact.length <= MAX_EXTENSION_DIGITS) {
    return { kind: 'extension', uri: sipUri(compact, domain), display: compact, dialString: compact, extension: null };
  }

  const hasCountry = compact.startsWith('+') || context.defaultCountry !== null || context.defaultCallingCode !== null;
  throw new InvalidDialTargetError(input, hasCountry ? 'invalid-number' : 'missing-country', context);
}

/**
 * Replaces each Unicode decimal digit (category Nd), such as Arabic-Indic "٣"
 * or Devanagari "३", with its ASCII digit. Other characters stay as they are.
 */
export function toAsciiDigits(text: string): string {
  return text.replace(DECIMAL_DIGIT, (digit) => String(decimalDigitValue(digit)));
}

/**
 * Returns the dial string of a number followed by its extension, in the
 * `;ext=` form `parseDialTarget` reads, or the number alone when there is none.
 */
export function withExtension(number: string, extension: string | null | undefined): string {
  return extension ? `${number};ext=${extension}` : number;
}

/**
 * Formats a stored dial string (see `DialTarget.dialString`) for display. Input
 * that is not a valid phone number comes back unchanged.
 */
export function formatDialString(dialString: string, context: DialingContext = NO_DIALING_CONTEXT): string {
  if (SIP_SCHEME.test(dialString)) return dialString.replace(SIP_SCHEME, '');

  const compact = dialString.replace(SEPARATORS, '');
  if (!compact.startsWith('+') && compact.length <= MAX_EXTENSION_DIGITS) return dialString;

  const phoneNumber = parsePhoneNumber(dialString, context);
  return phoneNumber?.isValid() ? formatPhoneNumber(phoneNumber, context) : dialString;
}

/**
 * Chooses the country for numbers typed without a country code. The setting
 * wins when it names a supported country. Next comes the country of the user's
 * own number, a RingCentral SIP username such as "16505550100*101". Last comes
 * the region of the UI locale.
 */
export function resolveDialingContext(options: {
  preferredCountry: string | null;
  userNumber: string | null;
  locale: string | null;
}): DialingContext {
  const preferred = options.preferredCountry?.toUpperCase() ?? null;
  if (preferred !== null && isSupportedCountry(preferred)) return { defaultCountry: preferred, defaultCallingCode: null };

  const ownDigits = options.userNumber?.split('*')[0]?.replace(/\D/g, '') ?? '';
  if (ownDigits !== '') {
    const own = parsePhoneNumberFromString(`+${ownDigits}`, { extract: false });
    if (own?.country) return { defaultCountry: own.country, defaultCallingCode: null };
    if (own?.countryCallingCode) return { defaultCountry: null, defaultCallingCode: own.countryCallingCode };
  }

  const region = localeRegion(options.locale);
  if (region !== null && isSupportedCountry(region)) return { defaultCountry: region, defaultCallingCode: null };

  return NO_DIALING_CONTEXT;
}

function parsePhoneNumber(text: string, context: DialingContext): PhoneNumber | undefined {
  return parsePhoneNumberFromString(text, {
    defaultCountry: context.defaultCountry ?? undefined,
    defaultCallingCode: context.defaultCountry === null ? (context.defaultCallingCode ?? undefined) : undefined,
    extract: false,
  });
}

function formatPhoneNumber(phoneNumber: PhoneNumber, context: DialingContext): string {
  const domestic =
    context.defaultCountry !== null
      ? phoneNumber.country === context.defaultCountry
      : context.defaultCallingCode !== null && phoneNumber.countryCallingCode === context.defaultCallingCode;
  return domestic ? phoneNumber.formatNational() : phoneNumber.formatInternational();
}

/** `#` is not allowed unescaped in the user part of a SIP URI (RFC 3261 §25.1), so it is sent as `%23`. */
function sipUri(user: string, domain: string): string {
  return `sip:${user.replaceAll('#', '%23')}@${domain}`;
}

/**
 * Returns the value of a decimal digit. Unicode encodes the decimal digits of
 * each script as a contiguous run of ten, zero first, so the value is the
 * distance from the start of the surrounding Nd characters, modulo 10.
 */
function decimalDigitValue(digit: string): number {
  const codePoint = digit.codePointAt(0)!;
  let start = codePoint;
  while (start > 0 && ONE_DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start -= 1;
  return (codePoint - start) % 10;
}

function localeRegion(locale: string | null): string | null {
  if (locale === null) return null;
  try {
    return new Intl.Locale(locale).region ?? null;
  } catch {
    return null;
  }
}

function countryName(country: CountryCode): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(country) ?? country;
  } catch {
    return country;
  }
}

function describeInvalidInput(input: string, reason: InvalidDialTargetReason, context: DialingContext): string {
  switch (reason) {
    case 'empty':
      return 'Enter a phone number, an extension or a SIP address to call.';
    case 'invalid-sip-uri':
      return `"${input}" is not a valid SIP address. Write it as sip:user@host.`;
    case 'not-a-number':
      return `"${input}" is not a phone number, an extension or a SIP address. Check what you typed.`;
    case 'missing-country':
      return `"${input}" has no country code. Type the number with + and its country code, or choose your country under Dialing in the settings.`;
    case 'invalid-number': {
      const country =
        context.defaultCountry !== null
          ? countryName(context.defaultCountry)
          : context.defaultCallingCode === null
            ? null
            : `+${context.defaultCallingCode}`;
      const where = country === null || input.startsWith('+') ? '' : ` in ${country}`;
      return `"${input}" is not a valid phone number${where}. Check the digits, or type the number with + and its country code.`;
    }
  }
}
