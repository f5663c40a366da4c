import { describe, expect, it } from 'vitest';

import { levelOf } from '../../src/renderer/audio/level-meter';
import { listAudioDevices, microphoneConstraints, resolveDeviceChoice } from '../../src/renderer/audio/devices';

const HEADSET = { deviceId: 'headset-id', label: 'USB Headset' };
const SPEAKERS = { deviceId: 'speakers-id', label: 'Speakers' };

describe('resolveDeviceChoice', () => {
  it('uses the system default without a choice', () => {
    expect(resolveDeviceChoice(null, [HEADSET])).toEqual({ deviceId: null, missing: false });
  });

  it('finds the chosen device by id', () => {
    expect(resolveDeviceChoice(HEADSET, [SPEAKERS, HEADSET])).toEqual({ deviceId: 'headset-id', missing: false });
  });

  it('finds the chosen device by label after its id changed', () => {
    const renamed = { deviceId: 'new-id', label: 'USB Headset' };

    expect(resolveDeviceChoice(HEADSET, [renamed])).toEqual({ deviceId: 'new-id', missing: false });
  });

  it('falls back to the system default when the device is gone', () => {
    expect(resolveDeviceChoice(HEADSET, [SPEAKERS])).toEqual({ deviceId: null, missing: true });
  });

  it('does not match an empty label', () => {
    expect(resolveDeviceChoice({ deviceId: 'x', label: '' }, [{ deviceId: 'y', label: '' }])).toEqual({
      deviceId: null,
      missing: true,
    });
  });
});

describe('microphoneConstraints', () => {
  it('asks for echo cancellation, noise suppression and auto gain', () => {
    expect(microphoneConstraints(null)).toEqual({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });
  });

  it('requires the chosen device', () => {
    expect(microphoneConstraints('headset-id')).toMatchObject({ deviceId: { exact: 'headset-id' }, echoCancellation: true });
  });
});

describe('listAudioDevices', () => {
  it('skips default entries and names unlabeled ones', async () => {
    const devices = [
      { kind: 'audioinput', deviceId: 'default', label: 'Default - Mic' },
      { kind: 'audioinput', deviceId: 'mic-1', label: '' },
      { kind: 'videoinput', deviceId: 'cam-1', label: 'Camera' },
      { kind: 'audiooutput', deviceId: 'default', label: 'Default - Speakers' },
      { kind: 'audiooutput', deviceId: 'out-1', label: 'Speakers' },
    ];
    const mediaDevices = { enumerateDevices: async () => devices } as unknown as MediaDevices;

    expect(await listAudioDevices(mediaDevices)).toEqual({
      microphones: [{ deviceId: 'mic-1', label: 'Microphone 1' }],
      speakers: [{ deviceId: 'out-1', label: 'Speakers' }],
    });
  });
});

describe('levelOf', () => {
  it('is 0 for silence and 1 for a full-scale square wave', () => {
    expect(levelOf(new Float32Array(64))).toBe(0);
    expect(levelOf(Float32Array.from({ length: 64 }, (_, index) => (index % 2 === 0 ? 1 : -1)))).toBe(1);
  });

  it('shows -30 dBFS half way', () => {
    const amplitude = 10 ** (-30 / 20);

    expect(levelOf(Float32Array.from({ length: 64 }, (_, index) => (index % 2 === 0 ? amplitude : -amplitude)))).toBeCloseTo(0.5, 5);
  });
});
