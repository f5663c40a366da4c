import type { DesktopPreferences, DialLink, SipTraceEntry } from '../../shared/desktop';
import { IpcEvent, type SoftphoneBridge } from '../../shared/ipc';
import type { RegistrationState } from '../sip/registration-state';
import type { CallInfo } from '../sip/softphone-engine';
import { DoNotDisturbFilter, PhoneStatusReporter, toSipTraceEntry } from './desktop-status';

/**
 * Desktop integration for the window: start at login, Do Not Disturb and the
 * SIP trace switch, a dial link waiting for confirmation, and the phone status
 * for the tray.
 */
export class DesktopState {
  preferences = $state<DesktopPreferences>({ openAtLogin: false, doNotDisturb: false, sipTrace: false });
  /** A link from the OS: a target to confirm, or the message of a rejected link; null when there is none. */
  dialLink = $state<DialLink | null>(null);
  /** Message of the last failed load or change; null after a success. */
  error = $state<string | null>(null);

  readonly #reporter: PhoneStatusReporter;
  readonly #doNotDisturb = new DoNotDisturbFilter();

  constructor(private readonly bridge: SoftphoneBridge) {
    this.#reporter = new PhoneStatusReporter((status) => bridge.reportPhoneStatus(status));
  }

  /** Subscribes to the main process's events; call it before the page finishes loading, so no link is missed. */
  listen(): void {
    this.bridge.on(IpcEvent.DesktopPreferencesChanged, (preferences) => {
      this.preferences = preferences;
    });
    this.bridge.on(IpcEvent.DialLinkOpened, (link) => {
      this.dialLink = link;
    });
  }

  async load(): Promise<void> {
    try {
      this.preferences = await this.bridge.getDesktopPreferences();
      this.error = null;
    } catch (error) {
      this.error = `Could not read the desktop settings: ${messageOf(error)}`;
    }
  }

  async update(change: Partial<DesktopPreferences>): Promise<void> {
    try {
      this.preferences = await this.bridge.setDesktopPreferences(change);
      this.error = null;
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  dismissDialLink(): void {
    this.dialLink = null;
  }

  reportPhoneStatus(registration: RegistrationState, calls: readonly CallInfo[]): void {
    this.#reporter.update(registration, calls);
  }

  /** Returns the calls that may ring; while Do Not Disturb is on, new inbound calls go to `divert` instead. */
  callsToAlert(calls: readonly CallInfo[], divert: (call: CallInfo) => void): CallInfo[] {
    return this.#doNotDisturb.callsToAlert(calls, this.preferences.doNotDisturb, divert);
  }

  /** sip.js `logConnector`: forwards each line to the main process while the SIP trace is on. */
  readonly forwardSipLog = (level: SipTraceEntry['level'], category: string, label: string | undefined, content: string): void => {
    if (!this.preferences.sipTrace) return;
    this.bridge.writeSipTrace(toSipTraceEntry(level, category, label, content)).catch(() => {
      // A lost trace line is not worth a message; logging it here would feed the trace again.
    });
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
