import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 by listening on port 0
 * with all servers open at once, then closing them.
 *
 * NOTE: another process may bind a port between this call and its use, so a
 * caller that binds later should retry with new ports on EADDRINUSE.
 */
export async function getFreeTcpPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      servers.push(await listenOnAnyPort());
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

/** Finds one free TCP port on 127.0.0.1 (see getFreeTcpPorts). */
export async function getFreeTcpPort(): Promise<number> {
  const [port] = await getFreeTcpPorts(1);
  return port!;
}

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
