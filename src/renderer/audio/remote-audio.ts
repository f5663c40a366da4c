import type { RemoteAudioOutput } from '../sip/softphone-engine';

/**
 * Plays each call's remote stream through its own `<audio>` element. Going
 * through a media element (rather than Web Audio) lets Chromium's echo canceller
 * see what the speaker plays.
 */
export class AudioElementOutput implements RemoteAudioOutput {
  readonly #elements = new Map<string, HTMLAudioElement>();

  constructor(private readonly container: HTMLElement) {}

  attach(callId: string, stream: MediaStream): void {
    this.detach(callId);

    const element = document.createElement('audio');
    element.autoplay = true;
    element.dataset.callId = callId;
    element.srcObject = stream;
    this.container.append(element);
    this.#elements.set(callId, element);

    element.play().catch((error: unknown) => {
      console.warn(`Remote audio of ${callId} did not start playing`, error);
    });
  }

  detach(callId: string): void {
    const element = this.#elements.get(callId);
    if (!element) return;

    element.pause();
    element.srcObject = null;
    element.remove();
    this.#elements.delete(callId);
  }
}
