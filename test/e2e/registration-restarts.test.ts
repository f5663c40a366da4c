import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CredentialAccount } from '../../src/main/credential-store';
import { benchLine, BENCH_DOMAIN, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';

const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';
const RESTARTS = 10;

describe('restarting the same installation', () => {
  const line = benchLine(31, 'Restarts Bench');
  const aor = `sip:${line.username}@${BENCH_DOMAIN}`;
  let bench: SoftphoneBench;
  let dataDir: string;
  const keychainService = `rc-softphone-bench-restarts-${process.pid}`;

  beforeAll(async () => {
    // Contacts outlive their WebSocket, as on a registrar behind an edge proxy:
    // only the instance id can tell the registrar that a restart is the same phone.
    bench = await startSoftphoneBench([line], { keepContactsOnLostConnection: true });
    dataDir = await mkdtemp(join(tmpdir(), 'softphone-restarts-'));
  });

  afterAll(async () => {
    for (const account of Object.values(CredentialAccount)) {
      await keytar.deletePassword(keychainService, account).catch(() => false);
    }
    await rm(dataDir, { recursive: true, force: true });
    await bench?.stop();
  });

  function startInstallation(): Promise<SoftphoneInstance> {
    return startSoftphoneInstance({ name: 'restarts', rendererUrl: bench.renderer.url, dataDir, keychainService });
  }

  it('keeps one contact across ten restarts', async () => {
    const first = await startInstallation();
    await signInWithJwt(first.page, bench.platform.url, line.jwtCredential);
    await waitForRegistered(first.page);
    await first.close();

    for (let restart = 1; restart <= RESTARTS; restart += 1) {
      const phone = await startInstallation();
      try {
        await waitForRegistered(phone.page);
        expect(await bench.kamailio.contacts(aor), `contacts after restart ${restart}`).toHaveLength(1);
      } finally {
        // Closing the browser without the quit sequence leaves the contact, as a crash does.
        await phone.close();
      }
    }

    // Eleven starts within well under a minute: the request log kept
    // sip-provision within the Heavy limit, so the platform never responded with 429.
    const provisioning = bench.platform.requests.filter((request) => request.path === PROVISION_PATH);
    expect(provisioning.every((request) => request.status === 200)).toBe(true);
    expect(provisioning.length).toBeLessThanOrEqual(RESTARTS + 1);
  });

  it('unregisters on quit', async () => {
    const phone = await startInstallation();
    try {
      await waitForRegistered(phone.page);
      expect(await bench.kamailio.contacts(aor)).toHaveLength(1);

      expect(await phone.quit()).toBe(true);

      expect(await bench.kamailio.contacts(aor)).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('registers before the platform responds', async () => {
    // Wait out the rate-limit window of the restarts above, so this start sends its request at once.
    await unlink(join(dataDir, 'provisioning-requests.json')).catch(() => undefined);
    const requestsBefore = bench.platform.count(PROVISION_PATH);
    bench.platform.inject({ path: PROVISION_PATH, kind: 'delay', ms: 4_000 });

    const phone = await startInstallation();
    try {
      await waitForRegistered(phone.page, 3_000);
      // The start-up request is still waiting for its response.
      expect(bench.platform.count(PROVISION_PATH)).toBe(requestsBefore + 1);
      expect(bench.platform.requests.filter((request) => request.path === PROVISION_PATH).at(-1)?.status).toBeNull();

      await expect
        .poll(() => bench.platform.requests.filter((request) => request.path === PROVISION_PATH).at(-1)?.status, { timeout: 10_000 })
        .toBe(200);
      await waitForRegistered(phone.page);
      expect(await phone.quit()).toBe(true);
    } finally {
      await phone.close();
    }
  });
});
