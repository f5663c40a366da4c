import type { AudioDeviceChoice } from '../../shared/preferences';
import {
  listAudioDevices,
  microphoneConstraints,
  resolveDeviceChoice,
  type AudioDevice,
  type ResolvedDevice,
} from '../audio/devices';
import { MicrophoneLevelMeter } from '../audio/level-meter';
import { replaceMicrophoneTrack } from '../audio/microphone-switch';
import type { AudioElementOutput } from '../audio/remote-audio';
import type { Ringer } from '../audio/ringer';
import { playTestTone } from '../audio/test-tone';
import type { CallMedia } from '../sip/softphone-engine';
import type { PreferencesState } from './preferences.svelte';

export type AudioRole = 'microphone' | 'speaker' | 'ringer';

const ROLE_NAMES: Record<AudioRole, string> = { microphone: 'microphone', speaker: 'speaker', ringer: 'ringer' };

export interface AudioDevicesOptions {
  mediaDevices: MediaDevices;
  preferences: PreferencesState;
  speakerOutput: AudioElementOutput;
  ringer: Ringer;
  /** The media of the current calls; the microphone of each is replaced on a change. */
  callMedia: () => CallMedia[];
  /** Container of the test tone's `<audio>` element. */
  container: HTMLElement;
}

/**
 * The microphone, speaker and ringer in use. While a chosen device is not
 * connected, the system default replaces it and a notice says so. The choice
 * stays saved, so the device is used again when it comes back. Changes reach
 * calls in progress without interrupting them.
 */
export class AudioDevicesState {
  microphones = $state<AudioDevice[]>([]);
  speakers = $state<AudioDevice[]>([]);
  /** Roles whose chosen device is not connected, so the system default is used. */
  missing = $state<Record<AudioRole, boolean>>({ microphone: false, speaker: false, ringer: false });
  /** Microphone level from 0 to 1 while the meter runs; null otherwise. */
  microphoneLevel = $state<number | null>(null);
  testTonePlaying = $state(false);
  /** The last failure to list, apply or test a device. */
  error = $state<string | null>(null);

  readonly #options: AudioDevicesOptions;
  /** Device id applied per role: null for the default, undefined before the first apply. */
  readonly #applied: Record<AudioRole, string | null | undefined> = {
    microphone: undefined,
    speaker: undefined,
    ringer: undefined,
  };
  #meter: MicrophoneLevelMeter | null = null;
  #meterStarting: Promise<void> | null = null;
  #changes: Promise<void> = Promise.resolve();

  constructor(options: AudioDevicesOptions) {
    this.#options = options;
  }

  /** Lists the devices, applies the saved choices and follows devices being plugged in and out. */
  async init(): Promise<void> {
    this.#options.mediaDevices.addEventListener('devicechange', () => void this.refresh());
    await this.refresh();
  }

  /** Lists the devices again and applies the choices to them, for example after a device was unplugged. */
  refresh(): Promise<void> {
    return this.#serialize(async () => {
      try {
        const lists = await listAudioDevices(this.#options.mediaDevices);
        this.microphones = lists.microphones;
        this.speakers = lists.speakers;
      } catch (error) {
        this.error = `Could not list the audio devices: ${messageOf(error)}`;
        return;
      }
      await this.#applyAll();
    });
  }

  /** Chooses the device of `role` (null for the system default), saves the choice and applies it now. */
  choose(role: AudioRole, deviceId: string | null): Promise<void> {
    const list = role === 'microphone' ? this.microphones : this.speakers;
    const device = deviceId === null ? undefined : list.find((candidate) => candidate.deviceId === deviceId);
    const choice: AudioDeviceChoice | null = device ? { deviceId: device.deviceId, label: device.label } : null;

    return this.#serialize(async () => {
      this.error = null;
      await this.#options.preferences.update((current) => ({ ...current, audio: { ...current.audio, [role]: choice } }));
      await this.#applyAll();
    });
  }

  /** Resolves the saved choice of `role` against the connected devices. */
  resolved(role: AudioRole): ResolvedDevice {
    const devices = role === 'microphone' ? this.microphones : this.speakers;
    return resolveDeviceChoice(this.#options.preferences.value.audio[role], devices);
  }

  /** Constraints for the microphone of a new call. */
  microphoneConstraints(): MediaTrackConstraints {
    return microphoneConstraints(this.resolved('microphone').deviceId);
  }

  /** The device the ringtone should play on now; null for the system default. */
  ringerDeviceId(): string | null {
    return this.resolved('ringer').deviceId;
  }

  /** Sentences for the devices that fell back to the system default. */
  get notices(): string[] {
    const roles = (Object.keys(ROLE_NAMES) as AudioRole[]).filter((role) => this.missing[role]);
    return roles.map((role) => {
      const label = this.#options.preferences.value.audio[role]?.label ?? '';
      return `The ${ROLE_NAMES[role]} "${label}" is not connected, so the system default is used until it is back.`;
    });
  }

  async startMeter(): Promise<void> {
    if (this.#meter || this.#meterStarting) return;

    this.#meterStarting = MicrophoneLevelMeter.start(this.microphoneConstraints(), (level) => {
      this.microphoneLevel = level;
    }).then(
      (meter) => {
        this.#meter = meter;
      },
      (error: unknown) => {
        this.error = `Could not open the microphone for the level meter: ${messageOf(error)}`;
      },
    );
    await this.#meterStarting;
    this.#meterStarting = null;
  }

  stopMeter(): void {
    this.#meter?.stop();
    this.#meter = null;
    this.microphoneLevel = null;
  }

  /** Plays the test tone on the speaker used for calls. */
  async playTestTone(): Promise<void> {
    if (this.testTonePlaying) return;

    this.testTonePlaying = true;
    try {
      await playTestTone(this.#options.container, this.resolved('speaker').deviceId);
      this.error = null;
    } catch (error) {
      this.error = `Could not play the test tone: ${messageOf(error)}`;
    } finally {
      this.testTonePlaying = false;
    }
  }

  /** Runs device changes one at a time, so a fast unplug and replug ends on the right device. */
  #serialize(change: () => Promise<void>): Promise<void> {
    const run = this.#changes.then(change);
    this.#changes = run.catch(() => undefined);
    return run;
  }

  async #applyAll(): Promise<void> {
    for (const role of Object.keys(ROLE_NAMES) as AudioRole[]) {
      const resolved = this.resolved(role);
      this.missing[role] = resolved.missing;
      if (resolved.deviceId === this.#applied[role]) continue;

      try {
        await this.#apply(role, resolved.deviceId);
        this.#applied[role] = resolved.deviceId;
      } catch (error) {
        this.error = `Could not switch the ${ROLE_NAMES[role]}: ${messageOf(error)}`;
      }
    }
  }

  async #apply(role: AudioRole, deviceId: string | null): Promise<void> {
    switch (role) {
      case 'speaker':
        await this.#options.speakerOutput.setDevice(deviceId);
        return;
      case 'ringer':
        await this.#options.ringer.setDevice(deviceId);
        return;
      case 'microphone': {
        const constraints = microphoneConstraints(deviceId);
        for (const media of this.#options.callMedia()) {
          await replaceMicrophoneTrack(media.peerConnection, media.localStream, constraints);
        }
        if (this.#meter) {
          this.stopMeter();
          void this.startMeter();
        }
        return;
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
