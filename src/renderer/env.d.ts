/// <reference types="svelte" />
/// <reference types="vite/client" />

import type { SoftphoneBridge } from '../shared/ipc';

declare global {
  /** `name/version` of the app, from package.json at build time. */
  const __APP_USER_AGENT__: string;

  interface Window {
    softphone: SoftphoneBridge;
  }
}
