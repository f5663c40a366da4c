import { describe, expect, it } from 'vitest';

import {
  claimFreeDialLinkSchemes,
  findDialLinkInArgv,
  MAX_DIAL_LINK_LENGTH,
  parseDialLink,
  type ProtocolClientApp,
} from '../../src/main/protocol-links';
import type { DialLink } from '../../src/shared/desktop';
import { createRecordingLogger } from './helpers';

function invalidMessage(parsed: DialLink): string {
  if (parsed.status !== 'invalid') throw new Error(`Expected an invalid link, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe('phone number links', () => {
  const valid: [string, string | null, string][] = [
    ['tel:+1-650-253-0000', null, '+16502530000'],
    ['TEL:+16502530000', null, '+16502530000'],
    ['tel:+44%2020%207946%200958', null, '+442079460958'],
    ['tel:(650)%20253-0000', 'US', '+16502530000'],
    ['tel:020.7946.0958', 'GB', '+442079460958'],
    ['tel:253-0000;phone-context=+1-650', null, '+16502530000'],
    ['tel:+1-650-253-0000;ext=12', null, '+16502530000'],
    ['callto:+16502530000', null, '+16502530000'],
    ['callto://+16502530000', null, '+16502530000'],
    ['callto:+1%20650%20253%200000', null, '+16502530000'],
  ];

  for (const [link, country, target] of valid) {
    it(`accepts ${link}${country === null ? '' : ` in ${country}`}`, () => {
      const parsed = parseDialLink(link, country);

      expect(parsed).toMatchObject({ status: 'valid', target });
    });
  }

  it('formats the number for the prompt', () => {
    expect(parseDialLink('tel:+16502530000', null)).toEqual({ status: 'valid', target: '+16502530000', display: '+1 650 253 0000' });
  });

  it('keeps the extension of a link', () => {
    expect(parseDialLink('tel:+1-650-253-0000;ext=123', null)).toEqual({
      status: 'valid',
      target: '+16502530000',
      display: '+1 650 253 0000',
      extension: '123',
    });
  });

  it('drops separators from the extension', () => {
    expect(parseDialLink('tel:+16502530000;ext=1-2.3', null)).toMatchObject({ extension: '123' });
    expect(parseDialLink('callto:+16502530000;EXT=45', null)).toMatchObject({ extension: '45' });
  });

  it.each(['tel:+16502530000;ext=', 'tel:+16502530000;ext=12a', 'tel:+16502530000;ext=1;ext=2', 'tel:+16502530000;ext=1234567890123456'])(
    'rejects the bad extension of %s',
    (link) => {
      expect(invalidMessage(parseDialLink(link, null))).toMatch(/extension \(ext=\) that is not 1 to 15 digits/);
    },
  );

  it('asks for a country code when none is known', () => {
    const parsed = parseDialLink('tel:650-253-0000', null);

    expect(invalidMessage(parsed)).toMatch(/no country code/);
  });

  it('ignores an unknown default country', () => {
    expect(parseDialLink('tel:650-253-0000', 'ZZ').status).toBe('invalid');
  });
});

describe('SIP links', () => {
  const valid: [string, string][] = [
    ['sip:alice@example.com', 'sip:alice@example.com'],
    ['SIP:alice@Example.COM', 'sip:alice@example.com'],
    ['sip:+16502530000@sip.ringcentral.com', 'sip:+16502530000@sip.ringcentral.com'],
    ['sip:101@127.0.0.1:5060', 'sip:101@127.0.0.1:5060'],
    ['sip:bob@[2001:db8::1]:5061', 'sip:bob@[2001:db8::1]:5061'],
    ['sip:alice@example.com;transport=tls', 'sip:alice@example.com'],
    ['sip:alice@example.com?Subject=hello&Priority=urgent', 'sip:alice@example.com'],
    ['sip:first.last%2Bx@example.com', 'sip:first.last%2Bx@example.com'],
  ];

  for (const [link, target] of valid) {
    it(`accepts ${link}`, () => {
      expect(parseDialLink(link, null)).toEqual({ status: 'valid', target, display: target.slice(4) });
    });
  }
});

describe('hostile and malformed links', () => {
  const rejected: [string, RegExp][] = [
    ['tel:', /not a phone number/],
    ['tel:+1', /not a valid phone number/],
    ['tel:911', /not a valid phone number/],
    ['tel:*67', /not a phone number/],
    ['tel:+1-800-FLOWERS', /not a phone number/],
    ['tel:javascript:alert(1)', /not a phone number/],
    ['tel:%E0%A4%A', /not a phone number/],
    ['tel:+16502530000%0D%0AX-Evil:1', /not a phone number/],
    ['tel:+1650253000\u0000', /control characters/],
    ['tel:+1 650 253 0000', /spaces, control characters/],
    ['callto:echo123', /not a phone number/],
    ['callto:', /not a phone number/],
    ['sip:example.com', /sip:user@host/],
    ['sip:alice@bob@example.com', /sip:user@host/],
    ['sip:alice:secret@example.com', /password/],
    ['sip:<alice>@example.com', /invalid user part/],
    ['sip:alice"@example.com', /invalid user part/],
    ['sip:alice@exa_mple.com', /invalid host/],
    ['sip:alice@xn--pple-43d.com\u202e', /control characters/],
    ['sip:alice@аpple.com', /invalid host/],
    ['sip:alice@example.com:0', /invalid host/],
    ['sip:alice@example.com:65536', /invalid host/],
    ['sip:alice@[not-ipv6]', /invalid host/],
    ['sip:alice@999.1.1.1', /invalid host/],
    ['sip:alice@-example.com', /invalid host/],
    ['sips:alice@example.com', /not a tel:, sip: or callto: link/],
    ['https://evil.example/', /not a tel:, sip: or callto: link/],
    ['file:///etc/passwd', /not a tel:, sip: or callto: link/],
    ['--inspect=0.0.0.0:9229', /not a tel:, sip: or callto: link/],
    [`tel:+${'1'.repeat(MAX_DIAL_LINK_LENGTH)}`, /longer than 512 characters/],
  ];

  for (const [link, message] of rejected) {
    it(`rejects ${JSON.stringify(link).slice(0, 60)}`, () => {
      const parsed = parseDialLink(link, 'US');

      expect(invalidMessage(parsed)).toMatch(message);
    });
  }

  it('quotes a rejected link without control or direction characters', () => {
    const parsed = parseDialLink('sip:evil\u202e@moc.elpmaxe\u0007', null);

    const message = invalidMessage(parsed);
    expect(message).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(message).toContain('sip:evil\ufffd@moc.elpmaxe\ufffd');
  });

  it('shortens a long rejected link in the message', () => {
    const parsed = parseDialLink(`sip:${'a'.repeat(400)}`, null);

    expect(invalidMessage(parsed).length).toBeLessThan(200);
  });
});

describe('dial links on the command line', () => {
  it('finds the link among Chromium switches', () => {
    expect(findDialLinkInArgv(['/opt/app/rc-softphone', '--no-sandbox', 'tel:+16502530000'])).toBe('tel:+16502530000');
    expect(findDialLinkInArgv(['C:\\app.exe', '--', 'CALLTO:+16502530000'])).toBe('CALLTO:+16502530000');
  });

  it('ignores the executable and other arguments', () => {
    expect(findDialLinkInArgv(['tel:+16502530000'])).toBeNull();
    expect(findDialLinkInArgv(['/opt/app/rc-softphone', '--hidden', 'https://example.com/tel:1'])).toBeNull();
  });
});

describe('link scheme registration', () => {
  function createProtocolApp(owners: Record<string, string>, own: string[]) {
    const registered: string[] = [];
    const app: ProtocolClientApp = {
      isDefaultProtocolClient: (scheme) => own.includes(scheme),
      getApplicationNameForProtocol: (url) => owners[url] ?? '',
      setAsDefaultProtocolClient: (scheme) => {
        registered.push(scheme);
        return true;
      },
    };
    return { app, registered };
  }

  it('claims schemes no other app handles', () => {
    const { app, registered } = createProtocolApp({ 'tel:': 'FaceTime' }, ['callto']);
    const logger = createRecordingLogger();

    claimFreeDialLinkSchemes(app, logger);

    expect(registered).toEqual(['sip']);
    expect(logger.lines.map((line) => [line.message, line.fields?.['scheme']])).toEqual([
      ['Another app handles this link scheme; leaving it', 'tel'],
      ['Registered as the handler of a link scheme', 'sip'],
    ]);
  });
});
