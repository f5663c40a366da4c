/**
 * A Vite plugin that ships src/renderer/early/open-sip-socket.ts as a classic
 * script in the page's head. A classic script runs as soon as the parser
 * reaches it, while the module bundle is still being fetched and compiled, so
 * the WebSocket it opens to the last SIP server is often open by the time the
 * SIP stack starts. It is a separate file, not inline, so the
 * Content-Security-Policy keeps `script-src 'self'`.
 *
 * NOTE: only `vite build` ships it; under the dev server the transport opens
 * its WebSocket at start as usual.
 */
import { resolve } from 'node:path';

import { build } from 'esbuild';
import type { Plugin } from 'vite';

export const EARLY_SCRIPT_SOURCE = resolve(__dirname, '../src/renderer/early/open-sip-socket.ts');
export const EARLY_SCRIPT_FILE = 'assets/early-sip-socket.js';

const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"[^>]*>/i;

/** The script as one minified IIFE, with its imports bundled in. */
export async function compileEarlyScript(target: string[]): Promise<string> {
  const result = await build({
    entryPoints: [EARLY_SCRIPT_SOURCE],
    bundle: true,
    format: 'iife',
    minify: true,
    write: false,
    target,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${EARLY_SCRIPT_SOURCE}`);
  return output.text;
}

/**
 * Puts the script tag right after the Content-Security-Policy meta tag: under
 * the policy, and ahead of the stylesheet, which a classic script would
 * otherwise wait for.
 */
export function insertEarlyScriptTag(html: string, src: string): string {
  const meta = CSP_META.exec(html);
  if (meta === null) {
    throw new Error('index.html has no Content-Security-Policy meta tag to place the early SIP socket script after');
  }
  const at = meta.index + meta[0].length;
  return `${html.slice(0, at)}\n    <script src="${src}"></script>${html.slice(at)}`;
}

export function earlySipSocketScript(target: string[] = ['chrome120']): Plugin {
  return {
    name: 'early-sip-socket-script',
    apply: 'build',
    async buildStart() {
      this.emitFile({ type: 'asset', fileName: EARLY_SCRIPT_FILE, source: await compileEarlyScript(target) });
    },
    transformIndexHtml: {
      order: 'post',
      handler: (html) => insertEarlyScriptTag(html, `./${EARLY_SCRIPT_FILE}`),
    },
  };
}
