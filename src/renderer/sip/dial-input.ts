import { findPhoneNumbersInText } from 'libphonenumber-js/min';

import { toAsciiDigits, type DialingContext } from './dial-target';

/** Keys of the dial pad; typing them anywhere in the window adds them to the number. */
export const DIAL_PAD_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

export function isDialPadKey(key: string): boolean {
  return (DIAL_PAD_KEYS as readonly string[]).includes(key) || key === '+';
}

// Zero-width spaces and joiners, bidirectional marks, soft hyphens and the BOM
// that web pages and chat apps put around copied phone numbers.
const INVISIBLE_CHARACTERS = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const UNICODE_DASHES = /[\u2010-\u2015\u2212]/g;
const DIAL_SCHEMES = /^(?:tel|callto):/i;
const SIP_SCHEME = /^sips?:/i;
/** Digits, `+*#`, separators and extension markers: text that needs no extraction. */
const DIALABLE_TEXT = /^[0-9+*#\s().\-/]*(?:(?:;ext=|ext\.?|extension|x)\s*[0-9]+)?$/i;

/**
 * Cleans text pasted into the number field: removes invisible characters,
 * turns Unicode digits (full-width, Arabic-Indic, Devanagari...) and Unicode
 * dashes into ASCII, drops `tel:` and `callto:`, and takes the phone number out
 * of surrounding words ("Call me at 650-555-0100") when the text contains
 * exactly one. SIP URIs keep their digits.
 * Text with no or several numbers is returned cleaned, so parsing reports it.
 */
export function cleanPastedNumber(text: string, context: DialingContext): string {
  const normalized = text
    .normalize('NFKC')
    .replace(INVISIBLE_CHARACTERS, '')
    .replace(UNICODE_DASHES, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(DIAL_SCHEMES, '');
  if (SIP_SCHEME.test(normalized)) return normalized;

  const cleaned = toAsciiDigits(normalized);
  if (DIALABLE_TEXT.test(cleaned)) return cleaned;

  const found = findPhoneNumbersInText(cleaned, {
    defaultCountry: context.defaultCountry ?? undefined,
    defaultCallingCode: context.defaultCountry === null ? (context.defaultCallingCode ?? undefined) : undefined,
  });
  const only = found.length === 1 ? found[0] : undefined;
  return only === undefined ? cleaned : cleaned.slice(only.startsAt, only.endsAt);
}
