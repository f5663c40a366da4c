import type { Web } from 'sip.js';

/**
 * How long a microphone opened ahead of a call stays open unused. The user is
 * typing a number or a call is ringing; after this long without a call the
 * microphone closes again.
 */
export const PREPARED_MICROPHONE_HOLD_MS = 15_000;

/**
 * Opens the microphone ahead of a call, so that the click on Call or Answer
 * does not wait for getUserMedia (about 10-20 ms on a warm device and 70 ms on
 * the first call, measured in headless Chromium with its fake microphone).
 * The stream is handed to the next call whose constraints match and is stopped
 * if no call takes it within PREPARED_MICROPHONE_HOLD_MS. Nothing is sent
 * anywhere before a call takes it.
 */
export class PreparedMicrophone {
  #prepared: { key: string; stream: Promise<MediaStream> } | null = null;
  #releaseTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly getUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream> = (constraints) =>
      navigator.mediaDevices.getUserMedia(constraints),
    private readonly holdMs = PREPARED_MICROPHONE_HOLD_MS,
  ) {}

  /** Opens the microphone with `constraints` unless it is open with them already; restarts the hold time. */
  prepare(constraints: MediaStreamConstraints): void {
    const key = JSON.stringify(constraints);
    if (this.#prepared?.key !== key) {
      this.release();
      const stream = this.getUserMedia(constraints);
      // A failure shows when a call takes the stream, or never if none does.
      stream.catch(() => undefined);
      this.#prepared = { key, stream };
    }

    if (this.#releaseTimer !== null) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = setTimeout(() => this.release(), this.holdMs);
  }

  /** Hands over the prepared stream when it was opened with `constraints` and still works; null otherwise. */
  async take(constraints: MediaStreamConstraints): Promise<MediaStream | null> {
    const prepared = this.#prepared;
    if (!prepared || prepared.key !== JSON.stringify(constraints)) return null;

    this.#prepared = null;
    this.#clearTimer();

    const stream = await prepared.stream.catch(() => null);
    if (!stream || stream.getTracks().some((track) => track.readyState === 'ended')) {
      stream?.getTracks().forEach((track) => track.stop());
      return null;
    }
    return stream;
  }

  /** Closes a prepared microphone that no call took. */
  release(): void {
    this.#clearTimer();
    const prepared = this.#prepared;
    this.#prepared = null;
    void prepared?.stream.then((stream) => stream.getTracks().forEach((track) => track.stop())).catch(() => undefined);
  }

  /** The media stream factory for sip.js: the prepared stream when it fits, else a new getUserMedia. */
  readonly mediaStreamFactory: Web.MediaStreamFactory = async (constraints) => {
    if (!constraints.audio && !constraints.video) return new MediaStream();
    return (await this.take(constraints)) ?? this.getUserMedia(constraints);
  };

  #clearTimer(): void {
    if (this.#releaseTimer !== null) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = null;
  }
}
