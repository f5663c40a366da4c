import fc from 'fast-check';
import { Grammar } from 'sip.js';
import { describe, expect, it } from 'vitest';

import { cleanPastedNumber } from '../../src/renderer/sip/dial-input';
import {
  formatDialString,
  InvalidDialTargetError,
  MAX_EXTENSION_DIGITS,
  NO_DIALING_CONTEXT,
  parseDialTarget,
  type DialingContext,
  type DialTarget,
} from '../../src/renderer/sip/dial-target';
import { callWithinHangBound, fuzzRuns } from './fuzz-runs';

const RUNS = fuzzRuns();
const DOMAIN = 'sip.bench.test';
const E164 = /^\+[1-9][0-9]{1,14}$/;
const REASONS = ['empty', 'not-a-number', 'invalid-number', 'missing-country', 'invalid-sip-uri'];

const contexts: DialingContext[] = [
  NO_DIALING_CONTEXT,
  { defaultCountry: 'US', defaultCallingCode: null },
  { defaultCountry: 'GB', defaultCallingCode: null },
  { defaultCountry: 'IN', defaultCallingCode: null },
  { defaultCountry: null, defaultCallingCode: '1' },
  { defaultCountry: null, defaultCallingCode: '44' },
];
const context = fc.constantFrom(...contexts);

type Outcome = { target: DialTarget } | { error: InvalidDialTargetError };

/** Parses `input` and fails the case on any throw other than `InvalidDialTargetError`. */
function parse(input: string, dialingContext: DialingContext): Outcome {
  let target: DialTarget;
  try {
    target = callWithinHangBound(() => parseDialTarget(input, DOMAIN, dialingContext), input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDialTargetError);
    const invalid = error as InvalidDialTargetError;
    expect(REASONS).toContain(invalid.reason);
    expect(invalid.input).toBe(input);
    expect(invalid.message.length).toBeGreaterThan(0);
    return { error: invalid };
  }

  expectTargetInvariants(target);
  return { target };
}

function expectTargetInvariants(target: DialTarget): void {
  // The request-URI goes into the INVITE's first line, so it has no line breaks, spaces or angle brackets.
  expect(target.uri).not.toMatch(/[\r\n <>]/);
  expect(target.uri).toMatch(/^sips?:/i);

  switch (target.kind) {
    case 'phone-number':
      expect(target.dialString).toMatch(E164);
      expect(target.uri).toBe(`sip:${target.dialString}@${DOMAIN}`);
      break;
    case 'extension':
      expect(target.dialString).toMatch(new RegExp(`^[0-9]{1,${MAX_EXTENSION_DIGITS}}$`));
      expect(target.uri).toBe(`sip:${target.dialString}@${DOMAIN}`);
      break;
    case 'feature-code':
      expect(target.dialString).toMatch(/^[*#][0-9*#]*$/);
      expect(target.uri).toBe(`sip:${target.dialString.replaceAll('#', '%23')}@${DOMAIN}`);
      break;
    case 'sip-uri':
      expect(target.uri).toBe(target.dialString);
      break;
  }

  // Numbers, extensions and feature codes are built here, so sip.js must accept them.
  if (target.kind !== 'sip-uri') expect(Grammar.parse(target.uri, 'SIP_URI')).not.toBe(-1);
}

/** Digits of several Unicode decimal systems: ASCII, full-width, Arabic-Indic, Devanagari. */
const unicodeDigit = fc.constantFrom(...'0123456789', ...'０１２３４５６７８９', ...'٠١٢٣٤٥٦٧٨٩', ...'०१२३४५६७८९');
const dialCharacter = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'0123456789') },
  { weight: 2, arbitrary: fc.constantFrom('+', '*', '#', ' ', '-', '.', '(', ')', '/', '\u00a0', 'x', 'ext', 'ext.', ';ext=', 'extension') },
  unicodeDigit,
  fc.constantFrom('\r', '\n', '\t', '\u200b', '\u202e', '\ufeff', '\u2212', '\u2013', '\u00ad', 'tel:', 'callto:'),
);
const dialString = fc.array(dialCharacter, { maxLength: 30 }).map((parts) => parts.join(''));

const knownNumber = fc.constantFrom('+16505550100', '(650) 555-0100', '650.555.0100 x12', '+44 20 7946 0000', '020 7946 0000', '+91 22 2345 6789', '911', '101', '*67', '#31#', 'tel:+16505550100');

const sipUser = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,20}$/),
  fc.constantFrom('alice', 'a\r\nVia: x', 'a b', 'a<b', '"a"', 'a\u0085b', 'a\u0001b', 'a\u2028b', ''),
);
const sipHost = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((address) => `[${address}]`), fc.constantFrom('h\r\n', 'host:5060', 'ex ample', 'a>b', ''));
const sipText = fc
  .tuple(fc.constantFrom('sip:', 'sips:', 'SIP:', ' sip:'), sipUser, fc.constantFrom('@', '@@', ''), sipHost, fc.constantFrom('', '\r\nVia: x', '>', ' ', '\n', ';transport=ws'))
  .map(([scheme, user, at, host, suffix]) => `${scheme}${user}${at}${host}${suffix}`);

const junk = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 60 }));

describe('parseDialTarget fuzzing', () => {
  it('throws only InvalidDialTargetError on any string', () => {
    fc.assert(
      fc.property(junk, context, (input, dialingContext) => {
        parse(input, dialingContext);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps invariants of dial strings', () => {
    fc.assert(
      fc.property(fc.oneof(dialString, knownNumber), context, (input, dialingContext) => {
        parse(input, dialingContext);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts no SIP URI with line breaks or spaces', () => {
    fc.assert(
      fc.property(sipText, (input) => {
        const outcome = parse(input, NO_DIALING_CONTEXT);
        if ('error' in outcome) return;

        expect(outcome.target.kind).toBe('sip-uri');
      }),
      { numRuns: RUNS },
    );
  });

  it('parses long digit strings without hanging', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+?[0-9 ()\-.]{0,40}$/), fc.integer({ min: 100, max: 5_000 }), context, (prefix, length, dialingContext) => {
        parse(`${prefix}${'9'.repeat(length)}`, dialingContext);
        parse(`${prefix}${'x1'.repeat(length)}`, dialingContext);
        parse(`sip:${'a'.repeat(length)}@${'b'.repeat(length)}`, dialingContext);
      }),
      { numRuns: Math.ceil(RUNS / 10) },
    );
  });
});

describe('cleanPastedNumber and formatDialString fuzzing', () => {
  it('clean any pasted text', () => {
    fc.assert(
      fc.property(fc.oneof(junk, dialString, knownNumber, sipText), context, (text, dialingContext) => {
        const cleaned = callWithinHangBound(() => cleanPastedNumber(text, dialingContext), text);

        expect(cleaned).not.toMatch(/[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/);
        // NOTE: a space after a dropped scheme stays ("tel: 0" gives " 0"), and parseDialTarget trims it.
        expect(cleaned).toBe(cleaned.trimEnd());
        // NOTE: only the first scheme is dropped, so "tel:tel:5" stays "tel:5" and parseDialTarget drops the second.
        expect(typeof callWithinHangBound(() => formatDialString(text, dialingContext), text)).toBe('string');

        // The cleaned text goes to parseDialTarget, which must fail with its typed error only.
        parse(cleaned, dialingContext);
      }),
      { numRuns: RUNS },
    );
  });

  it('turns pasted Unicode digits into ASCII', () => {
    fc.assert(
      fc.property(fc.array(unicodeDigit, { minLength: 1, maxLength: 15 }), (digits) => {
        const cleaned = cleanPastedNumber(digits.join(''), NO_DIALING_CONTEXT);

        expect(cleaned).toMatch(/^[0-9]+$/);
        expect(cleaned.length).toBe(digits.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('parses Unicode digits like their ASCII digits', () => {
    fc.assert(
      fc.property(knownNumber, context, fc.constantFrom(0x0660, 0x06f0, 0x0966, 0xff10), (number, dialingContext, zero) => {
        const localized = number.replace(/[0-9]/g, (digit) => String.fromCodePoint(zero + Number(digit)));

        const expected = parse(number, dialingContext);
        const actual = parse(localized, dialingContext);

        if ('target' in expected) expect(actual).toEqual(expected);
        else expect('error' in actual && actual.error.reason).toBe(expected.error.reason);
      }),
      { numRuns: RUNS },
    );
  });
});
