/**
 * 200 short calls in a row between two softphones on the bench, about 3 minutes.
 * `npm test` runs it after the other files, alone; `npm run soak` runs only it.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { installAutoAnswer } from '../bench/call-timing';
import { readAudioPackets } from '../bench/peer-connection-probe';
import { clickElement, typeInto, waitForSelector } from '../bench/plain-input';
import { openPageMetrics, type PageMetrics } from '../bench/renderer-resources';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInAndRegister } from '../bench/softphone-ui';

const CALLS = 200;
/** The heap is compared between after this many calls and after the last one. */
const BASELINE_CALLS = 10;
const MAX_HEAP_GROWTH = 0.05;
/** Audio packets each side must send and receive per call: about 0.2 s of Opus at 50 packets per second. */
const MIN_AUDIO_PACKETS = 10;
const STEP_TIMEOUT_MS = 10_000;
/**
 * Wait before each heap reading. sip.js 0.21 keeps an INVITE transaction, and
 * with it the call's session and media streams, for 64 × T1 = 32 s after the 2xx
 * (Timers L and M of RFC 6026), so a reading right after the last call would
 * count the calls of the last 32 s as a leak.
 */
const TRANSACTION_SETTLE_MS = 35_000;
/** The whole run stops with a failure after this long, so a slow or stuck soak cannot run on unbounded. */
const RUN_LIMIT_MS = 12 * 60_000;

/**
 * Heap snapshot node types that are not objects the page's scripts create:
 * compiled code, Blink's C++ objects and V8 internals ("native"), and the
 * snapshot's own roots.
 */
const NON_OBJECT_NODE_TYPES = new Set(['code', 'native', 'synthetic', 'hidden']);

interface HeapReading {
  /** JSHeapUsedSize after a full GC. */
  jsHeapUsed: number;
  /** Heap snapshot total of every node. */
  snapshotTotal: number;
  /**
   * Heap snapshot nodes other than NON_OBJECT_NODE_TYPES and V8's own caches:
   * the JavaScript objects, closures, arrays and strings a leak adds.
   */
  objects: number;
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function readHeapAfterSettling(metrics: PageMetrics[]): Promise<HeapReading[]> {
  await delay(TRANSACTION_SETTLE_MS);

  const readings: HeapReading[] = [];
  for (const pageMetrics of metrics) {
    const jsHeapUsed = await pageMetrics.heapUsedAfterGc();
    const snapshot = await pageMetrics.heapSnapshotSizes();
    const objects = Object.entries(snapshot.bytesByType)
      .filter(([type]) => !NON_OBJECT_NODE_TYPES.has(type))
      .reduce((sum, [, bytes]) => sum + bytes, 0);
    readings.push({ jsHeapUsed, snapshotTotal: snapshot.totalBytes, objects });
  }
  return readings;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/** Returns the growth from `before` to `after` as a fraction: 0.05 is 5 %. */
function growth(before: number, after: number): number {
  return after / before - 1;
}

function describeGrowth(before: number, after: number): string {
  return `${megabytes(before)} → ${megabytes(after)} (${(growth(before, after) * 100).toFixed(1)} %)`;
}

/**
 * Removes closed peer connections from the probe's list, which otherwise keeps
 * every call's connection alive and would count against the app's heap.
 */
async function forgetClosedPeerConnections(page: Page): Promise<void> {
  await page.evaluate(() => {
    const created = (window as unknown as { __benchPeerConnections: RTCPeerConnection[] }).__benchPeerConnections;
    const open = created.filter((connection) => connection.connectionState !== 'closed');
    created.splice(0, created.length, ...open);
  });
}

function remoteAudioElements(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelectorAll('#remote-audio audio').length);
}

// The calls are driven with plain input events (see plain-input.ts), so that the
// heap readings do not count code compiled for Playwright's locators.
const NUMBER_FIELD = 'form.dialer input[aria-label="Number to call"]';

async function dial(page: Page, number: string): Promise<void> {
  await typeInto(page, NUMBER_FIELD, number);
  await clickElement(page, 'form.dialer button.call');
}

function waitForCallStatus(page: Page, status: string): Promise<void> {
  return waitForSelector(page, `.call-card[data-call-status="${status}"]`, 'present', STEP_TIMEOUT_MS);
}

async function waitForIdle(page: Page): Promise<void> {
  await waitForSelector(page, '.call-card', 'absent', STEP_TIMEOUT_MS);
  await waitForSelector(page, NUMBER_FIELD, 'present', STEP_TIMEOUT_MS);
}

async function audioFlowsBothWays(caller: Page, callee: Page): Promise<boolean> {
  const [fromCaller, fromCallee] = await Promise.all([readAudioPackets(caller), readAudioPackets(callee)]);
  return [fromCaller.packetsSent, fromCaller.packetsReceived, fromCallee.packetsSent, fromCallee.packetsReceived].every(
    (count) => count >= MIN_AUDIO_PACKETS,
  );
}

describe('soak: many short calls between two softphones', () => {
  const alice = benchLine(41, 'Alice Soak');
  const bob = benchLine(42, 'Bob Soak');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;
  let metricsA: PageMetrics;
  let metricsB: PageMetrics;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    [a, b] = await Promise.all([
      startSoftphoneInstance({ name: 'soak-alice', rendererUrl: bench.renderer.url }),
      startSoftphoneInstance({ name: 'soak-bob', rendererUrl: bench.renderer.url, initScripts: [installAutoAnswer] }),
    ]);
    await signInAndRegister(bench.platform.url, [
      { page: a.page, line: alice },
      { page: b.page, line: bob },
    ]);
    [metricsA, metricsB] = await Promise.all([openPageMetrics(a.page), openPageMetrics(b.page)]);
  });

  afterAll(async () => {
    await Promise.all([metricsA?.detach(), metricsB?.detach()]);
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
  });

  it(`${CALLS} calls with audio and no leaks`, { timeout: RUN_LIMIT_MS + 3 * 60_000 }, async () => {
    const startedAt = Date.now();
    let baseline: HeapReading[] = [];

    for (let call = 1; call <= CALLS; call += 1) {
      expect(Date.now() - startedAt, `time used before call ${call}`).toBeLessThan(RUN_LIMIT_MS);

      await dial(a.page, bob.username);
      await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
      await expect
        .poll(() => audioFlowsBothWays(a.page, b.page), {
          timeout: STEP_TIMEOUT_MS,
          interval: 50,
          message: `audio both ways in call ${call}`,
        })
        .toBe(true);

      await clickElement(a.page, '.call-card button.hang-up');
      await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

      for (const [name, page] of [
        ['caller', a.page],
        ['callee', b.page],
      ] as const) {
        await expect
          .poll(async () => (await readAudioPackets(page)).openPeerConnections, {
            timeout: 2_000,
            message: `open peer connections of the ${name} after call ${call}`,
          })
          .toBe(0);
        expect(await remoteAudioElements(page), `<audio> elements in #remote-audio of the ${name} after call ${call}`).toBe(0);
        await forgetClosedPeerConnections(page);
      }

      if (call === BASELINE_CALLS) baseline = await readHeapAfterSettling([metricsA, metricsB]);
    }

    expect(baseline, `heap readings after call ${BASELINE_CALLS}`).toHaveLength(2);
    const final = await readHeapAfterSettling([metricsA, metricsB]);

    const seconds = (Date.now() - startedAt) / 1000;
    const lines = ['caller', 'callee'].map((name, index) => {
      const before = baseline[index]!;
      const after = final[index]!;
      return (
        `  ${name}: JavaScript objects ${describeGrowth(before.objects, after.objects)}, ` +
        `whole snapshot ${describeGrowth(before.snapshotTotal, after.snapshotTotal)}, ` +
        `JSHeapUsedSize ${describeGrowth(before.jsHeapUsed, after.jsHeapUsed)}`
      );
    });
    console.log(`[soak] ${CALLS} calls in ${seconds.toFixed(0)} s; heap after call ${BASELINE_CALLS} → after call ${CALLS}:\n${lines.join('\n')}`);

    // The bound applies to JSHeapUsedSize, the heap as Chromium reports it, and to
    // the JavaScript objects alone. The whole snapshot, only printed, also counts
    // Blink's objects, among them the performance timeline entries (layout shift,
    // LCP and event timing, 150 at most of each) that every click adds to.
    for (const [index, name] of ['caller', 'callee'].entries()) {
      const before = baseline[index]!;
      const after = final[index]!;
      expect(growth(before.jsHeapUsed, after.jsHeapUsed), `${name} JSHeapUsedSize growth`).toBeLessThanOrEqual(MAX_HEAP_GROWTH);
      expect(growth(before.objects, after.objects), `${name} JavaScript object growth`).toBeLessThanOrEqual(MAX_HEAP_GROWTH);
    }
  });
});
