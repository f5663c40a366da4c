import type { Page } from 'playwright-core';

/**
 * Installed with `page.addInitScript` before the app loads: lets the test hide
 * Chromium's fake devices from `enumerateDevices`, as if they were unplugged.
 * The devices still work; the app only stops seeing them. Bench only.
 */
export function installDeviceRemovalProbe(): void {
  const probeWindow = window as unknown as { __benchHiddenDeviceLabels: Set<string> };
  const hidden = new Set<string>();
  const original = MediaDevices.prototype.enumerateDevices;

  probeWindow.__benchHiddenDeviceLabels = hidden;
  MediaDevices.prototype.enumerateDevices = async function enumerateVisibleDevices(this: MediaDevices) {
    const devices = await original.call(this);
    return devices.filter((device) => !hidden.has(device.label));
  };
}

/** Hides (`present: false`) or shows devices by label and fires `devicechange`, as plugging does. */
export async function setDevicesPresent(page: Page, labels: string[], present: boolean): Promise<void> {
  await page.evaluate(
    ([names, show]) => {
      const hidden = (window as unknown as { __benchHiddenDeviceLabels: Set<string> }).__benchHiddenDeviceLabels;
      for (const name of names) {
        if (show) hidden.delete(name);
        else hidden.add(name);
      }
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
    },
    [labels, present] as const,
  );
}

/** Returns the page's id of the device with `label` and `kind`, as Chromium salts ids per profile. */
export async function deviceIdByLabel(page: Page, kind: MediaDeviceKind, label: string): Promise<string> {
  const deviceId = await page.evaluate(
    async ([wantedKind, wantedLabel]) => {
      const devices = await navigator.mediaDevices.enumerateDevices();
      return devices.find((device) => device.kind === wantedKind && device.label === wantedLabel)?.deviceId ?? null;
    },
    [kind, label] as const,
  );
  if (deviceId === null) throw new Error(`No ${kind} labelled "${label}" in the page`);
  return deviceId;
}

export interface MicrophoneTrackSettings {
  deviceId: string | null;
  echoCancellation: boolean | null;
  noiseSuppression: boolean | null;
  autoGainControl: boolean | null;
  readyState: string | null;
}

/** Reads the settings of the audio track that the page's open peer connections send. */
export async function readSentMicrophone(page: Page): Promise<MicrophoneTrackSettings[]> {
  return page.evaluate(() => {
    const all = (window as unknown as { __benchPeerConnections: RTCPeerConnection[] }).__benchPeerConnections;
    return all
      .filter((connection) => connection.connectionState !== 'closed')
      .flatMap((connection) => connection.getSenders())
      .filter((sender) => sender.track?.kind === 'audio')
      .map((sender) => {
        const settings = sender.track!.getSettings();
        return {
          deviceId: settings.deviceId ?? null,
          echoCancellation: (settings.echoCancellation as boolean | undefined) ?? null,
          noiseSuppression: settings.noiseSuppression ?? null,
          autoGainControl: settings.autoGainControl ?? null,
          readyState: sender.track!.readyState,
        };
      });
  });
}

export interface AudioElementState {
  sinkId: string;
  paused: boolean;
  /** Highest RMS of the element's stream over the measuring time, from 0 to 1. */
  peakRms: number;
}

/**
 * Reads the output device and play state of the first `<audio>` matching
 * `selector`, and measures how loud its MediaStream is for `measureMs`.
 * Returns null when there is no such element.
 */
export async function readAudioElement(page: Page, selector: string, measureMs = 400): Promise<AudioElementState | null> {
  return page.evaluate(
    async ([query, duration]) => {
      const element = document.querySelector<HTMLAudioElement>(query);
      if (!element) return null;

      const stream = element.srcObject instanceof MediaStream ? element.srcObject : null;
      let peakRms = 0;
      if (stream && stream.getAudioTracks().length > 0) {
        const context = new AudioContext();
        const analyser = context.createAnalyser();
        analyser.fftSize = 2048;
        context.createMediaStreamSource(stream).connect(analyser);
        const samples = new Float32Array(analyser.fftSize);
        const end = performance.now() + duration;
        while (performance.now() < end) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          analyser.getFloatTimeDomainData(samples);
          let sum = 0;
          for (const sample of samples) sum += sample * sample;
          peakRms = Math.max(peakRms, Math.sqrt(sum / samples.length));
        }
        await context.close();
      }

      return { sinkId: element.sinkId, paused: element.paused, peakRms };
    },
    [selector, measureMs] as const,
  );
}
