/** The HTTP server around the platform stand-in and its test-facing API. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { platformError } from './errors';
import { FakePlatform } from './fake-platform';
import type { PlatformOptions, PlatformServer, RecordedRequest } from './types';

/** Starts the platform stand-in on 127.0.0.1 and resolves once it is listening. */
export async function startPlatformServer(options: PlatformOptions): Promise<PlatformServer> {
  const platform = new FakePlatform(options);

  const server: Server = createServer((req, res) => {
    platform.dispatch(req, res).catch((error: unknown) => {
      // A handler bug must fail the test loudly instead of leaving the client waiting.
      const message = error instanceof Error ? error.message : String(error);
      console.error(`platform-server: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${message}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(platformError(500, 'CMN-203', `Internal Server Error: ${message}`).body));
      } else {
        res.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  platform.url = `http://127.0.0.1:${port}`;

  return {
    url: platform.url,
    requests: platform.requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of platform.pendingDelays) clearTimeout(timer);
        platform.pendingDelays.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    count: (path, method) =>
      platform.requests.filter(
        (recorded) => recorded.path === path && (method === undefined || recorded.method === method.toUpperCase()),
      ).length,
    inject: (fault) => platform.inject(fault),
    clearFaults: () => platform.clearFaults(),
    setUser: (ownerId, patch) => platform.setUser(ownerId, patch),
    setAuthorizeAs: (ownerId) => platform.setAuthorizeAs(ownerId),
    revokeSessions: (ownerId) => {
      platform.requireUser(ownerId);
      platform.tokens.revokeOwner(ownerId);
    },
    tokens: {
      issuedAccess: () => [...platform.tokens.issuedAccess],
      issuedRefresh: () => [...platform.tokens.issuedRefresh],
      revoked: () => [...platform.tokens.revoked],
      ownerOf: (token) => (platform.tokens.findAccess(token) ?? platform.tokens.findRefresh(token))?.ownerId ?? null,
    },
  };
}

/** Owner of the bearer token a recorded request carried, or null when it carried none this server issued. */
export function bearerOwner(platform: PlatformServer, request: RecordedRequest): string | null {
  const authorization = request.headers.authorization ?? '';
  return platform.tokens.ownerOf(authorization.replace(/^Bearer /, ''));
}
