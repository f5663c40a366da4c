import type { AudioDeviceChoice } from '../../shared/preferences';

/** An input or output device as the settings list it. */
export interface AudioDevice {
  deviceId: string;
  label: string;
}

export interface AudioDeviceLists {
  microphones: AudioDevice[];
  /** Output devices, for both the call speaker and the ringer. */
  speakers: AudioDevice[];
}

/**
 * Chromium lists the system default device a second time under the id
 * "default"; the settings offer it as "System default" (a null choice) instead.
 */
const DEFAULT_DEVICE_ID = 'default';

/** Lists microphones and speakers. Labels are empty until the page may use the microphone. */
export async function listAudioDevices(mediaDevices: MediaDevices): Promise<AudioDeviceLists> {
  const devices = await mediaDevices.enumerateDevices();
  const pick = (kind: MediaDeviceKind, fallbackName: string): AudioDevice[] =>
    devices
      .filter((device) => device.kind === kind && device.deviceId !== DEFAULT_DEVICE_ID && device.deviceId !== '')
      .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `${fallbackName} ${index + 1}` }));

  return { microphones: pick('audioinput', 'Microphone'), speakers: pick('audiooutput', 'Speaker') };
}

/** The device to use for a choice: null for the system default. */
export interface ResolvedDevice {
  deviceId: string | null;
  /** True when a device was chosen but is not connected, so the system default is used. */
  missing: boolean;
}

/**
 * Finds the chosen device among the connected ones: by id, else by label, because
 * Chromium gives a device a new id when the site data is cleared.
 */
export function resolveDeviceChoice(choice: AudioDeviceChoice | null, devices: readonly AudioDevice[]): ResolvedDevice {
  if (choice === null) return { deviceId: null, missing: false };

  const byId = devices.find((device) => device.deviceId === choice.deviceId);
  if (byId) return { deviceId: byId.deviceId, missing: false };

  const byLabel = choice.label === '' ? undefined : devices.find((device) => device.label === choice.label);
  if (byLabel) return { deviceId: byLabel.deviceId, missing: false };

  return { deviceId: null, missing: true };
}

/**
 * getUserMedia constraints for the call microphone. Echo cancellation, noise
 * suppression and auto gain are requested explicitly. The device is `exact`
 * because Chromium ignores an `ideal` audio device id and opens the default one
 * (seen with Chromium 156 and its fake devices on the test bench).
 * NOTE: a device unplugged after the last `devicechange` was handled and before
 * a call starts makes getUserMedia fail with OverconstrainedError, so that call fails.
 */
export function microphoneConstraints(deviceId: string | null): MediaTrackConstraints {
  const processing = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  return deviceId === null ? processing : { ...processing, deviceId: { exact: deviceId } };
}
