import { describe, expect, it } from 'vitest';

import { createLogger, redact, redactText, type LogSink } from '../../src/main/logger';

const ACCESS_TOKEN = 'U1BCMDFUMDRKV1MwMXxzLFSvXdw5PHMsVLEn_MrtcyxUsw';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl';

describe('redact', () => {
  it('masks secret fields and keeps their length', () => {
    const redacted = redact({
      accessToken: ACCESS_TOKEN,
      refresh_token: 'refresh-value',
      password: 'Xy12ab',
      clientSecret: 'shh',
      headers: { Authorization: `Bearer ${ACCESS_TOKEN}` },
      assertion: JWT,
    }) as Record<string, unknown>;

    expect(redacted['accessToken']).toBe(`[redacted ${ACCESS_TOKEN.length} chars]`);
    expect(redacted['refresh_token']).toBe('[redacted 13 chars]');
    expect(redacted['password']).toBe('[redacted 6 chars]');
    expect(redacted['clientSecret']).toBe('[redacted 3 chars]');
    expect(redacted['headers']).toEqual({ Authorization: `[redacted ${ACCESS_TOKEN.length + 7} chars]` });
    expect(JSON.stringify(redacted)).not.toContain(ACCESS_TOKEN);
    expect(JSON.stringify(redacted)).not.toContain('Xy12ab');
    expect(JSON.stringify(redacted)).not.toContain(JWT);
  });

  it('keeps expiry times, codes and ids', () => {
    const redacted = redact({ accessTokenExpiresAt: 1234, code: 'SPR-122', authorizationId: '8025', ownerId: '101' });

    expect(redacted).toEqual({ accessTokenExpiresAt: 1234, code: 'SPR-122', authorizationId: '8025', ownerId: '101' });
  });

  it('drops whole objects under secret keys', () => {
    const redacted = redact({ tokens: { accessToken: ACCESS_TOKEN, accessTokenExpiresAt: 1 } });

    expect(redacted).toEqual({ tokens: '[redacted object]' });
  });

  it('masks credentials inside free text', () => {
    const text = redactText(
      `Authorization: Bearer ${ACCESS_TOKEN}, Basic bXlDbGllbnQ6c2VjcmV0, ` +
        `body grant_type=refresh_token&refresh_token=abc123&client_id=x, jwt ${JWT}`,
    );

    expect(text).not.toContain(ACCESS_TOKEN);
    expect(text).not.toContain('bXlDbGllbnQ6c2VjcmV0');
    expect(text).not.toContain('abc123');
    expect(text).not.toContain(JWT);
    expect(text).toContain('client_id=x');
    expect(text).toContain('Bearer [redacted]');
  });

  it('redacts errors, their fields and their causes', () => {
    const cause = new Error(`fetch failed with Bearer ${ACCESS_TOKEN}`);
    const error = Object.assign(new Error('outer', { cause }), { status: 401, password: 'Xy12ab' });

    const redacted = redact({ error }) as { error: Record<string, unknown> };

    expect(redacted.error['name']).toBe('Error');
    expect(redacted.error['status']).toBe(401);
    expect(redacted.error['password']).toBe('[redacted 6 chars]');
    expect(JSON.stringify(redacted)).not.toContain(ACCESS_TOKEN);
  });

  it('survives circular structures', () => {
    const value: Record<string, unknown> = { name: 'loop' };
    value['self'] = value;

    expect(redact(value)).toEqual({ name: 'loop', self: '[circular]' });
  });
});

describe('createLogger', () => {
  it('writes scoped lines with redacted fields', () => {
    const lines: unknown[][] = [];
    const sink: LogSink = {
      info: (...data) => void lines.push(['info', ...data]),
      warn: (...data) => void lines.push(['warn', ...data]),
      error: (...data) => void lines.push(['error', ...data]),
    };
    const logger = createLogger('auth', sink).child('refresh');

    logger.warn(`Refresh failed for Bearer ${ACCESS_TOKEN}`, { refreshToken: 'abc', status: 400 });

    expect(lines).toEqual([
      ['warn', '[auth/refresh] Refresh failed for Bearer [redacted]', { refreshToken: '[redacted 3 chars]', status: 400 }],
    ]);
  });
});
