import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CredentialAccount } from '../../src/main/credential-store';
import { installRegisteredMark, pageReadyToRegisteredMs } from '../bench/page-marks';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { report } from './figures';

/**
 * Each start provisions once, and sip-provision allows 10 requests per 60 s per
 * user (Heavy group): the sign-in plus 2 × 4 starts stay under it.
 */
const REPETITIONS = 4;
const PROVISION_PATH = '/restapi/v1.0/client-info/sip-provision';

describe('start-up to Registered', () => {
  const line = benchLine(1, 'Startup Bench');
  let bench: SoftphoneBench;

  beforeAll(async () => {
    bench = await startSoftphoneBench([line]);
  });

  afterAll(async () => {
    await bench?.stop();
  });

  it('measures page ready → Registered with a cached and without a cached SIP profile', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'softphone-startup-'));
    const first = await startSoftphoneInstance({ name: 'startup', rendererUrl: bench.renderer.url, dataDir });
    await signInWithJwt(first.page, bench.platform.url, line.jwtCredential);
    await waitForRegistered(first.page);
    expect(await first.quit()).toBe(true);
    await first.close();

    const installation = { dataDir, keychainService: first.keychainService };
    const cached: number[] = [];
    const cold: number[] = [];
    const provisionsPerStart: number[] = [];

    for (let run = 0; run < REPETITIONS; run += 1) {
      for (const withCachedProfile of [true, false]) {
        if (!withCachedProfile) await keytar.deletePassword(installation.keychainService, CredentialAccount.SipProfile);

        const provisionsBefore = bench.platform.count(PROVISION_PATH);
        const phone = await startSoftphoneInstance({
          name: 'startup',
          rendererUrl: bench.renderer.url,
          ...installation,
          initScripts: [installRegisteredMark],
        });
        (withCachedProfile ? cached : cold).push(await pageReadyToRegisteredMs(phone.page));

        expect(await phone.quit()).toBe(true);
        await phone.close();
        provisionsPerStart.push(bench.platform.count(PROVISION_PATH) - provisionsBefore);
      }
    }

    for (const account of Object.values(CredentialAccount)) {
      await keytar.deletePassword(installation.keychainService, account);
    }
    await rm(dataDir, { recursive: true, force: true });

    report('Start-up (local platform, Kamailio over WSS, Chromium)', [
      { name: 'page ready → Registered, cached SIP profile (ms)', samples: cached },
      { name: 'page ready → Registered, no cached profile (ms)', samples: cold },
      { name: 'sip-provision requests per start', samples: provisionsPerStart },
    ]);
  });
});
