/** How often the level is measured and reported. */
const METER_INTERVAL_MS = 100;
/** Levels map -60 dBFS..0 dBFS to 0..1; quieter input shows as 0. */
const METER_FLOOR_DB = -60;

/**
 * Measures how loud the microphone is, as a number from 0 to 1 every 100 ms.
 * It opens its own capture with the call constraints, so the level is what a
 * call would send after echo cancellation, noise suppression and auto gain.
 */
export class MicrophoneLevelMeter {
  readonly #stream: MediaStream;
  readonly #context: AudioContext;
  readonly #timer: ReturnType<typeof setInterval>;

  private constructor(stream: MediaStream, onLevel: (level: number) => void) {
    this.#stream = stream;
    this.#context = new AudioContext();

    const analyser = this.#context.createAnalyser();
    analyser.fftSize = 2048;
    this.#context.createMediaStreamSource(stream).connect(analyser);

    const samples = new Float32Array(analyser.fftSize);
    this.#timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      onLevel(levelOf(samples));
    }, METER_INTERVAL_MS);
  }

  /** Opens the microphone with `constraints` and starts reporting; throws what getUserMedia throws. */
  static async start(constraints: MediaTrackConstraints, onLevel: (level: number) => void): Promise<MicrophoneLevelMeter> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: constraints, video: false });
    const meter = new MicrophoneLevelMeter(stream, onLevel);
    await meter.#context.resume();
    return meter;
  }

  /** The device the meter listens to, as getUserMedia chose it. */
  get deviceId(): string | null {
    return this.#stream.getAudioTracks()[0]?.getSettings().deviceId ?? null;
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const track of this.#stream.getTracks()) track.stop();
    void this.#context.close().catch(() => undefined);
  }
}

/** Maps the RMS of `samples` to 0..1 on a decibel scale. */
export function levelOf(samples: Float32Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;

  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  if (rms === 0) return 0;

  const decibels = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, 1 - decibels / METER_FLOOR_DB));
}
