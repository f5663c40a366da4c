/** Request parsing and response sending for the platform stand-in. */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

import type { ErrorResponse, RecordedRequest } from './types';

const MAX_BODY_BYTES = 1024 * 1024;

/** Product tokens that carry a browser, runtime or SDK version rather than the app's own version. */
const NON_APP_PRODUCTS = new Set([
  'mozilla', 'applewebkit', 'khtml', 'gecko', 'chrome', 'chromium', 'safari', 'firefox', 'edg',
  'electron', 'node', 'node.js', 'undici', 'rcjssdk', 'ringcentral-extensible',
]);

/** Semantic version 2.0.0: MAJOR.MINOR.PATCH with optional pre-release and build parts. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export interface ParsedRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  rawBody: string;
  record: RecordedRequest;
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Returns the first parameter name that appears more than once, which RFC 6749 section 3.1 forbids. */
export function duplicateParameter(params: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

export function parseBody(req: IncomingMessage, rawBody: string): unknown {
  if (rawBody === '') return undefined;

  const type = mediaType(req);
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(rawBody));
  }
  if (type === 'application/json') {
    try {
      return JSON.parse(rawBody) as unknown;
    } catch {
      return rawBody;
    }
  }
  return rawBody;
}

export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;

    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(
  request: ParsedRequest,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const { res, record } = request;
  const outHeaders: Record<string, string> = { RCRequestId: randomUUID(), ...headers };
  let payload = '';

  if (typeof body === 'string') {
    payload = body;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    outHeaders['Content-Type'] ??= 'application/json';
  }

  record.status = status;
  res.writeHead(status, outHeaders);
  res.end(payload);
}

export function sendError(request: ParsedRequest, error: ErrorResponse<unknown>, headers: Record<string, string> = {}): void {
  send(request, error.status, error.body, headers);
}

export function htmlErrorPage(title: string, detail: string): string {
  const escape = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<!doctype html><html><head><title>${escape(title)}</title></head>` +
    `<body><h1>${escape(title)}</h1><p>${escape(detail)}</p></body></html>`;
}

/** Finds the app's `Name/semver` product token in X-User-Agent, then in User-Agent. */
export function findAppVersion(headers: IncomingHttpHeaders, appName: string | undefined): string | undefined {
  const candidates = [headers['x-user-agent'], headers['user-agent']];

  for (const value of candidates) {
    if (typeof value !== 'string') continue;

    for (const token of value.split(/\s+/)) {
      const match = /^([A-Za-z][\w.-]*)\/(\S+)$/.exec(token);
      if (!match) continue;

      const [, name, version] = match as unknown as [string, string, string];
      const isAppToken = appName !== undefined ? name === appName : !NON_APP_PRODUCTS.has(name.toLowerCase());
      if (isAppToken && SEMVER.test(version)) return token;
    }
  }
  return undefined;
}
