import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppState } from '../../src/shared/app-state';
import type { SipProfile } from '../../src/shared/sip-profile';
import { APP_ENTRY_URL, createAppProtocolHandler } from '../../src/main/app-protocol';
import { createAppUrlMatcher } from '../../src/main/app-urls';
import {
  buildContentSecurityPolicy,
  connectSourcesFromState,
  coversWebSocketProxies,
  isValidProxyHostPort,
  PAGE_DIRECTIVES,
} from '../../src/main/content-security-policy';
import { createRecordingLogger, createTempDir, removeDir } from './helpers';

const POLICY = "default-src 'none'; connect-src 'self' wss://proxy.test:8083";

describe('app:// protocol handler', () => {
  let base: string;
  let root: string;

  beforeAll(async () => {
    base = await createTempDir('app-protocol');
    root = join(base, 'renderer');
    await mkdir(join(root, 'assets'), { recursive: true });
    await writeFile(join(root, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
    await mkdir(join(base, 'renderer-secret'), { recursive: true });
    await writeFile(join(base, 'renderer-secret', 'token.txt'), 'secret');
    await writeFile(join(base, 'secret.txt'), 'secret');
  });

  afterAll(async () => {
    await removeDir(base);
  });

  const handler = () => createAppProtocolHandler({ rootDir: root, contentSecurityPolicy: () => POLICY, logger: createRecordingLogger() });

  it('serves index.html with the CSP header', async () => {
    const response = await handler()(new Request(APP_ENTRY_URL));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(POLICY);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('<title>app</title>');
  });

  it('serves the root as index.html', async () => {
    const response = await handler()(new Request('app://softphone/'));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(POLICY);
  });

  it('serves scripts with their type and no CSP', async () => {
    const response = await handler()(new Request('app://softphone/assets/index-abc.js?v=1'));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(await response.text()).toBe('console.log(1)');
  });

  it('answers HEAD without a body', async () => {
    const response = await handler()(new Request(APP_ENTRY_URL, { method: 'HEAD' }));

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  const refused: [string, string, RequestInit | undefined, number][] = [
    ['a dot-dot segment, which the URL parser removes', 'app://softphone/%2e%2e/secret.txt', undefined, 404],
    ['an encoded slash after ..', 'app://softphone/..%2Fsecret.txt', undefined, 400],
    ['a sibling folder sharing the prefix', 'app://softphone/..%2Frenderer-secret%2Ftoken.txt', undefined, 400],
    ['a backslash path', 'app://softphone/..%5Csecret.txt', undefined, 400],
    ['a NUL byte', 'app://softphone/index.html%00.js', undefined, 400],
    ['a malformed escape', 'app://softphone/%E0%A4%A', undefined, 400],
    ['another host', 'app://evil/index.html', undefined, 404],
    ['a missing file', 'app://softphone/missing.js', undefined, 404],
    ['a folder', 'app://softphone/assets', undefined, 404],
    ['a POST', APP_ENTRY_URL, { method: 'POST', body: 'x' }, 405],
  ];

  for (const [name, url, init, status] of refused) {
    it(`refuses ${name}`, async () => {
      const response = await handler()(new Request(url, init));

      expect(response.status).toBe(status);
      expect(await response.text()).not.toContain('secret');
    });
  }
});

const PROFILE: SipProfile = {
  username: '16505550100*101',
  password: 'sip-password',
  authorizationId: '802512345678',
  domain: 'sip.ringcentral.com',
  outboundProxy: 'sip113-1141.ringcentral.com:8083',
  outboundProxyBackup: 'sip131-1241.ringcentral.com:8083',
  switchBackInterval: 3600,
  stunServers: [],
  sipErrorCodes: [408, 502, 503, 504],
  pollingInterval: 7200,
  sipFlags: { voipFeatureEnabled: true, voipCountryBlocked: false, outboundCallsEnabled: true },
  deviceId: null,
};

const SETTINGS: AppState['settings'] = { server: 'production', customServerUrl: '', clientId: 'abc' };

describe('Content-Security-Policy', () => {
  it('allows connections only to the platform and the provisioned proxies', () => {
    const { sources, rejected } = connectSourcesFromState({
      settings: SETTINGS,
      provisioning: { status: 'ready', profile: PROFILE, instanceId: 'id' },
    });

    const policy = buildContentSecurityPolicy(sources);

    expect(rejected).toEqual([]);
    expect(policy).toContain(
      "connect-src 'self' https://platform.ringcentral.com wss://sip113-1141.ringcentral.com:8083 wss://sip131-1241.ringcentral.com:8083",
    );
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('uses the custom server origin', () => {
    const { sources } = connectSourcesFromState({
      settings: { server: 'custom', customServerUrl: 'http://127.0.0.1:8080/prefix', clientId: 'abc' },
      provisioning: { status: 'idle' },
    });

    expect(sources).toEqual({ platformOrigin: 'http://127.0.0.1:8080', webSocketProxies: [] });
  });

  it('keeps the proxies of the line in use while re-provisioning', () => {
    const provisioning = {
      status: 'provisioning',
      line: { profile: { ...PROFILE, outboundProxyBackup: null }, instanceId: 'id' },
    } as unknown as AppState['provisioning'];

    const { sources } = connectSourcesFromState({ settings: SETTINGS, provisioning });

    expect(sources.webSocketProxies).toEqual(['sip113-1141.ringcentral.com:8083']);
  });

  it('leaves out a proxy that would inject directives', () => {
    const hostile = { ...PROFILE, outboundProxy: "evil.test:443; script-src 'unsafe-inline'", outboundProxyBackup: 'ok.test:8083' };

    const { sources, rejected } = connectSourcesFromState({
      settings: SETTINGS,
      provisioning: { status: 'ready', profile: hostile, instanceId: 'id' },
    });

    expect(rejected).toEqual([hostile.outboundProxy]);
    expect(sources.webSocketProxies).toEqual(['ok.test:8083']);
    expect(buildContentSecurityPolicy(sources)).not.toContain('unsafe-inline');
  });

  it('validates proxy host and port', () => {
    for (const valid of ['sip.example.com:8083', '127.0.0.1:5443', '[2001:db8::1]:443', 'localhost:1']) {
      expect(isValidProxyHostPort(valid), valid).toBe(true);
    }
    for (const invalid of ['sip.example.com', 'sip.example.com:0', 'host:70000', '*.example.com:443', 'a b:1', '[zz]:1', 'wss://x:1']) {
      expect(isValidProxyHostPort(invalid), invalid).toBe(false);
    }
  });

  it('needs a reload only for a proxy the page does not allow', () => {
    const loaded = { platformOrigin: 'https://a.test', webSocketProxies: ['p1.test:1', 'p2.test:2'] };

    expect(coversWebSocketProxies(loaded, { platformOrigin: 'https://b.test', webSocketProxies: ['p2.test:2'] })).toBe(true);
    expect(coversWebSocketProxies(loaded, { platformOrigin: null, webSocketProxies: [] })).toBe(true);
    expect(coversWebSocketProxies(loaded, { platformOrigin: 'https://a.test', webSocketProxies: ['p3.test:3'] })).toBe(false);
  });
});

describe('built renderer page', () => {
  const builtPage = resolve(__dirname, '../../out/renderer/index.html');

  it('carries a CSP meta that matches the header directives', async () => {
    expect(existsSync(builtPage), `${builtPage} is missing: run \`npx electron-vite build\` first (npm test does)`).toBe(true);
    const html = await readFile(builtPage, 'utf8');

    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);

    expect(meta).not.toBeNull();
    const directives = meta![1]!.split(';').map((directive) => directive.trim());
    expect(directives.filter((directive) => !directive.startsWith('connect-src'))).toEqual(PAGE_DIRECTIVES);
    expect(directives).toContain("connect-src 'self' wss:");
  });

  it('loads scripts only from the app and inlines none', async () => {
    const html = await readFile(builtPage, 'utf8');

    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];

    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = '', body = ''] of scripts) {
      expect(body.trim()).toBe('');
      expect(attributes).toMatch(/src="\.\/assets\/[^"/]+\.js"/);
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });
});

describe('app page URL matcher', () => {
  const isAppUrl = createAppUrlMatcher({ appUrl: APP_ENTRY_URL, devServerUrl: null });

  it('accepts the page with a query or fragment', () => {
    for (const url of [APP_ENTRY_URL, `${APP_ENTRY_URL}?x=1#/settings`, 'app://softphone/']) {
      expect(isAppUrl(url), url).toBe(true);
    }
  });

  it('rejects other files, hosts and schemes', () => {
    for (const url of ['app://softphone/assets/x.js', 'app://evil/index.html', 'file:///index.html', 'https://softphone/index.html', 'about:blank', '']) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });
});
