import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readAudioPackets } from '../bench/peer-connection-probe';
import {
  findRendererPid,
  openPageMetrics,
  readChromiumCpuSeconds,
  readCpuSeconds,
  readProcessMemory,
} from '../bench/renderer-resources';
import { benchLine, RENDERER_DIR, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { report } from './figures';

/** Length of one idle CPU window, in ms. */
const IDLE_WINDOW_MS = 60_000;
const IDLE_WINDOWS = 3;
/** Time for start-up work (lazy imports, first timers) to finish before the first reading. */
const SETTLE_MS = 5_000;

const MEBIBYTE = 1024 * 1024;
const KIBIBYTE = 1024;

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Sizes of the JavaScript files the renderer loads, raw and gzip-compressed (level 9) one by one. */
function rendererScriptSizes(): { rawBytes: number; gzipBytes: number; files: string[] } {
  const assets = join(RENDERER_DIR, 'assets');
  const files = readdirSync(assets).filter((name) => name.endsWith('.js'));
  let rawBytes = 0;
  let gzipBytes = 0;

  for (const name of files) {
    const content = readFileSync(join(assets, name));
    rawBytes += content.length;
    gzipBytes += gzipSync(content, { level: 9 }).length;
  }
  return { rawBytes, gzipBytes, files };
}

describe('renderer resources when registered and idle', () => {
  const line = benchLine(31, 'Resources Bench');
  let bench: SoftphoneBench;

  beforeAll(async () => {
    bench = await startSoftphoneBench([line]);
  });

  afterAll(async () => {
    await bench?.stop();
  });

  it('measures script size, JS heap, renderer memory and idle CPU', async () => {
    const sizes = rendererScriptSizes();
    expect(sizes.files.length).toBeGreaterThan(0);

    const phone = await startSoftphoneInstance({ name: 'resources', rendererUrl: bench.renderer.url });
    const heapUsed: number[] = [];
    const heapUsedBeforeGc: number[] = [];
    const rss: number[] = [];
    const pss: number[] = [];
    const rendererCpu: number[] = [];
    const mainThreadTasks: number[] = [];
    const chromiumCpu: number[] = [];

    try {
      await signInWithJwt(phone.page, bench.platform.url, line.jwtCredential);
      await waitForRegistered(phone.page);
      await delay(SETTLE_MS);

      const rendererPid = await findRendererPid(phone.page);
      const metrics = await openPageMetrics(phone.page);

      for (let windowIndex = 0; windowIndex < IDLE_WINDOWS; windowIndex += 1) {
        heapUsedBeforeGc.push((await metrics.metric('JSHeapUsedSize')) / MEBIBYTE);
        heapUsed.push((await metrics.heapUsedAfterGc()) / MEBIBYTE);
        const memory = readProcessMemory(rendererPid);
        rss.push(memory.rssBytes / MEBIBYTE);
        pss.push(memory.pssBytes / MEBIBYTE);

        const startedAt = performance.now();
        const rendererStart = readCpuSeconds(rendererPid);
        const chromiumStart = readChromiumCpuSeconds();
        const tasksStart = await metrics.metric('TaskDuration');

        await delay(IDLE_WINDOW_MS);

        const tasksEnd = await metrics.metric('TaskDuration');
        // CPU milliseconds per minute of wall time: 600 ms is 1 % of one core.
        const perMinute = 60 / ((performance.now() - startedAt) / 1000);
        rendererCpu.push((readCpuSeconds(rendererPid) - rendererStart) * 1000 * perMinute);
        chromiumCpu.push((readChromiumCpuSeconds() - chromiumStart) * 1000 * perMinute);
        mainThreadTasks.push((tasksEnd - tasksStart) * 1000 * perMinute);
      }
      await metrics.detach();

      // The readings count only if the phone stayed registered and idle throughout.
      await waitForRegistered(phone.page, 1_000);
      expect(await phone.page.locator('.call-card').count()).toBe(0);
      expect((await readAudioPackets(phone.page)).peerConnections).toBe(0);

      expect(await phone.quit()).toBe(true);
    } finally {
      await phone.close();
    }

    report('Renderer resources (registered, no call; local platform, Kamailio over WSS, Chromium)', [
      { name: `renderer JavaScript, raw (KiB, ${sizes.files.length} files)`, samples: [sizes.rawBytes / KIBIBYTE] },
      { name: 'renderer JavaScript, gzip -9 (KiB)', samples: [sizes.gzipBytes / KIBIBYTE] },
      { name: 'JS heap used after full GC (MiB)', samples: heapUsed },
      { name: 'JS heap used before GC (MiB)', samples: heapUsedBeforeGc },
      { name: 'renderer process RSS (MiB)', samples: rss },
      { name: 'renderer process PSS (MiB)', samples: pss },
      { name: 'renderer process CPU time per minute idle (ms; 300 ms = 0.5 % of one core)', samples: rendererCpu },
      { name: 'renderer main-thread task time per minute idle (ms)', samples: mainThreadTasks },
      { name: "all Chromium processes' CPU time per minute idle (ms)", samples: chromiumCpu },
    ]);
  });
});
