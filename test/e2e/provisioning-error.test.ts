import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { provisionError } from '../bench/platform-server';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt } from '../bench/softphone-ui';

describe('provisioning failure in the UI', () => {
  const carol = benchLine(3, 'Carol Bench');
  let bench: SoftphoneBench;
  let phone: SoftphoneInstance;

  beforeAll(async () => {
    bench = await startSoftphoneBench([carol]);
    phone = await startSoftphoneInstance({ name: 'carol', rendererUrl: bench.renderer.url });
  });

  afterAll(async () => {
    await phone?.close();
    await bench?.stop();
  });

  it('shows a 403 CMN-401 with what to do, then recovers on retry', async () => {
    bench.platform.inject({ path: '/restapi/v1.0/client-info/sip-provision', ...provisionError('CMN-401') });

    await signInWithJwt(phone.page, bench.platform.url, carol.jwtCredential);

    const alert = phone.page.getByRole('alert', { name: 'Provisioning error' });
    await alert.waitFor({ timeout: 10_000 });
    const text = await alert.textContent();
    expect(text).toContain('CMN-401');
    expect(text).toMatch(/VoIP Calling permission/);
    expect(await phone.page.getByRole('button', { name: 'Call', exact: true }).isDisabled()).toBe(true);

    await alert.getByRole('button', { name: 'Try again' }).click();

    await phone.page.locator('.registration[data-status="registered"]').waitFor({ timeout: 10_000 });
    expect(await alert.count()).toBe(0);
  });
});
