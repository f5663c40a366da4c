import { describe, expect, it } from 'vitest';

import { InvalidDialTargetError, parseDialTarget } from '../../src/renderer/sip/dial-target';

const DOMAIN = 'sip.bench.test';

describe('parseDialTarget', () => {
  it.each([
    ['101', 'sip:101@sip.bench.test', '101'],
    ['+1 (650) 555-0100', 'sip:+16505550100@sip.bench.test', '+16505550100'],
    ['650.555.0100', 'sip:6505550100@sip.bench.test', '6505550100'],
    ['*67', 'sip:*67@sip.bench.test', '*67'],
    ['  15550000102  ', 'sip:15550000102@sip.bench.test', '15550000102'],
    ['sip:alice@example.com', 'sip:alice@example.com', 'alice@example.com'],
  ])('turns %j into a request-URI', (input, uri, display) => {
    const target = parseDialTarget(input, DOMAIN);

    expect(target.uri).toBe(uri);
    expect(target.display).toBe(display);
  });

  it.each(['', '   ', 'hello', '12ab', '+', '1'.repeat(33), 'sip:nohost', 'sip:a b@c', '<script>'])(
    'rejects %j with a typed error',
    (input) => {
      expect(() => parseDialTarget(input, DOMAIN)).toThrow(InvalidDialTargetError);
    },
  );

  it('asks for a number when the input is empty', () => {
    expect(() => parseDialTarget('', DOMAIN)).toThrow(/Enter a phone number/);
  });
});
