import type { Page } from 'playwright-core';

/** Page-side state of installAnswerMarks(); times are epoch ms on the page's clock. */
interface AnswerMarks {
  armed: boolean;
  /** Peer connections the page had created when the marks were armed. */
  peerConnectionsBefore: number;
  answeredAt: number | null;
  firstAudioAt: number | null;
}

interface AnswerMarkedWindow {
  __benchAnswerMarks: AnswerMarks;
  __benchPeerConnections?: RTCPeerConnection[];
}

/**
 * Installed with `page.addInitScript` on a callee (after
 * installPeerConnectionProbe). Once armAnswerMarks() has run, it records the
 * click on "Answer" and the first audio packet this page receives on a peer
 * connection created after arming. getStats() is polled every 2 ms once the
 * connection is "connected", so the mark is late by up to one poll plus one
 * getStats() call.
 */
export function installAnswerMarks(): void {
  const markedWindow = window as unknown as AnswerMarkedWindow;
  const POLL_INTERVAL_MS = 2;
  const POLL_LIMIT_MS = 20_000;
  const pageNow = () => performance.timeOrigin + performance.now();
  const marks: AnswerMarks = { armed: false, peerConnectionsBefore: 0, answeredAt: null, firstAudioAt: null };
  markedWindow.__benchAnswerMarks = marks;

  const pollFirstAudio = async (startedAt: number) => {
    while (marks.armed && marks.firstAudioAt === null && pageNow() - startedAt < POLL_LIMIT_MS) {
      const connections = (markedWindow.__benchPeerConnections ?? []).slice(marks.peerConnectionsBefore);
      for (const connection of connections.filter((candidate) => candidate.connectionState === 'connected')) {
        const report = await connection.getStats();
        let received = 0;
        report.forEach((entry: { type: string; kind?: string; packetsReceived?: number }) => {
          if (entry.type === 'inbound-rtp' && entry.kind === 'audio') received += entry.packetsReceived ?? 0;
        });
        if (received > 0 && marks.firstAudioAt === null) marks.firstAudioAt = pageNow();
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  };

  window.addEventListener(
    'click',
    (event) => {
      if (!marks.armed || marks.answeredAt !== null) return;
      const button = (event.target as Element | null)?.closest?.('button');
      if (button?.textContent?.trim() !== 'Answer') return;

      marks.answeredAt = performance.timeOrigin + event.timeStamp;
      void pollFirstAudio(marks.answeredAt);
    },
    true,
  );
}

/** Resets the callee's answer marks and starts watching for the next answer. */
export async function armAnswerMarks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const markedWindow = window as unknown as AnswerMarkedWindow;
    const marks = markedWindow.__benchAnswerMarks;
    if (!marks) throw new Error('installAnswerMarks was not added as an init script of this page');

    marks.armed = false;
    marks.answeredAt = null;
    marks.firstAudioAt = null;
    marks.peerConnectionsBefore = markedWindow.__benchPeerConnections?.length ?? 0;
    marks.armed = true;
  });
}

/** Waits for the callee's first audio packet and returns the time from its Answer click, in ms. */
export async function answerToFirstAudioMs(page: Page, timeoutMs = 15_000): Promise<number> {
  await page.waitForFunction(() => (window as unknown as AnswerMarkedWindow).__benchAnswerMarks.firstAudioAt !== null, undefined, {
    timeout: timeoutMs,
    polling: 20,
  });
  return page.evaluate(() => {
    const marks = (window as unknown as AnswerMarkedWindow).__benchAnswerMarks;
    marks.armed = false;
    if (marks.answeredAt === null || marks.firstAudioAt === null) throw new Error(`Incomplete answer marks: ${JSON.stringify(marks)}`);
    return marks.firstAudioAt - marks.answeredAt;
  });
}
