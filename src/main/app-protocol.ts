import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

import type { Logger } from './logger';

/**
 * The renderer is served from `app://softphone/` instead of `file://`: a
 * standard, secure scheme gives the page a real origin, so permission checks,
 * IPC sender checks and the CSP's `'self'` name only the app's own files.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'softphone';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Privileges for `protocol.registerSchemesAsPrivileged`. Not granted: `bypassCSP`,
 * `corsEnabled` (other origins may not read the app's files), service workers.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  codeCache: true,
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

export interface AppProtocolOptions {
  /** Folder of the built renderer (`out/renderer`), inside app.asar when packaged. */
  rootDir: string;
  /** Returns the Content-Security-Policy sent with each HTML page, built when the page is requested. */
  contentSecurityPolicy(): string;
  logger: Logger;
  /** Reads a file; `fs.readFile` unless set. Electron's `fs` reads inside app.asar. */
  readFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * Creates the `protocol.handle` handler of `app://softphone/`. It serves files
 * under `rootDir` only, for GET and HEAD, and responds to everything else
 * with 400, 404 or 405.
 */
export function createAppProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  const root = resolve(options.rootDir);
  const read = options.readFile ?? readFile;

  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } });
    }

    const url = new URL(request.url);
    if (url.host !== APP_HOST) {
      options.logger.warn('Rejected an app:// request for another host', { url: request.url });
      return new Response(null, { status: 404 });
    }

    const path = resolveFilePath(root, url.pathname);
    if (path === null) {
      options.logger.warn('Rejected an app:// request outside the renderer folder', { url: request.url });
      return new Response(null, { status: 400 });
    }

    let body: Uint8Array;
    try {
      body = await read(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') {
        options.logger.error('Could not read a renderer file', { path, error });
      }
      return new Response(null, { status: 404 });
    }

    const extension = extname(path).toLowerCase();
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (extension === '.html') {
      headers['Content-Security-Policy'] = options.contentSecurityPolicy();
    }

    return new Response(request.method === 'HEAD' ? null : Buffer.from(body), { status: 200, headers });
  };
}

/** Maps a URL path to a file under `root`, or null for a path that escapes it or cannot be decoded. */
function resolveFilePath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }

  // A backslash is a separator on Windows, and NUL ends a path in C APIs.
  if (decoded.includes('\\') || decoded.includes('\0')) {
    return null;
  }

  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const path = resolve(join(root, relative));
  return path.startsWith(root + sep) ? path : null;
}
