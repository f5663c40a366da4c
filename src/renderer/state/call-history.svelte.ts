import type { CallHistoryEntry, CallHistorySnapshot } from '../../shared/call-history';
import type { SoftphoneBridge } from '../../shared/ipc';
import type { CallInfo } from '../sip/softphone-engine';
import { historyEntryOf } from './history-entry';

/**
 * The call history kept by the main process, and the recording of each call
 * that ends. `missedCount` is what the UI badge and the tray show.
 */
export class CallHistoryState {
  /**
   * Entries, newest first, while a view shows them. The list is empty otherwise,
   * because each entry costs about 1 KB of renderer heap (measured on the test
   * bench) and the history keeps up to 500.
   */
  entries = $state<CallHistoryEntry[]>([]);
  missedCount = $state(0);
  /** Message of the last failed read or write of the history; null after a success. */
  error = $state<string | null>(null);

  /** Time each current call was answered, because the ended state no longer carries it. */
  readonly #establishedAt = new Map<string, number>();
  #shown = false;

  constructor(private readonly bridge: SoftphoneBridge) {}

  async load(): Promise<void> {
    await this.#run(() => this.bridge.getCallHistory(), 'read');
  }

  /** Loads the entries for a view and keeps them current until `hide`. */
  async show(): Promise<void> {
    this.#shown = true;
    await this.load();
  }

  hide(): void {
    this.#shown = false;
    this.entries = [];
  }

  /** Notes when calls were answered; call it with every new list of calls. */
  observe(calls: readonly CallInfo[]): void {
    for (const call of calls) {
      if ('establishedAt' in call.state && !this.#establishedAt.has(call.id)) {
        this.#establishedAt.set(call.id, call.state.establishedAt);
      }
    }
  }

  /** Records a call that ended. */
  async record(call: CallInfo): Promise<void> {
    const establishedAt = this.#establishedAt.get(call.id) ?? null;
    this.#establishedAt.delete(call.id);

    const entry = historyEntryOf(call, establishedAt);
    if (entry === null) return;
    await this.#run(() => this.bridge.addCallHistoryEntry(entry), 'save');
  }

  /** Resets the missed-call count, when the user opens the history. */
  async markMissedSeen(): Promise<void> {
    if (this.missedCount === 0) return;
    await this.#run(() => this.bridge.markMissedCallsSeen(), 'save');
  }

  async clear(): Promise<void> {
    await this.#run(() => this.bridge.clearCallHistory(), 'save');
  }

  async #run(request: () => Promise<CallHistorySnapshot>, verb: 'read' | 'save'): Promise<void> {
    try {
      const snapshot = await request();
      this.entries = this.#shown ? snapshot.entries : [];
      this.missedCount = snapshot.missedCount;
      this.error = null;
    } catch (error) {
      this.error = `Could not ${verb} the call history: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}
