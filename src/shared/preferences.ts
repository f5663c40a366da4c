/**
 * An audio device the user chose. Chromium's device ids are stable per origin and
 * profile but change when the site data is cleared, so the label is kept too and
 * matched when the id is not found.
 */
export interface AudioDeviceChoice {
  deviceId: string;
  label: string;
}

/** Audio devices the user chose; null means the system default device. */
export interface AudioPreferences {
  microphone: AudioDeviceChoice | null;
  speaker: AudioDeviceChoice | null;
  /** Output device of the ringtone, separate from the speaker that plays calls. */
  ringer: AudioDeviceChoice | null;
}

export interface DialingPreferences {
  /**
   * ISO 3166-1 alpha-2 code of the country for numbers typed without a country
   * code. Null takes the country of the user's own number, else the region of the UI locale.
   */
  defaultCountry: string | null;
}

/** The user's choices for calls, kept in `preferences.json` in the app's data folder. */
export interface Preferences {
  audio: AudioPreferences;
  dialing: DialingPreferences;
}

export const DEFAULT_PREFERENCES: Preferences = {
  audio: { microphone: null, speaker: null, ringer: null },
  dialing: { defaultCountry: null },
};
