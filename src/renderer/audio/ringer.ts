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

    try {
      const [period] = await Promise.all([renderRingPeriod(output.context.sampleRate), output.play(this.#deviceId)]);
      // stop() ran during the awaits, because the call was picked up or ended first.
      if (this.#output !== output) return;

      const source = new AudioBufferSourceNode(output.context, { buffer: period, loop: true });
      source.connect(output.destination);
      source.start();
    } catch (error) {
      // stop() during the awaits closed this output on purpose, so its failed start is no error.
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

/**
 * Renders one period of the ring cadence off the main thread, with two
 * oscillators and a gain envelope in an OfflineAudioContext. Computing it
 * sample by sample in JavaScript blocked the main thread as each call rang.
 */
export function renderRingPeriod(sampleRate: number): Promise<AudioBuffer> {
  const context = new OfflineAudioContext({
    numberOfChannels: 1,
    length: Math.round(RING_PERIOD_SECONDS * sampleRate),
    sampleRate,
  });

  const envelope = new GainNode(context, { gain: 0 });
  envelope.gain.linearRampToValueAtTime(RING_AMPLITUDE, FADE_SECONDS);
  envelope.gain.setValueAtTime(RING_AMPLITUDE, RING_ON_SECONDS - FADE_SECONDS);
  envelope.gain.linearRampToValueAtTime(0, RING_ON_SECONDS);
  envelope.connect(context.destination);

  for (const frequency of RING_FREQUENCIES_HZ) {
    const oscillator = new OscillatorNode(context, { frequency });
    oscillator.connect(envelope);
    oscillator.start(0);
    oscillator.stop(RING_ON_SECONDS);
  }
  return context.startRendering();
}
