import { describe, expect, it } from 'vitest';

import { describeCaller, parseAssertedIdentity } from '../../src/renderer/sip/caller-identity';
import { formatDialString } from '../../src/renderer/sip/dial-target';

const from = { displayName: 'From Name', user: '16505550101', uri: 'sip:16505550101@sip.example.com' };

describe('describeCaller', () => {
  it('prefers the P-rc name and number', () => {
    const party = describeCaller({ name: 'ACME', number: '+16505550177' }, null, from);

    expect(party).toEqual({ name: 'ACME', number: '+16505550177', display: 'ACME' });
  });

  it('falls back field by field to P-Asserted-Identity, then From', () => {
    const asserted = { displayName: null, user: '+16505550155', uri: 'sip:+16505550155@sip.example.com' };

    expect(describeCaller({ name: null, number: null }, asserted, from)).toEqual({
      name: 'From Name',
      number: '+16505550155',
      display: 'From Name',
    });
  });

  it('shows the number when no name is known', () => {
    expect(describeCaller(null, null, { ...from, displayName: null }).display).toBe('16505550101');
  });

  it('formats the number it shows', () => {
    const formatUs = (number: string) => formatDialString(number, { defaultCountry: 'US', defaultCallingCode: null });
    const party = describeCaller({ name: null, number: '+16505550151' }, null, { ...from, displayName: null }, formatUs);

    expect(party.display).toBe('(650) 555-0151');
    expect(party.number).toBe('+16505550151');
  });

  it('formats a foreign number internationally', () => {
    const formatUs = (number: string) => formatDialString(number, { defaultCountry: 'US', defaultCallingCode: null });
    const party = describeCaller({ name: null, number: '+442079460018' }, null, { ...from, displayName: null }, formatUs);

    expect(party.display).toBe('+44 20 7946 0018');
    expect(party.number).toBe('+442079460018');
  });

  it('shows the URI when neither is known', () => {
    expect(describeCaller(null, null, { displayName: null, user: null, uri: 'sip:sip.example.com' }).display).toBe(
      'sip:sip.example.com',
    );
  });
});

describe('parseAssertedIdentity', () => {
  it('reads a name-addr', () => {
    expect(parseAssertedIdentity('"Front Desk" <sip:+16505550155@sip.example.com>')).toEqual({
      displayName: 'Front Desk',
      user: '+16505550155',
      uri: 'sip:+16505550155@sip.example.com',
    });
  });

  it('takes the first of a sip and a tel identity', () => {
    expect(parseAssertedIdentity('<sip:+16505550155@sip.example.com>, <tel:+16505550155>')?.user).toBe('+16505550155');
  });

  it('returns null when absent or unparseable', () => {
    expect(parseAssertedIdentity(undefined)).toBeNull();
    expect(parseAssertedIdentity('<<not a uri')).toBeNull();
  });
});
