import { ToneOutput } from './tone-output';

/** The North American ringback cadence: 440 Hz and 480 Hz together, 2 s on, 4 s off. */
const RING_FREQUENCIES_HZ = [440, 480];
const RING_ON_SECONDS = 2;
const RING_PERIOD_SECONDS = 6;
/** Peak amplitude of each tone, low enough that the sum never clips. */
const RING_AMPLITUDE = 0.2;
/** Fade in and out over 10 ms, so the tone starts and stops without a click. */
const FADE_SECONDS = 0.01;

/**
 * The ringtone of incoming calls, played on its own output device. It is one
 * generated 6-second period looped by an AudioBufferSourceNode, so no timer
 * has to run while the window is hidden.
 */
export class Ringer {
  #output: ToneOutput | null = null;
  #deviceId: string | null = null;

  constructor(private readonly container: HTMLElement) {}

  get ringing(): boolean {
    return this.#output !== null;
  }

  /**
   * Starts ringing on `deviceId` (null for the system default); does nothing when
   * it already rings. Throws when the device is not found or playback is blocked.
   */
  async start(deviceId: string | null): Promise<void> {
    this.#deviceId = deviceId;
    if (this.#output) return;

    const output = new ToneOutput(this.container, 'ringer');
    this.#output = output;

    const source = output.context.createBufferSource();
    source.buffer = ringPeriod(output.context);
    source.loop = true;
    source.connect(output.destination);
    source.start();

    try {
      await output.play(this.#deviceId);
    } catch (error) {
      // stop() during the awaits above closed this output on purpose (the call
      // was answered or ended first), so its failed start is no error.
      if (this.#output !== output) return;

      this.stop();
      throw error;
    }
  }

  /** Moves the ringtone to another device, now if it rings and for the next call otherwise. */
  async setDevice(deviceId: string | null): Promise<void> {
    this.#deviceId = deviceId;
    await this.#output?.setDevice(deviceId);
  }

  stop(): void {
    this.#output?.close();
    this.#output = null;
  }
}

function ringPeriod(context: AudioContext): AudioBuffer {
  const rate = context.sampleRate;
  const buffer = context.createBuffer(1, Math.round(RING_PERIOD_SECONDS * rate), rate);
  const samples = buffer.getChannelData(0);
  const onSamples = Math.round(RING_ON_SECONDS * rate);
  const fadeSamples = Math.round(FADE_SECONDS * rate);

  for (let index = 0; index < onSamples; index += 1) {
    const time = index / rate;
    const envelope = Math.min(1, index / fadeSamples, (onSamples - index) / fadeSamples);
    let value = 0;
    for (const frequency of RING_FREQUENCIES_HZ) value += Math.sin(2 * Math.PI * frequency * time);
    samples[index] = RING_AMPLITUDE * envelope * value;
  }
  return buffer;
}
