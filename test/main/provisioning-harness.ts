import { AuthSession } from '../../src/main/auth-session';
import { silentLogger } from '../../src/main/logger';
import { createPlatformClient } from '../../src/main/platform-client';
import {
  ProvisioningScheduler,
  retryHintFor,
  type ProvisioningAttemptResult,
  type ProvisioningRequestLog,
  type ProvisioningTrigger,
} from '../../src/main/provisioning-scheduler';
import { provisionSipProfile } from '../../src/main/sip-provision';
import type { PlatformServer } from '../bench/platform-server';
import { ALICE, APP_NAME, APP_VERSION, CLIENT_ID, createMemoryCredentialStore, PROVISION_PATH, startTestPlatform } from './helpers';
import { createVirtualTimers } from './virtual-timers';

export interface HarnessOptions {
  pollingInterval?: number;
  random?: () => number;
  requestLog?: ProvisioningRequestLog;
  start?: number;
}

export interface Harness {
  server: PlatformServer;
  scheduler: ProvisioningScheduler;
  clock: ReturnType<typeof createVirtualTimers>;
  /** Retry times the scheduler reported, in order. */
  retryTimes: Array<number | null>;
  /** Virtual arrival times (epoch ms) of sip-provision requests at the platform. */
  arrivals(): number[];
  /** `Retry-After` seconds of each sip-provision response the client read, in order; null when absent. */
  retryAfterHeaders: Array<number | null>;
  /** Runs virtual time forward by `ms`, letting every request finish. */
  run(ms: number): Promise<void>;
  request(trigger: ProvisioningTrigger): Promise<void>;
}

/**
 * Creates a scheduler whose attempts send real sip-provision requests to the
 * local platform, on a virtual clock that the platform's rate limiter shares.
 */
export async function createProvisioningHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = createVirtualTimers(options.start);
  const server = await startTestPlatform({
    now: clock.now,
    users: [{ ...structuredClone(ALICE), pollingInterval: options.pollingInterval ?? 7200 }],
  });
  const started = server;
  const retryAfterHeaders: Array<number | null> = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const isProvisioning = String(input).endsWith(PROVISION_PATH);
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      if (isProvisioning) retryAfterHeaders.push(null);
      throw error;
    }
    if (isProvisioning) {
      const header = response.headers.get('retry-after');
      retryAfterHeaders.push(header === null ? null : Number(header));
    }
    return response;
  };
  const client = createPlatformClient({
    fetch: recordingFetch,
    baseUrl: () => started.url,
    appName: APP_NAME,
    appVersion: APP_VERSION,
    now: clock.now,
    logger: silentLogger,
  });
  const auth = new AuthSession({
    client,
    credentialStore: createMemoryCredentialStore(),
    clientCredentials: () => ({ clientId: CLIENT_ID, clientSecret: null }),
    baseUrl: () => started.url,
    now: clock.now,
    logger: silentLogger,
  });
  await auth.signInWithJwt(ALICE.jwtCredential);

  let inFlight = 0;
  const retryTimes: Array<number | null> = [];
  const scheduler = new ProvisioningScheduler({
    attempt: async (): Promise<ProvisioningAttemptResult> => {
      inFlight += 1;
      try {
        const profile = await provisionSipProfile(client, auth);
        return { outcome: 'succeeded', pollingIntervalSeconds: profile.pollingInterval };
      } catch (error) {
        return { outcome: 'failed', retry: retryHintFor(error) };
      } finally {
        inFlight -= 1;
      }
    },
    onRetryScheduled: (retryAt) => retryTimes.push(retryAt),
    now: clock.now,
    timers: clock.timers,
    random: options.random ?? (() => 0.5),
    logger: silentLogger,
    requestLog: options.requestLog,
  });
  await scheduler.ready;

  const settle = async () => {
    do {
      await new Promise((resolve) => setImmediate(resolve));
    } while (inFlight > 0);
    await new Promise((resolve) => setImmediate(resolve));
  };

  return {
    server: started,
    scheduler,
    clock,
    retryTimes,
    arrivals: () => started.requests.filter((request) => request.path === PROVISION_PATH).map((request) => request.time),
    retryAfterHeaders,
    run: (ms) => clock.runUntil(clock.now() + ms, settle),
    request: async (trigger) => {
      const done = scheduler.request(trigger);
      await settle();
      await Promise.race([done, new Promise((resolve) => setImmediate(resolve))]);
    },
  };
}

