import { describe, expect, it } from 'vitest';

import { cleanPastedNumber, isDialPadKey } from '../../src/renderer/sip/dial-input';
import {
  formatDialString,
  InvalidDialTargetError,
  NO_DIALING_CONTEXT,
  parseDialTarget,
  resolveDialingContext,
  toAsciiDigits,
  withExtension,
  type DialingContext,
} from '../../src/renderer/sip/dial-target';

const DOMAIN = 'sip.bench.test';
const US: DialingContext = { defaultCountry: 'US', defaultCallingCode: null };
const GB: DialingContext = { defaultCountry: 'GB', defaultCallingCode: null };

describe('parseDialTarget', () => {
  it.each([
    ['+1 (650) 555-0100', US, 'sip:+16505550100@sip.bench.test', '(650) 555-0100', '+16505550100'],
    ['650.555.0100', US, 'sip:+16505550100@sip.bench.test', '(650) 555-0100', '+16505550100'],
    ['  16505550100  ', US, 'sip:+16505550100@sip.bench.test', '(650) 555-0100', '+16505550100'],
    ['tel:+16505550100', US, 'sip:+16505550100@sip.bench.test', '(650) 555-0100', '+16505550100'],
    ['020 7183 8750', GB, 'sip:+442071838750@sip.bench.test', '020 7183 8750', '+442071838750'],
    ['+44 20 7183 8750', US, 'sip:+442071838750@sip.bench.test', '+44 20 7183 8750', '+442071838750'],
    ['6505550100', { defaultCountry: null, defaultCallingCode: '1' }, 'sip:+16505550100@sip.bench.test', '(650) 555-0100', '+16505550100'],
  ])('dials phone number %j in E.164', (input, context, uri, display, dialString) => {
    const target = parseDialTarget(input, DOMAIN, context);

    expect(target.kind).toBe('phone-number');
    expect(target.uri).toBe(uri);
    expect(target.display).toBe(display);
    expect(target.dialString).toBe(dialString);
    expect(target.extension).toBeNull();
  });

  it('keeps the extension after a phone number out of the request-URI', () => {
    const target = parseDialTarget('+1 650 555 0100 ext. 12', DOMAIN, US);

    expect(target.uri).toBe('sip:+16505550100@sip.bench.test');
    expect(target.extension).toBe('12');
  });

  it.each(['x', ' x', ' ext ', ' ext. ', ' extension ', '#'])('reads a typed 15-digit extension after %j', (marker) => {
    const target = parseDialTarget(`+1 650 555 0100${marker}123456789012345`, DOMAIN, US);

    expect(target.uri).toBe('sip:+16505550100@sip.bench.test');
    expect(target.extension).toBe('123456789012345');
  });

  it('reads a dial link extension of up to 15 digits', () => {
    const target = parseDialTarget('+16505550100;ext=123456789012345', DOMAIN, US);

    expect(target.uri).toBe('sip:+16505550100@sip.bench.test');
    expect(target.extension).toBe('123456789012345');
    expect(() => parseDialTarget('+16505550100;ext=1234567890123456', DOMAIN, US)).toThrow(InvalidDialTargetError);
  });

  it.each([
    ['101', 'extension', 'sip:101@sip.bench.test', '101'],
    ['12345678', 'extension', 'sip:12345678@sip.bench.test', '12345678'],
    ['911', 'extension', 'sip:911@sip.bench.test', '911'],
    ['*67', 'feature-code', 'sip:*67@sip.bench.test', '*67'],
    ['#31#', 'feature-code', 'sip:%2331%23@sip.bench.test', '#31#'],
    ['sip:alice@example.com', 'sip-uri', 'sip:alice@example.com', 'alice@example.com'],
  ])('dials %j as typed', (input, kind, uri, display) => {
    const target = parseDialTarget(input, DOMAIN, US);

    expect(target.kind).toBe(kind);
    expect(target.uri).toBe(uri);
    expect(target.display).toBe(display);
    expect(target.dialString).toBe(input);
  });

  it.each([
    ['Arabic-Indic', '+١ ٦٥٠ ٥٥٥ ٠١٠٠'],
    ['Persian', '۶۵۰-۵۵۵-۰۱۰۰'],
    ['Devanagari', '६५० ५५५ ०१००'],
    ['full-width', '６５０５５５０１００'],
  ])('dials a number typed in %s digits', (_system, input) => {
    const target = parseDialTarget(input, DOMAIN, US);

    expect(target.kind).toBe('phone-number');
    expect(target.uri).toBe('sip:+16505550100@sip.bench.test');
    expect(target.dialString).toBe('+16505550100');
  });

  it('dials an extension typed in Arabic-Indic digits', () => {
    const target = parseDialTarget('١٠١', DOMAIN, US);

    expect(target.kind).toBe('extension');
    expect(target.uri).toBe('sip:101@sip.bench.test');
  });

  it('keeps the typed digits in the error message', () => {
    expect(() => parseDialTarget('٦٥٠٥٥٥٠١٠٠٠٠٠٠٠', DOMAIN, US)).toThrow('"٦٥٠٥٥٥٠١٠٠٠٠٠٠٠"');
  });

  it('dials extensions without any dialing context', () => {
    expect(parseDialTarget('101', DOMAIN).uri).toBe('sip:101@sip.bench.test');
  });

  it.each([
    ['', 'empty', /Enter a phone number/],
    ['   ', 'empty', /Enter a phone number/],
    ['hello', 'not-a-number', /is not a phone number/],
    ['12ab', 'not-a-number', /is not a phone number/],
    ['+', 'not-a-number', /is not a phone number/],
    ['<script>', 'not-a-number', /is not a phone number/],
    ['650*555', 'not-a-number', /is not a phone number/],
    ['+1 555 000 0102', 'invalid-number', /"\+1 555 000 0102" is not a valid phone number\. Check/],
    ['555 000 0102', 'invalid-number', /not a valid phone number in United States/],
    ['1'.repeat(33), 'invalid-number', /not a valid phone number/],
    ['sip:nohost', 'invalid-sip-uri', /not a valid SIP address/],
    ['sip:a b@c', 'invalid-sip-uri', /not a valid SIP address/],
  ])('rejects %j with a typed error', (input, reason, message) => {
    const error = catchError(() => parseDialTarget(input, DOMAIN, US));

    expect(error).toBeInstanceOf(InvalidDialTargetError);
    expect((error as InvalidDialTargetError).reason).toBe(reason);
    expect((error as Error).message).toMatch(message);
  });

  it('asks for the country code when the country is unknown', () => {
    const error = catchError(() => parseDialTarget('650 555 0100', DOMAIN, NO_DIALING_CONTEXT));

    expect((error as InvalidDialTargetError).reason).toBe('missing-country');
    expect((error as Error).message).toMatch(/no country code/);
  });
});

describe('resolveDialingContext', () => {
  it('prefers the country setting', () => {
    expect(resolveDialingContext({ preferredCountry: 'gb', userNumber: '16505550100', locale: 'en-US' })).toEqual(GB);
  });

  it('takes the country of the user number', () => {
    expect(resolveDialingContext({ preferredCountry: null, userNumber: '442071838750*101', locale: 'en-US' })).toEqual(GB);
  });

  it('falls back to the calling code of the user number', () => {
    expect(resolveDialingContext({ preferredCountry: null, userNumber: '15550000001', locale: null })).toEqual({
      defaultCountry: null,
      defaultCallingCode: '1',
    });
  });

  it('ignores an unsupported setting and uses the locale region', () => {
    expect(resolveDialingContext({ preferredCountry: 'ZZ', userNumber: null, locale: 'de-DE' })).toEqual({
      defaultCountry: 'DE',
      defaultCallingCode: null,
    });
  });

  it('returns no context when nothing names a country', () => {
    expect(resolveDialingContext({ preferredCountry: null, userNumber: null, locale: 'en' })).toEqual(NO_DIALING_CONTEXT);
  });
});

describe('formatDialString', () => {
  it.each([
    ['+16505550100', US, '(650) 555-0100'],
    ['+442071838750', US, '+44 20 7183 8750'],
    ['101', US, '101'],
    ['*67', US, '*67'],
    ['sip:alice@example.com', US, 'alice@example.com'],
    ['+15550000002', US, '+15550000002'],
  ])('formats %j', (dialString, context, display) => {
    expect(formatDialString(dialString, context)).toBe(display);
  });
});

describe('cleanPastedNumber', () => {
  it.each([
    ['\u202a+1 (650) 555\u20110100\u202c', '+1 (650) 555-0100'],
    ['\uff16\uff15\uff10 555 0100', '650 555 0100'],
    ['tel:+16505550100', '+16505550100'],
    ['  +1 650\u00a0555\u00a00100 ', '+1 650 555 0100'],
    ['Call me at 650-555-0100 after lunch', '650-555-0100'],
    ['+1 650 555 0100 ext. 12', '+1 650 555 0100 ext. 12'],
    ['sip:alice@example.com', 'sip:alice@example.com'],
    ['*67', '*67'],
    ['no number here', 'no number here'],
  ])('cleans %j', (pasted, cleaned) => {
    expect(cleanPastedNumber(pasted, US)).toBe(cleaned);
  });

  it('turns pasted Arabic-Indic digits into ASCII', () => {
    expect(cleanPastedNumber('اتصل بي على ٦٥٠-٥٥٥-٠١٠٠', US)).toBe('650-555-0100');
    expect(cleanPastedNumber('\u200f+١ ٦٥٠ ٥٥٥ ٠١٠٠', US)).toBe('+1 650 555 0100');
  });

  it('keeps the digits of a pasted SIP URI', () => {
    expect(cleanPastedNumber('sip:٦٥٠@example.com', US)).toBe('sip:٦٥٠@example.com');
  });

  it('leaves text with two numbers for the parser to reject', () => {
    const pasted = '650-555-0100 or 650-555-0101';

    expect(cleanPastedNumber(pasted, US)).toBe(pasted);
  });
});

/** Reads each decimal digit (category Nd) of the runtime's ICU numbering systems with its value, as Intl.NumberFormat writes them. */
function icuDigitValues(): Map<string, string> {
  const values = new Map<string, string>();
  for (const numberingSystem of Intl.supportedValuesOf('numberingSystem')) {
    const format = new Intl.NumberFormat(`en-u-nu-${numberingSystem}`, { useGrouping: false });
    // Algorithmic systems such as Roman numerals fall back to another system.
    if (format.resolvedOptions().numberingSystem !== numberingSystem) continue;

    for (let value = 0; value <= 9; value += 1) {
      const digit = format.format(value);
      // Systems such as hanidec use letter-like numerals (category Nl), which are not decimal digits.
      if ([...digit].length === 1 && /^\p{Nd}$/u.test(digit)) values.set(digit, String(value));
    }
  }
  return values;
}

describe('toAsciiDigits', () => {
  it('reads every ICU decimal digit', () => {
    const values = icuDigitValues();
    expect(values.size).toBeGreaterThan(500);
    for (const [digit, value] of values) {
      expect(toAsciiDigits(digit), `U+${digit.codePointAt(0)!.toString(16)}`).toBe(value);
    }
  });

  it('reads adjacent runs of digits', () => {
    // Mathematical bold, double-struck, sans-serif, sans-serif bold and monospace digits follow each other.
    expect(toAsciiDigits('\u{1D7CE}\u{1D7D7}\u{1D7D8}\u{1D7FF}')).toBe('0909');
  });

  it('keeps other characters', () => {
    expect(toAsciiDigits('+1 (٦٥٠) 555-०१००; ext=x')).toBe('+1 (650) 555-0100; ext=x');
  });
});

describe('isDialPadKey', () => {
  it.each(['0', '9', '*', '#', '+'])('accepts %j', (key) => {
    expect(isDialPadKey(key)).toBe(true);
  });

  it.each(['a', 'Enter', ' ', '10'])('ignores %j', (key) => {
    expect(isDialPadKey(key)).toBe(false);
  });
});

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but none was thrown');
}

describe('withExtension', () => {
  it('appends an extension the parser reads back', () => {
    const dialString = withExtension('+16505550102', '42');

    expect(dialString).toBe('+16505550102;ext=42');
    expect(parseDialTarget(dialString, DOMAIN, NO_DIALING_CONTEXT)).toMatchObject({ dialString: '+16505550102', extension: '42' });
  });

  it.each([null, undefined, ''])('leaves the number alone for %j', (extension) => {
    expect(withExtension('+16505550102', extension)).toBe('+16505550102');
  });
});
