import { afterEach, describe, expect, it, vi } from 'vitest';

import { PreparedMicrophone } from '../../src/renderer/sip/prepared-microphone';

interface FakeTrack {
  readyState: 'live' | 'ended';
  stop(): void;
}

function fakeStream(): { stream: MediaStream; track: FakeTrack } {
  const track: FakeTrack = {
    readyState: 'live',
    stop() {
      track.readyState = 'ended';
    },
  };
  return { stream: { getTracks: () => [track] } as unknown as MediaStream, track };
}

const microphone = { audio: { deviceId: 'default' }, video: false };

describe('PreparedMicrophone', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands the prepared stream to a call with the same constraints', async () => {
    const { stream } = fakeStream();
    const getUserMedia = vi.fn(async () => stream);
    const prepared = new PreparedMicrophone(getUserMedia);

    prepared.prepare(microphone);
    prepared.prepare(microphone);

    await expect(prepared.take(microphone)).resolves.toBe(stream);
    expect(getUserMedia).toHaveBeenCalledTimes(1);
    await expect(prepared.take(microphone)).resolves.toBeNull();
  });

  it('reopens for other constraints and closes the old stream', async () => {
    const first = fakeStream();
    const second = fakeStream();
    const getUserMedia = vi.fn().mockResolvedValueOnce(first.stream).mockResolvedValueOnce(second.stream);
    const prepared = new PreparedMicrophone(getUserMedia);

    prepared.prepare(microphone);
    prepared.prepare({ audio: { deviceId: 'headset' }, video: false });
    await Promise.resolve();

    await expect(prepared.take(microphone)).resolves.toBeNull();
    await expect(prepared.take({ audio: { deviceId: 'headset' }, video: false })).resolves.toBe(second.stream);
    expect(first.track.readyState).toBe('ended');
  });

  it('closes the microphone when no call takes it in time', async () => {
    vi.useFakeTimers();
    const { stream, track } = fakeStream();
    const prepared = new PreparedMicrophone(async () => stream, 1000);

    prepared.prepare(microphone);
    await vi.advanceTimersByTimeAsync(1001);

    expect(track.readyState).toBe('ended');
    await expect(prepared.take(microphone)).resolves.toBeNull();
  });

  it('gives a call a new stream when the prepared one ended', async () => {
    const prepared = fakeStream();
    const fresh = fakeStream();
    const getUserMedia = vi.fn().mockResolvedValueOnce(prepared.stream).mockResolvedValueOnce(fresh.stream);
    const microphoneAhead = new PreparedMicrophone(getUserMedia);

    microphoneAhead.prepare(microphone);
    prepared.track.readyState = 'ended';

    await expect(microphoneAhead.mediaStreamFactory(microphone, undefined as never)).resolves.toBe(fresh.stream);
  });

  it('gives a call a new stream when preparing failed', async () => {
    const fresh = fakeStream();
    const getUserMedia = vi.fn().mockRejectedValueOnce(new Error('NotAllowedError')).mockResolvedValueOnce(fresh.stream);
    const microphoneAhead = new PreparedMicrophone(getUserMedia);

    microphoneAhead.prepare(microphone);

    await expect(microphoneAhead.mediaStreamFactory(microphone, undefined as never)).resolves.toBe(fresh.stream);
  });
});
