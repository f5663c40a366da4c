import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { answerToFirstAudioMs, armAnswerMarks, installAnswerMarks } from '../bench/answer-timing';
import {
  installAutoAnswer,
  installCallMarks,
  measureCall,
  recordSipFrames,
  startUnansweredStunServer,
  type SipFrameRecorder,
  type UnansweredStunServer,
} from '../bench/call-timing';
import { benchLine, platformUserFor, startSoftphoneBench, type BenchLine, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { signInWithJwt, waitForRegistered } from '../bench/softphone-ui';
import { report, type Figure } from './figures';

/**
 * Call set-up of the app between two softphones on the bench (Chromium, wss,
 * Kamailio on 127.0.0.1): the click on "Call" → the INVITE frame on the
 * caller's WebSocket, the INVITE → the caller's call card "established", and
 * the callee's click on "Answer" → the first audio packet the callee receives.
 * The second row of each figure gives both phones a STUN server that never
 * answers, which without a bound on ICE gathering holds every INVITE and 200 OK
 * for seconds.
 */

const CALL_REPETITIONS = 10;
/** A first call in each pair of browsers pays one-time costs (microphone start-up, codec set-up) kept out of the figures. */
const WARM_UP_CALLS = 1;

interface Pair {
  caller: SoftphoneInstance;
  callee: SoftphoneInstance;
  callerFrames: SipFrameRecorder;
}

interface Samples {
  clickToInvite: number[];
  inviteToEstablished: number[];
  answerToFirstAudio: number[];
}

async function openPair(bench: SoftphoneBench, callerLine: BenchLine, calleeLine: BenchLine): Promise<Pair> {
  const caller = await startSoftphoneInstance({
    name: 'bench-caller',
    rendererUrl: bench.renderer.url,
    initScripts: [installCallMarks],
  });
  const callee = await startSoftphoneInstance({
    name: 'bench-callee',
    rendererUrl: bench.renderer.url,
    initScripts: [installCallMarks, installAnswerMarks, installAutoAnswer],
  });

  await Promise.all([
    signInWithJwt(caller.page, bench.platform.url, callerLine.jwtCredential),
    signInWithJwt(callee.page, bench.platform.url, calleeLine.jwtCredential),
  ]);
  await Promise.all([waitForRegistered(caller.page), waitForRegistered(callee.page)]);

  // The recorder sees only WebSockets opened after it starts; the service keeps the sign-in over the reload.
  const callerFrames = recordSipFrames(caller.page);
  await caller.page.reload();
  await waitForRegistered(caller.page);
  return { caller, callee, callerFrames };
}

async function measureCalls(pair: Pair, calleeNumber: string, samples: Samples): Promise<void> {
  for (let call = 0; call < WARM_UP_CALLS + CALL_REPETITIONS; call += 1) {
    await armAnswerMarks(pair.callee.page);
    let answerMs = 0;

    const timing = await measureCall({
      caller: pair.caller.page,
      callee: pair.callee.page,
      number: calleeNumber,
      callerFrames: pair.callerFrames,
      whileEstablished: async () => {
        answerMs = await answerToFirstAudioMs(pair.callee.page);
      },
    });
    pair.callerFrames.clear();
    if (call < WARM_UP_CALLS) continue;

    samples.clickToInvite.push(timing.clickToInviteMs);
    samples.inviteToEstablished.push(timing.clickToEstablishedMs - timing.clickToInviteMs);
    samples.answerToFirstAudio.push(answerMs);
  }
}

function figures(samples: Samples, suffix: string): Figure[] {
  return [
    { name: `click → INVITE${suffix} (ms)`, samples: samples.clickToInvite },
    { name: `INVITE → Established${suffix} (ms)`, samples: samples.inviteToEstablished },
    { name: `answer → first audio packet${suffix} (ms)`, samples: samples.answerToFirstAudio },
  ];
}

async function closePair(pair: Pair | null): Promise<void> {
  if (!pair) return;
  await Promise.all([pair.caller.close(), pair.callee.close()]);
}

describe('call set-up of the app', () => {
  const caller = benchLine(31, 'Bench Caller');
  const callee = benchLine(32, 'Bench Callee');
  const deadStunCaller = benchLine(33, 'Bench Caller Dead STUN');
  const deadStunCallee = benchLine(34, 'Bench Callee Dead STUN');
  let bench: SoftphoneBench;
  let deadStun: UnansweredStunServer;

  beforeAll(async () => {
    bench = await startSoftphoneBench([caller, callee, deadStunCaller, deadStunCallee]);
    deadStun = await startUnansweredStunServer();

    for (const line of [deadStunCaller, deadStunCallee]) {
      const user = platformUserFor(line, bench.kamailio);
      bench.platform.setUser(line.ownerId, {
        sipInfo: user.sipInfo.map((entry) => ({ ...entry, stunServers: [deadStun.hostPort] })),
      });
    }
  });

  afterAll(async () => {
    await deadStun?.close();
    await bench?.stop();
  });

  it('measures click → INVITE, INVITE → Established and answer → first audio', async () => {
    const plain: Samples = { clickToInvite: [], inviteToEstablished: [], answerToFirstAudio: [] };
    const unanswered: Samples = { clickToInvite: [], inviteToEstablished: [], answerToFirstAudio: [] };

    let pair: Pair | null = null;
    try {
      pair = await openPair(bench, caller, callee);
      await measureCalls(pair, callee.username, plain);
    } finally {
      await closePair(pair);
    }

    const stunRequestsBefore = deadStun.requests();
    pair = null;
    try {
      pair = await openPair(bench, deadStunCaller, deadStunCallee);
      await measureCalls(pair, deadStunCallee.username, unanswered);
    } finally {
      await closePair(pair);
    }
    // The STUN server must have been asked, or the second row would not show its cost.
    expect(deadStun.requests()).toBeGreaterThan(stunRequestsBefore);

    const rows = [figures(plain, ''), figures(unanswered, ', STUN server not answering')];
    report('Call set-up (Chromium, wss, loopback)', [rows[0]![0]!, rows[1]![0]!, rows[0]![1]!, rows[1]![1]!, rows[0]![2]!, rows[1]![2]!]);
    expect(plain.clickToInvite).toHaveLength(CALL_REPETITIONS);
    expect(unanswered.clickToInvite).toHaveLength(CALL_REPETITIONS);
  });
});
