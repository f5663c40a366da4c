import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { findDialLinkInArgv, MAX_DIAL_LINK_LENGTH, parseDialLink } from '../../src/main/protocol-links';
import type { DialLink } from '../../src/shared/desktop';
import { callWithinHangBound, fuzzRuns } from './fuzz-runs';

const RUNS = fuzzRuns();

const E164 = /^\+[1-9][0-9]{1,14}$/;
/** What a valid `sip:` link comes out as: no parameters, headers, spaces, controls or angle brackets. */
const SIP_TARGET = /^sip:[^\s<>;?@"\u0000-\u001f\u007f]+@[^\s<>;?@"\u0000-\u001f\u007f]+$/;
const DEFAULT_COUNTRIES = [null, 'US', 'GB', 'DE', 'IN', 'JP', 'ZZ', 'us', ''] as const;

/** Parses `link`, which must not throw: the parser reports every problem as an invalid result. */
function parse(link: string, country: string | null): DialLink {
  const parsed = callWithinHangBound(() => parseDialLink(link, country), link);
  expectDialLinkInvariants(link, parsed);
  return parsed;
}

function expectDialLinkInvariants(link: string, parsed: DialLink): void {
  if (parsed.status === 'invalid') {
    expect(parsed.message).toMatch(/^Not dialed: the link ".*" .+\.$/s);
    // The quoted link is cut to 80 characters and its control characters replaced.
    expect(parsed.message.length).toBeLessThan(300);
    expect(parsed.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    return;
  }

  expect(parsed.status).toBe('valid');
  expect(link.length).toBeLessThanOrEqual(MAX_DIAL_LINK_LENGTH);
  if (/^sip:/i.test(link)) {
    expect(parsed.target).toMatch(SIP_TARGET);
    expect(parsed.display).toBe(parsed.target.slice('sip:'.length));
  } else {
    expect(parsed.target).toMatch(E164);
    expect(parsed.display.startsWith('+')).toBe(true);
    // An `ext=` parameter before any `?` comes out as digits or makes the link invalid, so it is never dropped.
    if (/;ext=/i.test(link.split('?')[0]!)) expect(parsed.extension).toMatch(/^[0-9]{1,15}$/);
    else expect(parsed.extension).toBeUndefined();
  }
}

const country = fc.constantFrom(...DEFAULT_COUNTRIES);
const scheme = fc.constantFrom('tel:', 'TEL:', 'callto:', 'callto://', 'tel://', 'sip:', 'SIP:', 'sips:', 'http:', '');

/** Digits of five Unicode decimal systems: ASCII, full-width, Arabic-Indic, Devanagari, Thai. */
const unicodeDigit = fc.constantFrom(
  ...'0123456789',
  ...'０１２３４５６７８９',
  ...'٠١٢٣٤٥٦٧٨٩',
  ...'०१२३४५६७८९',
  ...'๐๑๒๓๔๕๖๗๘๙',
);
const separator = fc.constantFrom('-', '.', '(', ')', '%20', '%2B', '\u00a0', ' ', '%', '%0D%0A', '\r\n', ';', '?');
const numberText = fc
  .array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...'0123456789') }, unicodeDigit, separator), { maxLength: 24 })
  .chain((parts) => fc.boolean().map((plus) => `${plus ? '+' : ''}${parts.join('')}`));

/** Realistic numbers that libphonenumber accepts, in several written forms. */
const knownNumber = fc.constantFrom('+16505550100', '+1 (650) 555-0100', '+442079460000', '+49 30 901820', '+912223456789', '+81312345678', '6505550100', '020 7946 0000');

const telParameter = fc.oneof(
  fc.constantFrom(';phone-context=+1', ';phone-context=+44', ';phone-context=example.com', ';ext=12', ';isub=1', ';phone-context=', ';phone-context=%2B1'),
  fc.string({ maxLength: 20 }).map((text) => `;${text}`),
);

const telLink = fc
  .tuple(fc.constantFrom('tel:', 'callto:', 'tel://', 'callto://', 'TEL:'), fc.oneof(numberText, knownNumber), fc.array(telParameter, { maxLength: 3 }))
  .map(([prefix, number, parameters]) => `${prefix}${number}${parameters.join('')}`);

const sipUser = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()&=+$,]{1,20}$/),
  fc.constantFrom('alice', '+16505550100', '101', 'a%20b', 'a%', 'a:secret', 'a b', 'a\r\nVia: x', 'a<b>', '"a"', ''),
  fc.string({ maxLength: 12 }),
);
const sipHost = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((address) => `[${address}]`),
  fc.constantFrom('example.com:5060', 'example.com:0', 'example.com:65536', 'example.com:99999', '[::1]:5061', '[::1', 'a..b', '-a.com', 'host\r\nX: y', 'ex ample.com', 'example.com.'),
  fc.string({ maxLength: 12 }),
);
const sipSuffix = fc.constantFrom('', ';transport=tls', '?subject=hi', '?Route=%3Csip:evil%3E', ';lr?X-Header=%0D%0AInjected:%201', '%0D%0AVia:%20x', '\r\nVia: x', '>', '@second');

const sipLink = fc
  .tuple(fc.constantFrom('sip:', 'SIP:', 'Sip:'), sipUser, fc.constantFrom('@', '@@', ':pw@', ''), sipHost, sipSuffix)
  .map(([prefix, user, at, host, suffix]) => `${prefix}${user}${at}${host}${suffix}`);

/** A valid link with characters inserted, replaced or removed at random places. */
const damagedLink = fc
  .tuple(fc.oneof(telLink, sipLink), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 4 }))
  .map(([link, edits]) => {
    let text = link;
    for (const [at, removed, inserted] of edits) {
      const index = text.length === 0 ? 0 : at % (text.length + 1);
      text = `${text.slice(0, index)}${inserted}${text.slice(index + removed)}`;
    }
    return text;
  });

describe('parseDialLink fuzzing', () => {
  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 600 }), fc.string({ unit: 'grapheme', maxLength: 100 })), country, (link, defaultCountry) => {
        parse(link, defaultCountry);
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws on any string after a scheme', () => {
    fc.assert(
      fc.property(scheme, fc.string({ unit: 'binary', maxLength: 80 }), country, (prefix, rest, defaultCountry) => {
        parse(`${prefix}${rest}`, defaultCountry);
      }),
      { numRuns: RUNS },
    );
  });

  it('returns E.164 or invalid for tel and callto links', () => {
    fc.assert(
      fc.property(telLink, country, (link, defaultCountry) => {
        const parsed = parse(link, defaultCountry);
        if (parsed.status === 'valid') expect(parsed.target).toMatch(E164);
      }),
      { numRuns: RUNS },
    );
  });

  it('returns a bare sip:user@host or invalid for sip links', () => {
    fc.assert(
      fc.property(sipLink, (link) => {
        const parsed = parse(link, null);
        if (parsed.status !== 'valid') return;

        expect(parsed.target).toMatch(SIP_TARGET);
        // Nothing after the host survives: no parameters, headers or injected lines.
        expect(parsed.target).not.toMatch(/%0d|%0a/i);
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws on damaged links', () => {
    fc.assert(
      fc.property(damagedLink, country, (link, defaultCountry) => {
        parse(link, defaultCountry);
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects links longer than the limit', () => {
    fc.assert(
      fc.property(fc.oneof(telLink, sipLink), fc.integer({ min: 1, max: 5_000 }), (link, padding) => {
        const long = `${link}${'0'.repeat(MAX_DIAL_LINK_LENGTH + padding)}`;
        expect(parse(long, 'US').status).toBe('invalid');
      }),
      { numRuns: Math.ceil(RUNS / 10) },
    );
  });
});

describe('findDialLinkInArgv fuzzing', () => {
  it('returns null or an argument with a dial scheme', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), telLink, sipLink), { maxLength: 6 }), (argv) => {
        const found = findDialLinkInArgv(argv);
        if (found === null) return;

        expect(argv.slice(1)).toContain(found);
        expect(found).toMatch(/^(?:tel|sip|callto):/i);
      }),
      { numRuns: RUNS },
    );
  });
});
