import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import electronLog from 'electron-log/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogger, redact, redactText, type LogSink } from '../../src/main/logger';
import { configureFileLogging, createLogSink, MAIN_LOG_OPTIONS, type FileLoggingOptions } from '../../src/main/logging';
import { createTempDir, removeDir } from './helpers';

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

describe('log file output', () => {
  const SIP_PASSWORD = 'sip-password-Xy12ab';
  const REFRESH_TOKEN = 'U1BCMDFSMDRKV1MwMXxyZWZyZXNoLXRva2Vu';
  const DIGEST_RESPONSE = '6629fae49393a05397450978507c4ef1';
  let dir: string;

  beforeEach(async () => {
    dir = await createTempDir('logging');
  });

  afterEach(async () => {
    await removeDir(dir);
  });

  /** A fresh electron-log instance (the Node flavour, as in the main process) writing into `dir`. */
  function createFileLog(options: Partial<FileLoggingOptions> = {}) {
    const instance = electronLog.create({ logId: `test-${randomUUID()}` });
    configureFileLogging(instance, { ...MAIN_LOG_OPTIONS, console: false, directory: dir, ...options });
    return instance;
  }

  it('keeps tokens, SIP passwords and Authorization headers out of the file', async () => {
    const logger = createLogger('main', createLogSink(createFileLog()));

    logger.info(`POST /restapi/oauth/token grant_type=refresh_token&refresh_token=${REFRESH_TOKEN}&client_id=abc`);
    logger.info('Token response', { accessToken: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, expiresIn: 3600 });
    logger.info('Platform request', { headers: { Authorization: `Bearer ${ACCESS_TOKEN}`, 'X-User-Agent': 'RCSoftphone/0.1.0' } });
    logger.warn(`Request failed; it sent "Authorization: Bearer ${ACCESS_TOKEN}"`);
    logger.info('SIP profile', { profile: { authorizationId: '802512345678', password: SIP_PASSWORD } });
    logger.error('Sign-in failed', { error: new Error('rejected', { cause: new Error(`assertion=${JWT}`) }) });
    logger.child('sip-trace').info(
      'Sending WebSocket message:\r\nREGISTER sip:sip.ringcentral.com SIP/2.0\r\n' +
        `Authorization: Digest algorithm=MD5, username="802512345678", realm="sip.ringcentral.com", nonce="a1b2", uri="sip:sip.ringcentral.com", response="${DIGEST_RESPONSE}"\r\n` +
        `Proxy-Authorization: Digest username="802512345678", response="${DIGEST_RESPONSE.toUpperCase()}"\r\n`,
    );

    const text = await readFile(join(dir, 'main.log'), 'utf8');

    for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, SIP_PASSWORD, JWT, DIGEST_RESPONSE, DIGEST_RESPONSE.toUpperCase()]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[main] POST /restapi/oauth/token');
    expect(text).toContain('client_id=abc');
    expect(text).toContain(`[redacted ${SIP_PASSWORD.length} chars]`);
    expect(text).toContain('Bearer [redacted]');
    expect(text).toContain(`assertion=[redacted ${JWT.length} chars]'`);
    expect(text).toContain('username="802512345678"');
    expect(text).toContain(`response="[redacted ${DIGEST_RESPONSE.length} chars]`);
    expect(text).toContain('expiresIn: 3600');
  });

  it('rotates the file and keeps the configured number of archives', async () => {
    const logger = createLogger('rotation', createLogSink(createFileLog({ maxSize: 300, maxArchives: 2 })));

    for (let line = 0; line < 40; line += 1) {
      logger.info(`line ${line} ${'x'.repeat(40)}`);
    }

    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['main.1.log', 'main.2.log', 'main.log']);
    const newest = await readFile(join(dir, 'main.log'), 'utf8');
    const archived = await readFile(join(dir, 'main.1.log'), 'utf8');
    expect(newest).toContain('line 39');
    expect(archived).not.toContain('line 39');
    expect(archived).toContain('[rotation] line');
  });

  it('creates log files readable by their owner only', async () => {
    createLogger('mode', createLogSink(createFileLog())).warn('first line');

    const mode = (await stat(join(dir, 'main.log'))).mode & 0o777;

    expect(mode).toBe(0o600);
  });
});

describe('redactText on URLs', () => {
  it('masks credentials inside a URL', () => {
    const text = redactText('Settings file is invalid: http://alice:hunter2@127.0.0.1:9/path');

    expect(text).not.toContain('hunter2');
    expect(text).toContain('http://[redacted]@127.0.0.1:9/path');
  });
});
