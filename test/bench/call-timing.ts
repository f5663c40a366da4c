/**
 * Call set-up timing measured the same way for any phone page that uses the
 * app's markup: the "Number to call" field, a "Call" button, and a
 * `.call-card[data-call-status]` with "Answer" and "Hang up" buttons. The app's
 * renderer and the official SDK's driver page (official-sdk-driver.ts) both do.
 *
 * Clocks: page marks are epoch milliseconds on the page's clock
 * (`performance.timeOrigin + performance.now()`); SIP frames seen by Playwright
 * are stamped with the same expression in Node when the frame event arrives, and
 * measureClockOffset() maps them onto the page's clock.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';

import type { Page } from 'playwright-core';

import { dial, waitForCallStatus, waitForIdle } from './softphone-ui';

/** Fields of a page's marks that the first-audio poll reads and writes. Times are epoch ms on the page's clock. */
export interface FirstAudioMarks {
  /** The poll runs only while this is true. */
  armed: boolean;
  /** Peer connections the page had created when the marks were armed; later ones belong to the call. */
  peerConnectionsBefore: number;
  /** When getStats() first returned an inbound audio packet count above 0. */
  firstAudioAt: number | null;
}

/**
 * Page-side poll that sets `marks.firstAudioAt` once a peer connection created
 * after arming receives audio. It stops when the marks are disarmed, when the
 * mark is set, or 20 s after `startedAt`.
 */
export type FirstAudioPoll = (marks: FirstAudioMarks, startedAt: number) => Promise<void>;

/** Page-side state written by installCallMarks(); every time is epoch ms on the page's clock. */
interface CallMarks extends FirstAudioMarks {
  clickedAt: number | null;
  establishedAt: number | null;
}

interface MarkedWindow {
  __benchCallMarks: CallMarks;
  __benchPeerConnections?: RTCPeerConnection[];
  /** installCallMarks() sets it, so that other init scripts, such as installAnswerMarks(), poll the same way. */
  __benchPollFirstAudio?: FirstAudioPoll;
}

/**
 * Installed with `page.addInitScript` (after installPeerConnectionProbe). Once
 * armCallMarks() has run, it records the click on the "Call" button, the first
 * `.call-card[data-call-status="established"]`, and the first received audio
 * packet of a peer connection created after arming. It also sets
 * `window.__benchPollFirstAudio` for other init scripts on the page.
 *
 * The audio check polls every 2 ms but calls getStats() only on a connection whose
 * connectionState is "connected", since no RTP arrives before DTLS completes. The
 * recorded time is when getStats() resolved, so it is late by up to one poll
 * interval plus one getStats() call.
 */
export function installCallMarks(): void {
  const markedWindow = window as unknown as MarkedWindow;
  const POLL_INTERVAL_MS = 2;
  const POLL_LIMIT_MS = 20_000;
  const pageNow = () => performance.timeOrigin + performance.now();

  const marks: CallMarks = {
    armed: false,
    peerConnectionsBefore: 0,
    clickedAt: null,
    establishedAt: null,
    firstAudioAt: null,
  };
  markedWindow.__benchCallMarks = marks;

  const pollFirstAudio: FirstAudioPoll = async (pollMarks, startedAt) => {
    while (pollMarks.armed && pollMarks.firstAudioAt === null && pageNow() - startedAt < POLL_LIMIT_MS) {
      const created = markedWindow.__benchPeerConnections ?? [];
      const connected = created
        .slice(pollMarks.peerConnectionsBefore)
        .filter((connection) => connection.connectionState === 'connected');

      for (const connection of connected) {
        // A connection closed since the filter makes getStats() reject; the next round skips it.
        const report = await connection.getStats().catch(() => null);
        if (!report) continue;

        let received = 0;
        report.forEach((entry: { type: string; kind?: string; packetsReceived?: number }) => {
          if (entry.type === 'inbound-rtp' && entry.kind === 'audio') received += entry.packetsReceived ?? 0;
        });
        if (received > 0 && pollMarks.firstAudioAt === null) pollMarks.firstAudioAt = pageNow();
      }

      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  };
  markedWindow.__benchPollFirstAudio = pollFirstAudio;

  window.addEventListener(
    'click',
    (event) => {
      if (!marks.armed || marks.clickedAt !== null) return;

      const button = (event.target as Element | null)?.closest?.('button');
      if (button?.textContent?.trim() !== 'Call') return;

      marks.clickedAt = performance.timeOrigin + event.timeStamp;
      void pollFirstAudio(marks, marks.clickedAt);
    },
    true,
  );

  const observer = new MutationObserver(() => {
    if (!marks.armed || marks.establishedAt !== null) return;
    if (document.querySelector('.call-card[data-call-status="established"]')) marks.establishedAt = pageNow();
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-call-status'] });
}

/**
 * Installed with `page.addInitScript` on a callee: clicks "Answer" as soon as a
 * ringing call card shows it, as a user who answers at once would.
 */
export function installAutoAnswer(): void {
  const answered = new WeakSet<Element>();

  const observer = new MutationObserver(() => {
    for (const card of document.querySelectorAll('.call-card[data-call-status="ringing"]')) {
      if (answered.has(card)) continue;

      const answer = [...card.querySelectorAll('button')].find((button) => button.textContent?.trim() === 'Answer');
      if (!answer) continue;

      answered.add(card);
      answer.click();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-call-status'] });
}

/** Resets the page's call marks and starts watching for the next call. */
export async function armCallMarks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const markedWindow = window as unknown as MarkedWindow;
    const marks = markedWindow.__benchCallMarks;
    if (!marks) throw new Error('installCallMarks was not added as an init script of this page');

    marks.armed = false;
    marks.clickedAt = null;
    marks.establishedAt = null;
    marks.firstAudioAt = null;
    marks.peerConnectionsBefore = markedWindow.__benchPeerConnections?.length ?? 0;
    marks.armed = true;
  });
}

async function readCallMarks(page: Page): Promise<CallMarks> {
  return page.evaluate(() => ({ ...(window as unknown as MarkedWindow).__benchCallMarks }));
}

/**
 * Epoch milliseconds on this process's high-resolution clock, comparable with a
 * page's. It uses Node's global `performance`: an imported binding would be
 * renamed by vitest's transform inside the functions sent to the page.
 */
export function nodeNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Estimates the page clock minus this process's clock in milliseconds, from the
 * round trip with the smallest delay among `samples` evaluations. Both clocks
 * are epoch-based, so the offset is usually below 1 ms. Measuring it keeps a
 * clock step between the two start-ups out of the figures.
 */
export async function measureClockOffset(page: Page, samples = 5): Promise<number> {
  let best = { roundTrip: Number.POSITIVE_INFINITY, offset: 0 };

  for (let i = 0; i < samples; i += 1) {
    const before = nodeNow();
    const pageTime = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = nodeNow();

    if (after - before < best.roundTrip) best = { roundTrip: after - before, offset: pageTime - (before + after) / 2 };
  }
  return best.offset;
}

export interface SipFrame {
  /** Epoch ms on this process's clock when Playwright reported the frame. */
  at: number;
  direction: 'sent' | 'received';
  /** URL of the WebSocket that carried the frame. */
  url: string;
  payload: string;
}

/** SIP over WebSocket frames of one page, as Playwright reports them. */
export interface SipFrameRecorder {
  readonly frames: readonly SipFrame[];
  /** URLs of every WebSocket the page opened since recording began. */
  readonly webSocketUrls: readonly string[];
  /** Returns the first sent request of this method at or after `since` (this process's clock), or undefined. */
  firstSentRequest(method: string, since: number): SipFrame | undefined;
  /** Drops the frames recorded so far, so that a long run does not keep them all. */
  clear(): void;
}

/**
 * Records the page's WebSocket frames with their arrival time. Only sockets
 * opened after this call are seen, so call it before the page loads or reload
 * the page afterwards.
 */
export function recordSipFrames(page: Page): SipFrameRecorder {
  let frames: SipFrame[] = [];
  const webSocketUrls: string[] = [];

  page.on('websocket', (socket) => {
    const url = socket.url();
    webSocketUrls.push(url);
    socket.on('framesent', ({ payload }) => {
      frames.push({ at: nodeNow(), direction: 'sent', url, payload: String(payload) });
    });
    socket.on('framereceived', ({ payload }) => {
      frames.push({ at: nodeNow(), direction: 'received', url, payload: String(payload) });
    });
  });

  return {
    get frames() {
      return frames;
    },
    webSocketUrls,
    firstSentRequest(method, since) {
      return frames.find((frame) => frame.direction === 'sent' && frame.at >= since && frame.payload.startsWith(`${method} `));
    },
    clear() {
      frames = [];
    },
  };
}

/** One call's set-up figures in milliseconds, all from the click on "Call". */
export interface CallTiming {
  /** Until Playwright reports the first INVITE frame sent on the caller's WebSocket. */
  clickToInviteMs: number;
  /** Until the caller's call card shows "established". */
  clickToEstablishedMs: number;
  /** Until the caller's getStats() first shows a received audio packet. */
  clickToFirstAudioMs: number;
}

export interface MeasuredCallOptions {
  caller: Page;
  /** The callee page, with installAutoAnswer among its init scripts. */
  callee: Page;
  /** What the caller types in "Number to call". */
  number: string;
  /** Recorder of the caller page, started before its WebSocket opened. */
  callerFrames: SipFrameRecorder;
  /** Limit for each step of the call, in ms (default 15 000). */
  timeoutMs?: number;
  /** Runs while the call is established, before the caller hangs up. */
  whileEstablished?: () => Promise<void>;
}

/**
 * Places one call from `caller` to `callee` through the UI, waits until the
 * caller has received audio, hangs up from the caller and waits until both pages
 * are idle again. Both pages need installPeerConnectionProbe and
 * installCallMarks as init scripts.
 */
export async function measureCall(options: MeasuredCallOptions): Promise<CallTiming> {
  const { caller, callee, callerFrames } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;

  await armCallMarks(caller);
  const offset = await measureClockOffset(caller);
  const armedAt = nodeNow();

  await dial(caller, options.number);
  await waitForCallStatus(caller, 'established', timeoutMs);
  await caller.waitForFunction(
    () => (window as unknown as MarkedWindow).__benchCallMarks.firstAudioAt !== null,
    undefined,
    { timeout: timeoutMs, polling: 20 },
  );
  await waitForCallStatus(callee, 'established', timeoutMs);

  const marks = await readCallMarks(caller);
  const invite = callerFrames.firstSentRequest('INVITE', armedAt);
  if (marks.clickedAt === null) throw new Error('No click on the Call button was recorded on the caller page');
  if (marks.establishedAt === null || marks.firstAudioAt === null) {
    throw new Error(`The caller page's call marks are incomplete: ${JSON.stringify(marks)}`);
  }
  if (!invite) throw new Error('No INVITE was seen on the caller page\'s WebSocket after the click');

  if (options.whileEstablished) await options.whileEstablished();

  await caller.getByRole('region', { name: 'Call' }).getByRole('button', { name: 'Hang up' }).click();
  await Promise.all([waitForIdle(caller, timeoutMs), waitForIdle(callee, timeoutMs)]);
  await caller.evaluate(() => {
    (window as unknown as MarkedWindow).__benchCallMarks.armed = false;
  });

  return {
    clickToInviteMs: invite.at + offset - marks.clickedAt,
    clickToEstablishedMs: marks.establishedAt - marks.clickedAt,
    clickToFirstAudioMs: marks.firstAudioAt - marks.clickedAt,
  };
}

/** A UDP port on 127.0.0.1 that takes STUN requests and never replies, like an unreachable STUN server. */
export interface UnansweredStunServer {
  /** "127.0.0.1:<port>", in the form of RingCentral's stunServers entries. */
  hostPort: string;
  /** Number of datagrams received so far. */
  requests(): number;
  close(): Promise<void>;
}

export async function startUnansweredStunServer(): Promise<UnansweredStunServer> {
  const socket: Socket = createSocket('udp4');
  let received = 0;
  socket.on('message', () => {
    received += 1;
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });

  return {
    hostPort: `127.0.0.1:${socket.address().port}`,
    requests: () => received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** What a page's peer connections would reach beyond this machine. */
export interface OffMachineTargets {
  /** ICE server URLs whose host is not 127.0.0.1. */
  iceServers: string[];
  /** Addresses of ICE candidates (local and remote) that belong to no interface of this machine. */
  candidateAddresses: string[];
  /** Types of local candidates other than "host" (srflx or relay would mean a STUN or TURN response). */
  candidateTypes: string[];
}

/**
 * Lists what the page's peer connections could reach outside this machine:
 * every candidate address must belong to a local interface and every ICE server
 * must be on 127.0.0.1. Call it while a call is established.
 */
export async function findOffMachineTargets(page: Page): Promise<OffMachineTargets> {
  const localAddresses = new Set(
    Object.values(networkInterfaces())
      .flat()
      .filter((entry) => entry !== undefined)
      .map((entry) => entry.address),
  );

  const seen = await page.evaluate(async () => {
    const connections = (window as unknown as MarkedWindow).__benchPeerConnections ?? [];
    const iceServers: string[] = [];
    const candidates: Array<{ address: string; type: string; local: boolean }> = [];

    for (const connection of connections) {
      for (const server of connection.getConfiguration().iceServers ?? []) {
        iceServers.push(...(Array.isArray(server.urls) ? server.urls : [server.urls]));
      }
      if (connection.connectionState === 'closed') continue;

      const report = await connection.getStats();
      report.forEach((entry: { type: string; address?: string; candidateType?: string }) => {
        if (entry.type !== 'local-candidate' && entry.type !== 'remote-candidate') return;
        candidates.push({
          address: entry.address ?? '',
          type: entry.candidateType ?? '',
          local: entry.type === 'local-candidate',
        });
      });
    }
    return { iceServers, candidates };
  });

  return {
    iceServers: seen.iceServers.filter((url) => !/^stuns?:127\.0\.0\.1(:\d+)?$/.test(url)),
    candidateAddresses: seen.candidates.map((candidate) => candidate.address).filter((address) => !localAddresses.has(address)),
    candidateTypes: seen.candidates.filter((candidate) => candidate.local && candidate.type !== 'host').map((c) => c.type),
  };
}
