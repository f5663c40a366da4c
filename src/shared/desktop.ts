/**
 * The line's registration as the tray shows it: `connecting` covers connecting,
 * registering and unregistering; `offline` covers unregistered and failed.
 */
export type PhoneRegistration = 'registered' | 'connecting' | 'offline';

/**
 * Line and call status that the renderer reports for the tray icon. The
 * missed-call count comes from the call history, which the main process keeps.
 */
export interface PhoneStatus {
  registration: PhoneRegistration;
  /** True while any call is dialing, ringing or established. */
  inCall: boolean;
}

/** Desktop behaviour the user sets in the window or from the tray menu. */
export interface DesktopPreferences {
  /** Start the app hidden in the tray when the user logs in to the OS. */
  openAtLogin: boolean;
  /** Decline inbound calls instead of ringing. */
  doNotDisturb: boolean;
  /** Write every SIP message to `sip-trace.log` in the log folder, for support. */
  sipTrace: boolean;
}

/**
 * A `tel:`, `sip:` or `callto:` link the OS handed to the app. A valid link is
 * shown to the user and dialed only after they confirm it.
 */
/**
 * Maximum digits of a phone number's extension, in a `tel:` link or typed after
 * the number. RFC 3966 sets no maximum; 15 is a chosen bound far above real PBX
 * extensions.
 */
export const MAX_PHONE_EXTENSION_DIGITS = 15;

export type DialLink =
  | {
      status: 'valid';
      /** Dial target for the renderer: an E.164 number or a `sip:user@host[:port]` URI. */
      target: string;
      /** The target formatted for the confirmation prompt. */
      display: string;
      /**
       * Digits of a `tel:` link's `ext=` parameter (RFC 3966), absent when the
       * link has none. The app sends them as DTMF once the call connects.
       */
      extension?: string;
    }
  | {
      status: 'invalid';
      /** The sentence the renderer shows; it quotes the link, shortened. */
      message: string;
    };

/** One line of sip.js's log while the SIP trace is on. */
export interface SipTraceEntry {
  level: 'error' | 'warn' | 'log' | 'debug';
  /** The sip.js logger category, such as `sip.Transport`. */
  category: string;
  content: string;
}
