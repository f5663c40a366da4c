/**
 * DTMF sent in the media as RFC 4733 telephone-events, through the browser's
 * RTCDTMFSender (WebRTC 1.0 §7).
 */

/** Tones RTCDTMFSender accepts, plus `,` for a 2 s pause (WebRTC 1.0 §7.2, insertDTMF). */
const DTMF_TONE = /^[0-9A-D#*,]+$/;

/** Tone length; WebRTC allows 40 ms to 6000 ms and suggests 100 ms. */
export const DTMF_DURATION_MS = 100;
/** Gap between tones; WebRTC requires at least 30 ms and suggests 70 ms. */
export const DTMF_INTER_TONE_GAP_MS = 70;

/** Keys that send a tone when typed during a call (the dial pad's layout). */
export const DTMF_KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

export class InvalidDtmfError extends Error {
  constructor(tones: string) {
    super(`"${tones}" is not a DTMF sequence: use the digits 0-9, *, #, A-D and "," for a pause.`);
    this.name = 'InvalidDtmfError';
  }
}

/** Upper-cases and checks a tone sequence; throws InvalidDtmfError. */
export function normalizeDtmf(tones: string): string {
  const normalized = tones.toUpperCase();
  if (!DTMF_TONE.test(normalized)) throw new InvalidDtmfError(tones);
  return normalized;
}

/** Returns the tone a key press sends, or null for other keys and for any key with Ctrl, Alt or Meta. */
export function dtmfToneForKey(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey'>): string | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  return (DTMF_KEYPAD as readonly string[]).includes(event.key) ? event.key : null;
}
