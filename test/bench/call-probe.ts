import type { Page } from 'playwright-core';

/**
 * Reads of a page's calls that the bench makes from outside the app, through
 * the peer connections installPeerConnectionProbe records: DTMF as the sending
 * side sees it, received audio energy, and the negotiated SDP.
 */

interface ProbeWindow {
  __benchPeerConnections: RTCPeerConnection[];
  __benchDtmfTones?: string[];
  __benchWatchedDtmfSenders?: WeakSet<RTCDTMFSender>;
}

/**
 * Records the tones the page's open peer connections play out from now on:
 * RTCDTMFSender fires `tonechange` as each tone starts going out as RFC 4733
 * telephone-events (WebRTC 1.0 §7.2). Chromium does not report received
 * telephone-events, so the sending side is where DTMF can be checked.
 */
export async function watchSentDtmf(page: Page): Promise<void> {
  await page.evaluate(() => {
    const probe = window as unknown as ProbeWindow;
    probe.__benchDtmfTones ??= [];
    probe.__benchWatchedDtmfSenders ??= new WeakSet();

    for (const connection of probe.__benchPeerConnections) {
      if (connection.connectionState === 'closed') continue;
      for (const sender of connection.getSenders()) {
        const dtmf = sender.dtmf;
        if (!dtmf || probe.__benchWatchedDtmfSenders.has(dtmf)) continue;

        probe.__benchWatchedDtmfSenders.add(dtmf);
        dtmf.addEventListener('tonechange', (event) => {
          if (event.tone !== '') probe.__benchDtmfTones!.push(event.tone);
        });
      }
    }
  });
}

/** Tones recorded since watchSentDtmf, in the order they went out. */
export async function readSentDtmf(page: Page): Promise<string> {
  return page.evaluate(() => ((window as unknown as ProbeWindow).__benchDtmfTones ?? []).join(''));
}

/**
 * Sums `totalAudioEnergy` of the received audio over the page's open peer
 * connections (RFC 6464-style level, integrated over time by the receiver).
 * It grows while the other side sends sound and stays flat during silence.
 */
export async function readReceivedAudioEnergy(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const connections = (window as unknown as ProbeWindow).__benchPeerConnections;
    let energy = 0;
    for (const connection of connections) {
      if (connection.connectionState === 'closed') continue;
      const report = await connection.getStats();
      report.forEach((entry: { type: string; kind?: string; totalAudioEnergy?: number }) => {
        if (entry.type === 'inbound-rtp' && entry.kind === 'audio') energy += entry.totalAudioEnergy ?? 0;
      });
    }
    return energy;
  });
}

/** Local and remote SDP of the page's open peer connections. */
export async function readDescriptions(page: Page): Promise<Array<{ local: string; remote: string }>> {
  return page.evaluate(() =>
    (window as unknown as ProbeWindow).__benchPeerConnections
      .filter((connection) => connection.connectionState !== 'closed')
      .map((connection) => ({
        local: connection.localDescription?.sdp ?? '',
        remote: connection.remoteDescription?.sdp ?? '',
      })),
  );
}

/** Returns the ICE username fragment (`a=ice-ufrag`) of an SDP, or null. */
export function iceUfragOf(sdp: string): string | null {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? null;
}
