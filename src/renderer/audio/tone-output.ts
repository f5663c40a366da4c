/**
 * Plays generated Web Audio sound through an `<audio>` element, as calls play,
 * so `HTMLMediaElement.setSinkId` picks the output device and the element shows
 * which device it uses. The sound needs no asset file, so the
 * Content-Security-Policy needs no new media source.
 */
export class ToneOutput {
  readonly context: AudioContext;
  /** Node that sources connect to; its output plays on the element's device. */
  readonly destination: MediaStreamAudioDestinationNode;
  readonly element: HTMLAudioElement;

  constructor(container: HTMLElement, role: string) {
    this.context = new AudioContext();
    this.destination = this.context.createMediaStreamDestination();

    this.element = document.createElement('audio');
    this.element.dataset.role = role;
    this.element.srcObject = this.destination.stream;
    container.append(this.element);
  }

  /**
   * Sends the sound to `deviceId` (null for the system default) and starts it.
   * Throws when the device is not found or autoplay is blocked.
   */
  async play(deviceId: string | null): Promise<void> {
    await this.setDevice(deviceId);
    await this.context.resume();
    await this.element.play();
  }

  setDevice(deviceId: string | null): Promise<void> {
    return this.element.setSinkId(deviceId ?? '');
  }

  close(): void {
    this.element.pause();
    this.element.srcObject = null;
    this.element.remove();
    void this.context.close().catch(() => undefined);
  }
}
