import type { SoftphoneBridge } from '../../shared/ipc';
import { DEFAULT_PREFERENCES, type Preferences } from '../../shared/preferences';

/**
 * The user's audio and dialing choices. They live in `preferences.json` in the
 * main process's data folder rather than in the page's localStorage, because
 * that folder survives a change of the page's origin and a cleared browser
 * profile, and the main process validates what is stored.
 */
export class PreferencesState {
  value = $state<Preferences>(structuredClone(DEFAULT_PREFERENCES));
  /** Message of the last failed load or save; null after a success. */
  error = $state<string | null>(null);

  constructor(private readonly bridge: SoftphoneBridge) {}

  async load(): Promise<void> {
    try {
      this.value = await this.bridge.getPreferences();
      this.error = null;
    } catch (error) {
      this.error = `Could not read the saved audio and dialing settings, so the defaults are used: ${messageOf(error)}`;
    }
  }

  /** Applies `change` now and saves the result; a failed save keeps the change for this session. */
  async update(change: (current: Preferences) => Preferences): Promise<void> {
    const next = change($state.snapshot(this.value));
    this.value = next;
    try {
      await this.bridge.savePreferences(next);
      this.error = null;
    } catch (error) {
      this.error = `Could not save the audio and dialing settings; they apply until the app restarts: ${messageOf(error)}`;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
