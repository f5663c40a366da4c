import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { compileEarlyScript, EARLY_SCRIPT_FILE, insertEarlyScriptTag } from '../../build/early-sip-socket-script';
import { LAST_SIP_SERVER_KEY } from '../../src/renderer/sip/early-sip-socket';

const BUILT_RENDERER = resolve(__dirname, '../../out/renderer');

const PAGE = `<!doctype html>
<html>
  <head>
    <meta charset="UTF-8" />
    <meta
      http-equiv="Content-Security-Policy"
      content="default-src 'none'; script-src 'self'"
    />
    <title>t</title>
    <script type="module" crossorigin src="./assets/index.js"></script>
    <link rel="stylesheet" href="./assets/index.css">
  </head>
</html>`;

/** Runs the compiled script in a fresh V8 context with the given remembered server; returns the sockets it opened. */
function runCompiled(code: string, remembered: string | null) {
  const opened: RecordingWebSocket[] = [];
  const timers: number[] = [];
  class RecordingWebSocket {
    binaryType = 'blob';
    readonly listened: string[] = [];
    constructor(
      readonly url: string,
      readonly protocols: string,
    ) {
      opened.push(this);
    }
    addEventListener(type: string) {
      this.listened.push(type);
    }
    close() {}
  }
  const storage = { getItem: (name: string) => (name === LAST_SIP_SERVER_KEY ? remembered : null) };
  runInNewContext(code, {
    localStorage: storage,
    WebSocket: RecordingWebSocket,
    setTimeout: (_handler: () => void, ms: number) => timers.push(ms),
    URL,
    console,
  });
  return { opened, timers };
}

describe('early SIP socket script', () => {
  it('goes right after the Content-Security-Policy meta tag, ahead of the bundle and the stylesheet', () => {
    const html = insertEarlyScriptTag(PAGE, './assets/early-sip-socket.js');
    const tag = html.indexOf('<script src="./assets/early-sip-socket.js"></script>');
    expect(tag).toBeGreaterThan(html.indexOf('http-equiv="Content-Security-Policy"'));
    expect(tag).toBeLessThan(html.indexOf('<title>'));
    expect(html.replace(/\s*<script src="\.\/assets\/early-sip-socket\.js"><\/script>/, '')).toBe(PAGE);
  });

  it('refuses a page without a Content-Security-Policy', () => {
    expect(() => insertEarlyScriptTag('<html><head></head></html>', './x.js')).toThrow(/no Content-Security-Policy meta tag/);
  });

  it('compiles to one classic script that opens the remembered wss:// server', async () => {
    const code = await compileEarlyScript(['chrome120']);
    expect(code).not.toMatch(/\bimport\s*[{*("']|\bexport\s/);

    const { opened, timers } = runCompiled(code, 'wss://sip10.example.invalid:8083');
    expect(opened.map(({ url, protocols, binaryType, listened }) => ({ url, protocols, binaryType, listened }))).toEqual([
      { url: 'wss://sip10.example.invalid:8083', protocols: 'sip', binaryType: 'arraybuffer', listened: ['error'] },
    ]);
    expect(timers).toEqual([10_000]);

    expect(runCompiled(code, null).opened).toEqual([]);
    expect(runCompiled(code, 'http://sip10.example.invalid').opened).toEqual([]);
  });

  it('is in the built renderer, loaded before the module bundle', async () => {
    // npm test builds the renderer first; a lone run of this file needs `npx electron-vite build`.
    expect(existsSync(join(BUILT_RENDERER, EARLY_SCRIPT_FILE)), `${EARLY_SCRIPT_FILE} in out/renderer`).toBe(true);
    const html = await readFile(join(BUILT_RENDERER, 'index.html'), 'utf8');
    const early = html.indexOf(`<script src="./${EARLY_SCRIPT_FILE}"></script>`);
    expect(early).toBeGreaterThan(-1);
    expect(early).toBeLessThan(html.indexOf('<script type="module"'));
    expect(early).toBeLessThan(html.indexOf('<link rel="stylesheet"'));
  });
});
