/**
 * Turns what the user typed into a SIP request-URI. Phone numbers may carry the
 * usual separators (spaces, dots, dashes, brackets); a leading `+`, `*` and `#`
 * are kept because they are part of E.164 numbers and feature codes.
 */
export class InvalidDialTargetError extends Error {
  constructor(readonly input: string) {
    super(
      input.trim() === ''
        ? 'Enter a phone number, an extension or a SIP address to call.'
        : `"${input}" is not a phone number, an extension or a SIP address.`,
    );
    this.name = 'InvalidDialTargetError';
  }
}

const SEPARATORS = /[\s().\-\u00a0]/g;
const DIALABLE = /^\+?[0-9*#]{1,32}$/;
const SIP_URI = /^sips?:[^@\s<>"]+@[A-Za-z0-9.\-[\]:]+$/i;

export interface DialTarget {
  /** The request-URI of the INVITE. */
  uri: string;
  /** What the call screen shows for the remote party. */
  display: string;
}

export function parseDialTarget(input: string, domain: string): DialTarget {
  const trimmed = input.trim();

  if (/^sips?:/i.test(trimmed)) {
    if (!SIP_URI.test(trimmed)) throw new InvalidDialTargetError(input);
    return { uri: trimmed, display: trimmed.replace(/^sips?:/i, '') };
  }

  const digits = trimmed.replace(SEPARATORS, '');
  if (!DIALABLE.test(digits)) throw new InvalidDialTargetError(input);

  return { uri: `sip:${digits}@${domain}`, display: digits };
}
