/**
 * Reverse-DNS id of the app. electron-builder.yml sets the same `appId`, which
 * becomes the macOS bundle identifier and the Windows AppUserModelID; Windows
 * shows notifications only for an AppUserModelID that the installer registered.
 */
export const APP_ID = 'com.rcsoftphone.app';

/** Command-line switch of launches at login: the app starts hidden in the tray. */
export const HIDDEN_SWITCH = '--hidden';
