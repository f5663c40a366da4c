import type { PhoneRegistration, PhoneStatus, SipTraceEntry } from '../../shared/desktop';
import type { RegistrationState } from '../sip/registration-state';
import type { CallInfo } from '../sip/softphone-engine';

const TRAY_REGISTRATION: Record<RegistrationState['status'], PhoneRegistration> = {
  registered: 'registered',
  connecting: 'connecting',
  registering: 'connecting',
  unregistering: 'connecting',
  unregistered: 'offline',
  failed: 'offline',
};

/** Summarises the line and the calls for the tray icon. */
export function toPhoneStatus(registration: RegistrationState, calls: readonly CallInfo[]): PhoneStatus {
  return {
    registration: TRAY_REGISTRATION[registration.status],
    inCall: calls.some((call) => call.state.status !== 'ended'),
  };
}

/** Sends the phone status to the main process whenever it changes, and only then. */
export class PhoneStatusReporter {
  #last: string | null = null;

  constructor(private readonly send: (status: PhoneStatus) => Promise<void>) {}

  update(registration: RegistrationState, calls: readonly CallInfo[]): void {
    const status = toPhoneStatus(registration, calls);
    const key = JSON.stringify(status);
    if (key === this.#last) return;

    this.#last = key;
    this.send(status).catch((error: unknown) => {
      // The next change sends again.
      this.#last = null;
      console.warn('Could not report the phone status to the tray', error);
    });
  }
}

/**
 * Do Not Disturb: each inbound call that starts ringing while it is on is handed
 * to `divert` once (the store sends it to voicemail or declines it), and no
 * ringtone or notification starts for it.
 */
export class DoNotDisturbFilter {
  #diverted = new Set<string>();

  /** Returns the calls that may ring and notify; calls `divert` for each new ringing inbound call while `doNotDisturb` is on. */
  callsToAlert(calls: readonly CallInfo[], doNotDisturb: boolean, divert: (call: CallInfo) => void): CallInfo[] {
    const present = new Set(calls.map((call) => call.id));
    for (const id of this.#diverted) {
      if (!present.has(id)) this.#diverted.delete(id);
    }

    return calls.filter((call) => {
      const ringing = call.direction === 'inbound' && call.state.status === 'ringing';
      if (!ringing || (!doNotDisturb && !this.#diverted.has(call.id))) return true;

      if (!this.#diverted.has(call.id)) {
        this.#diverted.add(call.id);
        divert(call);
      }
      return false;
    });
  }
}

// The main process accepts sip.js logger names made of these characters and
// lines up to 256 KiB.
const TRACE_CATEGORY = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_TRACE_CONTENT_LENGTH = 256 * 1024;

/** Turns a sip.js `logConnector` call into the SIP trace line the main process accepts. */
export function toSipTraceEntry(
  level: SipTraceEntry['level'],
  category: string,
  label: string | undefined,
  content: string,
): SipTraceEntry {
  const text = label === undefined || label === '' ? content : `${label} | ${content}`;
  return {
    level,
    category: TRACE_CATEGORY.test(category) ? category : 'sip',
    content: text.length > MAX_TRACE_CONTENT_LENGTH ? `${text.slice(0, MAX_TRACE_CONTENT_LENGTH - 1)}…` : text,
  };
}
