import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { startKamailio, type KamailioServer } from './kamailio';
import { startPlatformServer, type PlatformServer, type PlatformUser } from './platform-server';
import { startStaticServer, type StaticServer } from './static-server';

export const BENCH_DOMAIN = 'sip.bench.test';
export const BENCH_CLIENT_ID = 'benchClientId0001';

export interface BenchLine {
  ownerId: string;
  extensionNumber: string;
  name: string;
  /** AOR user part: the number other lines dial, E.164 without "+" as RingCentral gives it. */
  username: string;
  /** `username` in US national format, as the app displays it: "(650) 555-0101". */
  nationalNumber: string;
  authorizationId: string;
  password: string;
  jwtCredential: string;
}

/** Makes a bench line with fresh secrets; `index` (0 to 99) keeps numbers and ids distinct. */
export function benchLine(index: number, name: string): BenchLine {
  if (!Number.isInteger(index) || index < 0 || index > 99) {
    throw new RangeError(`benchLine index ${index} is outside 0..99, the range of fictional 555-01xx numbers.`);
  }

  const extension = String(100 + index);
  const subscriber = String(100 + index).padStart(4, '0');
  return {
    ownerId: `40000${extension}`,
    extensionNumber: extension,
    name,
    // 555-0100 to 555-0199 are the North American numbers reserved for fiction,
    // and libphonenumber-js accepts them as valid, so the app dials them.
    username: `1650555${subscriber}`,
    nationalNumber: `(650) 555-${subscriber}`,
    authorizationId: `80250000${String(index).padStart(4, '0')}`,
    password: randomBytes(9).toString('base64url'),
    jwtCredential: `bench-jwt.${randomBytes(24).toString('base64url')}`,
  };
}


/** Returns the line's address of record on the bench, the key of Kamailio's location table. */
export function aorOf(line: BenchLine): string {
  return `sip:${line.username}@${BENCH_DOMAIN}`;
}
export function platformUserFor(line: BenchLine, kamailio: KamailioServer): PlatformUser {
  return {
    ownerId: line.ownerId,
    accountId: '400000000',
    extensionNumber: line.extensionNumber,
    name: line.name,
    jwtCredential: line.jwtCredential,
    sipInfo: [
      {
        transport: 'WSS',
        username: line.username,
        password: line.password,
        authorizationTypes: ['SipDigest'],
        authorizationId: line.authorizationId,
        domain: kamailio.domain,
        outboundProxy: kamailio.wssHostPort,
        switchBackInterval: 3600,
        // No STUN server: on loopback the host candidates are enough.
        stunServers: [],
      },
    ],
  };
}

export interface SoftphoneBench {
  kamailio: KamailioServer;
  platform: PlatformServer;
  renderer: StaticServer;
  lines: BenchLine[];
  stop(): Promise<void>;
}

/** Path of the built renderer; `npm test` builds it before the tests run. */
export const RENDERER_DIR = resolve(__dirname, '../../out/renderer');

export interface SoftphoneBenchOptions {
  /** Starts Kamailio with the accommodations for ringcentral-web-phone 2.x (see KamailioOptions). */
  officialSdkCompat?: boolean;
  /** Keeps a contact after its WebSocket closes, until it expires (see KamailioOptions). */
  keepContactsOnLostConnection?: boolean;
}

/** Starts Kamailio, the local platform and the renderer server for the given lines. */
export async function startSoftphoneBench(
  lines: BenchLine[],
  options: SoftphoneBenchOptions = {},
): Promise<SoftphoneBench> {
  if (!existsSync(resolve(RENDERER_DIR, 'index.html'))) {
    throw new Error(`${RENDERER_DIR}/index.html is missing: run \`npm run build\` first (npm test does).`);
  }

  const kamailio = await startKamailio({
    domain: BENCH_DOMAIN,
    users: lines.map(({ authorizationId, password, username }) => ({ authorizationId, password, username })),
    officialSdkCompat: options.officialSdkCompat,
    removeContactsOnLostConnection: options.keepContactsOnLostConnection !== true,
  });

  let platform: PlatformServer | null = null;
  try {
    platform = await startPlatformServer({
      clientId: BENCH_CLIENT_ID,
      users: lines.map((line) => platformUserFor(line, kamailio)),
    });
    const renderer = await startStaticServer(RENDERER_DIR);

    const startedPlatform = platform;
    return {
      kamailio,
      platform: startedPlatform,
      renderer,
      lines,
      async stop() {
        await renderer.close();
        await startedPlatform.close();
        await kamailio.stop();
      },
    };
  } catch (error) {
    await platform?.close();
    await kamailio.stop();
    throw error;
  }
}
