import type { Page } from 'playwright-core';

/**
 * Installed with `page.addInitScript` before the app loads: records every
 * RTCPeerConnection the page creates, so the bench can read WebRTC statistics
 * without a test hook in the app.
 */
export function installPeerConnectionProbe(): void {
  const probeWindow = window as unknown as { __benchPeerConnections: RTCPeerConnection[] };
  const created: RTCPeerConnection[] = [];
  const Original = window.RTCPeerConnection;

  class RecordedPeerConnection extends Original {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      created.push(this);
    }
  }

  probeWindow.__benchPeerConnections = created;
  window.RTCPeerConnection = RecordedPeerConnection;
}

export interface AudioPacketCounts {
  /** Peer connections the page created so far. */
  peerConnections: number;
  /** Peer connections not closed yet. */
  openPeerConnections: number;
  packetsSent: number;
  packetsReceived: number;
}

/** Sums audio RTP packet counters over the page's open peer connections. */
export async function readAudioPackets(page: Page): Promise<AudioPacketCounts> {
  return page.evaluate(async () => {
    const all = (window as unknown as { __benchPeerConnections: RTCPeerConnection[] }).__benchPeerConnections;
    const open = all.filter((connection) => connection.connectionState !== 'closed');
    let packetsSent = 0;
    let packetsReceived = 0;

    for (const connection of open) {
      const report = await connection.getStats();
      report.forEach((entry: { type: string; kind?: string; packetsSent?: number; packetsReceived?: number }) => {
        if (entry.kind !== 'audio') return;
        if (entry.type === 'outbound-rtp') packetsSent += entry.packetsSent ?? 0;
        if (entry.type === 'inbound-rtp') packetsReceived += entry.packetsReceived ?? 0;
      });
    }

    return { peerConnections: all.length, openPeerConnections: open.length, packetsSent, packetsReceived };
  });
}

/**
 * Waits until the page has received more than `count` audio packets after this
 * function was called. It throws after `timeoutMs`.
 */
export async function waitForAudioPackets(page: Page, count: number, timeoutMs = 10_000): Promise<void> {
  const before = (await readAudioPackets(page)).packetsReceived;
  const deadline = Date.now() + timeoutMs;

  for (;;) {
    const received = (await readAudioPackets(page)).packetsReceived - before;
    if (received > count) return;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms: the page received ${received} audio packets, expected more than ${count}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Returns the `connectionState` of each of the page's peer connections that is not closed. */
export function readConnectionStates(page: Page): Promise<RTCPeerConnectionState[]> {
  return page.evaluate(() =>
    (window as unknown as { __benchPeerConnections: RTCPeerConnection[] }).__benchPeerConnections
      .filter((connection) => connection.connectionState !== 'closed')
      .map((connection) => connection.connectionState),
  );
}
