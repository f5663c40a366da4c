import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  findOffMachineTargets,
  installAutoAnswer,
  installCallMarks,
  measureCall,
  recordSipFrames,
  startUnansweredStunServer,
  type CallTiming,
  type SipFrameRecorder,
  type UnansweredStunServer,
} from '../bench/call-timing';
import { officialSdkSipInfo, openOfficialSdkPhone, startOfficialSdkSite, type OfficialSdkSite } from '../bench/official-sdk-page';
import { installRegisteredMark, registeredSpans } from '../bench/page-marks';
import { benchLine, platformUserFor, startSoftphoneBench, type BenchLine, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { report, summarize, type Figure } from './figures';

/**
 * Registration and call set-up of ringcentral-web-phone 2.x (the official
 * RingCentral WebRTC SDK) and of the app, measured by the same code in the same
 * run: page ready → Registered on page reloads, and for calls the click on
 * "Call" → first INVITE frame, → call card "established", → first received audio
 * packet (see test/bench/call-timing.ts). The SDK runs against a Kamailio
 * started with OFFICIAL_SDK_COMPAT; the app runs against that Kamailio and
 * against the plain one that every other test uses.
 */

const REGISTRATION_REPETITIONS = 20;
const CALL_REPETITIONS = 10;
/** Each call waits for ICE gathering on both sides, up to 2 s each in the SDK. */
const DEAD_STUN_CALL_REPETITIONS = 4;
/** Calls placed before the measured ones in each fresh pair of browsers, so that first-use costs stay out of the figures. */
const WARM_UP_CALLS = 1;

const SDK_VERSION = (
  JSON.parse(readFileSync(resolve(__dirname, '../../node_modules/ringcentral-web-phone/package.json'), 'utf8')) as {
    version: string;
  }
).version;

const PHONE_INIT_SCRIPTS = [installRegisteredMark, installCallMarks, installAutoAnswer];

/** A caller and a callee, both registered, with the caller's SIP frames recorded. */
interface PhonePair {
  caller: Page;
  callee: Page;
  callerFrames: SipFrameRecorder;
  calleeNumber: string;
  /** Every URL the caller page requested over HTTP(S). */
  callerRequests: string[];
  close(): Promise<void>;
}

interface Series {
  label: string;
  registered: number[];
  /** Navigation start → Registered, the same reloads as `registered`. */
  registeredFromNavigation: number[];
  calls: CallTiming[];
  deadStunCalls: CallTiming[];
}

function watchRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  return urls;
}

async function openSdkPair(
  site: OfficialSdkSite,
  bench: SoftphoneBench,
  caller: BenchLine,
  callee: BenchLine,
  stunServers: string[],
): Promise<PhonePair> {
  const callerPhone = await openOfficialSdkPhone({
    name: 'sdk-caller',
    siteUrl: site.url,
    sipInfo: officialSdkSipInfo(caller, bench.kamailio, stunServers),
    initScripts: PHONE_INIT_SCRIPTS,
  });
  const calleePhone = await openOfficialSdkPhone({
    name: 'sdk-callee',
    siteUrl: site.url,
    sipInfo: officialSdkSipInfo(callee, bench.kamailio, stunServers),
    initScripts: PHONE_INIT_SCRIPTS,
  }).catch(async (error: unknown) => {
    await callerPhone.close();
    throw error;
  });

  // The recorder records only WebSockets opened after it starts, hence the reload.
  const callerFrames = recordSipFrames(callerPhone.page);
  const callerRequests = watchRequests(callerPhone.page);
  await callerPhone.page.reload();
  await Promise.all([waitForRegistered(callerPhone.page), waitForRegistered(calleePhone.page)]);

  return {
    caller: callerPhone.page,
    callee: calleePhone.page,
    callerFrames,
    calleeNumber: callee.username,
    callerRequests,
    async close() {
      await Promise.all([callerPhone.close(), calleePhone.close()]);
    },
  };
}

async function openAppPair(bench: SoftphoneBench, caller: BenchLine, callee: BenchLine): Promise<PhonePair> {
  const callerPhone = await startSoftphoneInstance({
    name: 'app-caller',
    rendererUrl: bench.renderer.url,
    initScripts: PHONE_INIT_SCRIPTS,
  });
  const calleePhone = await startSoftphoneInstance({
    name: 'app-callee',
    rendererUrl: bench.renderer.url,
    initScripts: PHONE_INIT_SCRIPTS,
  }).catch(async (error: unknown) => {
    await callerPhone.close();
    throw error;
  });

  try {
    await Promise.all([
      signInWithJwt(callerPhone.page, bench.platform.url, caller.jwtCredential),
      signInWithJwt(calleePhone.page, bench.platform.url, callee.jwtCredential),
    ]);
    await Promise.all([waitForRegistered(callerPhone.page), waitForRegistered(calleePhone.page)]);

    // The recorder records only WebSockets opened after it starts, hence the
    // reload. The main-process service keeps the sign-in and the SIP profile across it.
    const callerFrames = recordSipFrames(callerPhone.page);
    const callerRequests = watchRequests(callerPhone.page);
    await callerPhone.page.reload();
    await waitForRegistered(callerPhone.page);

    return {
      caller: callerPhone.page,
      callee: calleePhone.page,
      callerFrames,
      calleeNumber: callee.username,
      callerRequests,
      async close() {
        await Promise.all([callerPhone.quit(), calleePhone.quit()]);
        await Promise.all([callerPhone.close(), calleePhone.close()]);
      },
    };
  } catch (error) {
    await Promise.all([callerPhone.close(), calleePhone.close()]);
    throw error;
  }
}

async function measureRegistrations(pair: PhonePair, series: Series): Promise<void> {
  for (let run = 0; run < REGISTRATION_REPETITIONS; run += 1) {
    await pair.caller.reload();
    const spans = await registeredSpans(pair.caller);
    series.registered.push(spans.fromPageReady);
    series.registeredFromNavigation.push(spans.fromNavigationStart);
  }
}

/**
 * Places WARM_UP_CALLS and then `count` measured calls. The first measured call
 * also checks that nothing leaves 127.0.0.1 or this machine's own addresses.
 */
async function measureCalls(pair: PhonePair, count: number, samples: CallTiming[], deadStun?: UnansweredStunServer) {
  const stunRequestsBefore = deadStun?.requests() ?? 0;

  for (let call = 0; call < WARM_UP_CALLS + count; call += 1) {
    const checkTargets = call === WARM_UP_CALLS;
    const timing = await measureCall({
      caller: pair.caller,
      callee: pair.callee,
      number: pair.calleeNumber,
      callerFrames: pair.callerFrames,
      whileEstablished: checkTargets
        ? async () => {
            for (const page of [pair.caller, pair.callee]) {
              const targets = await findOffMachineTargets(page);
              expect(targets.iceServers).toEqual([]);
              expect(targets.candidateAddresses).toEqual([]);
              expect(targets.candidateTypes).toEqual([]);
            }
          }
        : undefined,
    });
    if (call >= WARM_UP_CALLS) samples.push(timing);
    pair.callerFrames.clear();
  }

  // The dead STUN server must have been asked, or the figures would not show its cost.
  if (deadStun) expect(deadStun.requests()).toBeGreaterThan(stunRequestsBefore);

  for (const url of pair.callerFrames.webSocketUrls) expect(new URL(url).hostname).toBe('127.0.0.1');
  for (const url of pair.callerRequests) expect(new URL(url).hostname).toBe('127.0.0.1');
}

function callFigures(timings: CallTiming[], suffix: string): Figure[] {
  return [
    { name: `click → INVITE on the wire${suffix} (ms)`, samples: timings.map((t) => t.clickToInviteMs) },
    { name: `click → Established${suffix} (ms)`, samples: timings.map((t) => t.clickToEstablishedMs) },
    { name: `click → first audio packet${suffix} (ms)`, samples: timings.map((t) => t.clickToFirstAudioMs) },
  ];
}

function seriesFigures(series: Series): Figure[] {
  return [
    { name: 'page ready → Registered (ms)', samples: series.registered },
    { name: 'navigation start → Registered (ms)', samples: series.registeredFromNavigation },
    ...callFigures(series.calls, ''),
    ...callFigures(series.deadStunCalls, ', unanswered STUN'),
  ];
}

function formatMedian(figure: Figure): string {
  const { median, min, max } = summarize(figure);
  return `${median.toFixed(0)} (${min.toFixed(0)}–${max.toFixed(0)})`;
}

/** Prints each app series' medians beside the SDK's, with the ratio app / SDK (below 1: the app is faster). */
function printComparison(sdk: Series, apps: Series[]): void {
  const sdkFigures = seriesFigures(sdk);
  const appFigures = apps.map(seriesFigures);
  const header = ['figure', `${sdk.label}: median (min–max)`, ...apps.flatMap((app) => [`${app.label}: median (min–max)`, 'ratio app / SDK'])];

  const rows = sdkFigures.map((sdkFigure, index) => {
    const sdkMedian = summarize(sdkFigure).median;
    const cells = appFigures.flatMap((figures) => {
      const figure = figures[index]!;
      return [formatMedian(figure), (summarize(figure).median / sdkMedian).toFixed(2)];
    });
    return [sdkFigure.name, formatMedian(sdkFigure), ...cells];
  });

  const lines = [
    '',
    '### App compared with the official SDK (medians, ms)',
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
  console.log(lines.join('\n'));
}

describe(`ringcentral-web-phone ${SDK_VERSION} compared with the app`, () => {
  const sdkCaller = benchLine(21, 'SDK Caller');
  const sdkCallee = benchLine(22, 'SDK Callee');
  const appCaller = benchLine(23, 'App Caller');
  const appCallee = benchLine(24, 'App Callee');
  const appDeadStunCaller = benchLine(25, 'App Caller Dead STUN');
  const appDeadStunCallee = benchLine(26, 'App Callee Dead STUN');
  const lines = [sdkCaller, sdkCallee, appCaller, appCallee, appDeadStunCaller, appDeadStunCallee];

  let compatBench: SoftphoneBench;
  let plainBench: SoftphoneBench;
  let site: OfficialSdkSite;
  let deadStun: UnansweredStunServer;

  beforeAll(async () => {
    compatBench = await startSoftphoneBench(lines, { officialSdkCompat: true });
    plainBench = await startSoftphoneBench(lines);
    site = await startOfficialSdkSite();
    deadStun = await startUnansweredStunServer();

    for (const bench of [compatBench, plainBench]) {
      for (const line of [appDeadStunCaller, appDeadStunCallee]) {
        const user = platformUserFor(line, bench.kamailio);
        const sipInfo = user.sipInfo.map((entry) => ({ ...entry, stunServers: [deadStun.hostPort] }));
        bench.platform.setUser(line.ownerId, { sipInfo });
      }
    }
  });

  afterAll(async () => {
    await site?.close();
    await deadStun?.close();
    await compatBench?.stop();
    await plainBench?.stop();
  });

  it('measures registration and call set-up of both phones', async () => {
    const sdk: Series = { label: `SDK ${SDK_VERSION}, compat Kamailio`, registered: [], registeredFromNavigation: [], calls: [], deadStunCalls: [] };
    const appCompat: Series = { label: 'app, compat Kamailio', registered: [], registeredFromNavigation: [], calls: [], deadStunCalls: [] };
    const appPlain: Series = { label: 'app, plain Kamailio', registered: [], registeredFromNavigation: [], calls: [], deadStunCalls: [] };

    const runPhase = async (open: () => Promise<PhonePair>, work: (pair: PhonePair) => Promise<void>) => {
      const pair = await open();
      try {
        await work(pair);
      } finally {
        await pair.close();
      }
    };

    // Without a STUN server: registration and calls, one phone kind after the other.
    await runPhase(
      () => openSdkPair(site, compatBench, sdkCaller, sdkCallee, []),
      async (pair) => {
        await measureRegistrations(pair, sdk);
        await measureCalls(pair, CALL_REPETITIONS, sdk.calls);
      },
    );
    for (const [series, bench] of [
      [appCompat, compatBench],
      [appPlain, plainBench],
    ] as const) {
      await runPhase(
        () => openAppPair(bench, appCaller, appCallee),
        async (pair) => {
          await measureRegistrations(pair, series);
          await measureCalls(pair, CALL_REPETITIONS, series.calls);
        },
      );
    }

    // With a STUN server that never replies, on both sides of the call.
    await runPhase(
      () => openSdkPair(site, compatBench, sdkCaller, sdkCallee, [deadStun.hostPort]),
      (pair) => measureCalls(pair, DEAD_STUN_CALL_REPETITIONS, sdk.deadStunCalls, deadStun),
    );
    for (const [series, bench] of [
      [appCompat, compatBench],
      [appPlain, plainBench],
    ] as const) {
      await runPhase(
        () => openAppPair(bench, appDeadStunCaller, appDeadStunCallee),
        (pair) => measureCalls(pair, DEAD_STUN_CALL_REPETITIONS, series.deadStunCalls, deadStun),
      );
    }

    for (const series of [sdk, appCompat, appPlain]) {
      report(`Registration and calls: ${series.label} (Chromium, wss)`, seriesFigures(series));
    }
    printComparison(sdk, [appCompat, appPlain]);

    expect(sdk.calls).toHaveLength(CALL_REPETITIONS);
    expect(appPlain.deadStunCalls).toHaveLength(DEAD_STUN_CALL_REPETITIONS);
  });
});
