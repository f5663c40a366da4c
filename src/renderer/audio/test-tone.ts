import { ToneOutput } from './tone-output';

const TEST_TONE_HZ = 440;
const TEST_TONE_GAIN = 0.3;
export const TEST_TONE_MS = 1500;

/**
 * Plays a 440 Hz tone on `deviceId` (null for the system default) for
 * `durationMs`, so the user can check the speaker. Resolves when it ends;
 * throws when the device is not found.
 */
export async function playTestTone(
  container: HTMLElement,
  deviceId: string | null,
  durationMs = TEST_TONE_MS,
): Promise<void> {
  const output = new ToneOutput(container, 'test-tone');
  try {
    const oscillator = output.context.createOscillator();
    const gain = output.context.createGain();
    oscillator.frequency.value = TEST_TONE_HZ;
    gain.gain.value = TEST_TONE_GAIN;
    oscillator.connect(gain).connect(output.destination);
    oscillator.start();

    await output.play(deviceId);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
  } finally {
    output.close();
  }
}
