import { describe, expect, it } from 'vitest';

import { InvalidServerUrlError, normalizeCustomServerUrl } from '../../src/main/platform-servers';

describe('normalizeCustomServerUrl', () => {
  it.each(['http://127.0.0.1:8080', 'http://localhost:3000/base', 'http://[::1]:9000', 'https://platform.example.com'])(
    'accepts %s',
    (url) => {
      expect(normalizeCustomServerUrl(url)).toBe(url.replace(/\/$/, ''));
    },
  );

  it('rejects plain http to another host', () => {
    expect(() => normalizeCustomServerUrl('http://platform.example.com')).toThrow(/plain http is allowed only/);
  });

  it('keeps a password out of the message', () => {
    let message = '';
    try {
      normalizeCustomServerUrl('http://alice:hunter2@127.0.0.1:9');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidServerUrlError);
      message = (error as Error).message;
    }

    expect(message).toContain('user name or password');
    expect(message).not.toContain('hunter2');
  });

  it('shortens a very long URL in the message', () => {
    expect(() => normalizeCustomServerUrl(`ftp://${'a'.repeat(5000)}`)).toThrow(/^.{0,400}$/s);
  });
});
