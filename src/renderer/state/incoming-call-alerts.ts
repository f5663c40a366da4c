import type { SoftphoneBridge } from '../../shared/ipc';
import type { IncomingCallNotice } from '../../shared/notifications';
import type { Ringer } from '../audio/ringer';
import type { CallInfo } from '../sip/softphone-engine';

export interface IncomingCallAlertsOptions {
  ringer: Ringer;
  bridge: SoftphoneBridge;
  /** The ringer device to use now; null for the system default. */
  ringerDeviceId: () => string | null;
  /** Builds the caller's name and number for the notification. */
  describeCaller: (call: CallInfo) => IncomingCallNotice;
  /** Reports a ringtone or notification failure to the user. */
  onError: (message: string) => void;
}

/**
 * Rings and shows an OS notification while an inbound call is in `ringing`,
 * and stops both when it leaves that status for any reason (answered,
 * declined, cancelled, answered elsewhere).
 */
export class IncomingCallAlerts {
  readonly #options: IncomingCallAlertsOptions;
  #ringingCallIds = new Set<string>();

  constructor(options: IncomingCallAlertsOptions) {
    this.#options = options;
  }

  /** Brings ringtone and notifications in line with `calls`; call it with every new list of calls. */
  update(calls: readonly CallInfo[]): void {
    const ringing = calls.filter((call) => call.direction === 'inbound' && call.state.status === 'ringing');
    const ringingIds = new Set(ringing.map((call) => call.id));

    for (const call of ringing) {
      if (!this.#ringingCallIds.has(call.id)) this.#notify(call);
    }
    for (const callId of this.#ringingCallIds) {
      if (!ringingIds.has(callId)) this.#closeNotification(callId);
    }
    this.#ringingCallIds = ringingIds;

    if (ringingIds.size > 0 && !this.#options.ringer.ringing) void this.#startRinging();
    if (ringingIds.size === 0 && this.#options.ringer.ringing) this.#options.ringer.stop();
  }

  stopAll(): void {
    this.update([]);
  }

  /** Rings on the ringer device; when that device fails, rings on the system default instead. */
  async #startRinging(): Promise<void> {
    const { ringer } = this.#options;
    const deviceId = this.#options.ringerDeviceId();
    try {
      await ringer.start(deviceId);
      return;
    } catch (error) {
      if (deviceId === null) {
        this.#options.onError(`The ringtone could not play: ${messageOf(error)}`);
        return;
      }
      console.warn(`The ringtone could not play on ringer device ${deviceId}; trying the system default`, error);
    }

    if (this.#ringingCallIds.size === 0) return;
    try {
      await ringer.start(null);
    } catch (error) {
      this.#options.onError(`The ringtone could not play: ${messageOf(error)}`);
    }
  }

  #notify(call: CallInfo): void {
    this.#options.bridge.showIncomingCallNotification(this.#options.describeCaller(call)).catch((error: unknown) => {
      console.warn(`No OS notification for incoming call ${call.id}`, error);
    });
  }

  #closeNotification(callId: string): void {
    this.#options.bridge.closeIncomingCallNotification(callId).catch((error: unknown) => {
      console.warn(`Could not close the notification of call ${callId}`, error);
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
