import type { Page } from 'playwright-core';

import type { FirstAudioMarks, FirstAudioPoll } from './call-timing';

/** Page-side state of installAnswerMarks(); times are epoch ms on the page's clock. */
interface AnswerMarks extends FirstAudioMarks {
  answeredAt: number | null;
}

interface AnswerMarkedWindow {
  __benchAnswerMarks: AnswerMarks;
  /** Set by installCallMarks() from call-timing.ts. */
  __benchPollFirstAudio?: FirstAudioPoll;
  __benchPeerConnections?: RTCPeerConnection[];
}

/**
 * Installed with `page.addInitScript` on a callee (after
 * installPeerConnectionProbe, and together with installCallMarks, whose
 * first-audio poll it reuses). Once armAnswerMarks() has run, it records the
 * click on "Answer" and the first audio packet this page receives on a peer
 * connection created after arming. getStats() is polled every 2 ms once the
 * connection is "connected", so the mark is late by up to one poll plus one
 * getStats() call.
 */
export function installAnswerMarks(): void {
  // Playwright sends this function to the page as source text, so it cannot
  // call an imported helper and takes the poll that installCallMarks() put on `window`.
  const markedWindow = window as unknown as AnswerMarkedWindow;
  const marks: AnswerMarks = { armed: false, peerConnectionsBefore: 0, answeredAt: null, firstAudioAt: null };
  markedWindow.__benchAnswerMarks = marks;

  window.addEventListener(
    'click',
    (event) => {
      if (!marks.armed || marks.answeredAt !== null) return;
      const button = (event.target as Element | null)?.closest?.('button');
      if (button?.textContent?.trim() !== 'Answer') return;

      marks.answeredAt = performance.timeOrigin + event.timeStamp;
      void markedWindow.__benchPollFirstAudio?.(marks, marks.answeredAt);
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
    if (!markedWindow.__benchPollFirstAudio) {
      throw new Error('installCallMarks was not added as an init script of this page, and installAnswerMarks needs its first-audio poll');
    }

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
