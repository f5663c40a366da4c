import type { RemoteAudioOutput } from '../sip/softphone-engine';

/**
 * Plays each call's remote stream through its own `<audio>` element. Going
 * through a media element (rather than Web Audio) lets Chromium's echo canceller
 * see what the speaker plays.
 */
export class AudioElementOutput implements RemoteAudioOutput {
  readonly #elements = new Map<string, HTMLAudioElement>();
  /** Output device of every call; null for the system default. */
  #deviceId: string | null = null;

  constructor(private readonly container: HTMLElement) {}

  attach(callId: string, stream: MediaStream): void {
    this.detach(callId);

    const element = document.createElement('audio');
    element.dataset.callId = callId;
    element.srcObject = stream;
    this.container.append(element);
    this.#elements.set(callId, element);

    // Playback starts after the device is set, so no audio reaches the default device first.
    void this.#routeToDevice(element, callId).then(() =>
      element.play().catch((error: unknown) => {
        console.warn(`Remote audio of ${callId} did not start playing`, error);
      }),
    );
  }

  detach(callId: string): void {
    const element = this.#elements.get(callId);
    if (!element) return;

    element.pause();
    element.srcObject = null;
    element.remove();
    this.#elements.delete(callId);
  }

  /**
   * Moves every call, and the calls to come, to `deviceId` (null for the system
   * default) without interrupting them. Throws when the device is not found;
   * the calls then keep playing where they were.
   */
  async setDevice(deviceId: string | null): Promise<void> {
    const previous = this.#deviceId;
    this.#deviceId = deviceId;
    try {
      await Promise.all([...this.#elements.values()].map((element) => element.setSinkId(deviceId ?? '')));
    } catch (error) {
      this.#deviceId = previous;
      throw error;
    }
  }

  /** Sends a new element to the chosen device; if that fails, it plays on the default one. */
  async #routeToDevice(element: HTMLAudioElement, callId: string): Promise<void> {
    if (this.#deviceId === null) return;
    try {
      await element.setSinkId(this.#deviceId);
    } catch (error) {
      console.warn(`Remote audio of ${callId} plays on the default device: the chosen speaker failed`, error);
    }
  }
}
