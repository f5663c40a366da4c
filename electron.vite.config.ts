import { resolve } from 'node:path';

import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

import { earlySipSocketScript } from './build/early-sip-socket-script';
import { sipGrammarTables } from './build/sip-grammar-tables';
import packageJson from './package.json';

/** `Name/version` sent as the SIP User-Agent, matching the platform's X-User-Agent. */
const appUserAgent = `RCSoftphone/${packageJson.version}`;

export default defineConfig({
  main: {
    build: {
      // oauth4webapi is published as ESM only, and the main bundle is CommonJS,
      // so it is bundled instead of loaded with require() at run time.
      externalizeDeps: { exclude: ['oauth4webapi'] },
      rolldownOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The keychain worker process, started with utilityProcess.fork after a keychain failure.
          'keytar-worker': resolve(__dirname, 'src/main/keytar-worker.ts'),
        },
      },
    },
  },
  preload: {},
  renderer: {
    plugins: [svelte(), sipGrammarTables(), earlySipSocketScript()],
    define: { __APP_USER_AGENT__: JSON.stringify(appUserAgent) },
    build: {
      // Every byte of the renderer is the app's own: no inline data URLs, so the
      // Content-Security-Policy can stay at 'self'.
      assetsInlineLimit: 0,
      minify: true,
    },
  },
});
