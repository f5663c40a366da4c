import { isIPv6 } from 'node:net';

import type { AppState } from '../shared/app-state';
import type { SipProfile } from '../shared/sip-profile';
import { resolvePlatformBaseUrl } from './platform-servers';

/**
 * Sources the renderer may connect to, as the `connect-src` of the page's
 * Content-Security-Policy header.
 *
 * The page also carries a CSP `<meta>` from build time whose `connect-src` is
 * `'self' wss:`, because provisioned proxies are not known then. A browser
 * enforces both policies, so the header narrows WebSockets to the provisioned
 * proxies, and the meta keeps every other directive when the page is served
 * without the header (the test bench serves it over plain HTTP).
 */
export interface ConnectSources {
  /** Origin of the platform URL in the settings, or null when the settings hold no valid one. */
  platformOrigin: string | null;
  /** `host:port` of each provisioned WSS proxy, primary first. */
  webSocketProxies: readonly string[];
}

/**
 * Directives of the app page, except `connect-src`. The `<meta>` in index.html
 * repeats them; `frame-ancestors` works only in a header, so only the header has it.
 */
export const PAGE_DIRECTIVES: readonly string[] = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self' blob: mediastream:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
];

const HEADER_ONLY_DIRECTIVES: readonly string[] = ["frame-ancestors 'none'"];

/** Builds the page's policy: the fixed directives plus `connect-src` for `sources`. */
export function buildContentSecurityPolicy(sources: ConnectSources): string {
  const connect = ["'self'"];
  if (sources.platformOrigin !== null) {
    connect.push(sources.platformOrigin);
  }
  for (const proxy of sources.webSocketProxies) {
    connect.push(`wss://${proxy}`);
  }
  return [...PAGE_DIRECTIVES, ...HEADER_ONLY_DIRECTIVES, `connect-src ${connect.join(' ')}`].join('; ');
}

// A CSP host-source cannot hold spaces, quotes, commas or semicolons; anything
// outside `hostname:port` or `[IPv6]:port` is left out rather than escaped.
const PROXY_HOST_PORT = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/;

/** Returns whether `hostPort` is safe to put into a CSP source as `wss://<hostPort>`. */
export function isValidProxyHostPort(hostPort: string): boolean {
  const match = PROXY_HOST_PORT.exec(hostPort);
  if (match === null) {
    return false;
  }

  const [, host = '', port = ''] = match;
  if (host.startsWith('[') && !isIPv6(host.slice(1, -1))) {
    return false;
  }
  return Number(port) >= 1 && Number(port) <= 65_535;
}

/**
 * Reads the platform origin and the proxies of the SIP profile in use from the
 * app state. Proxies that fail `isValidProxyHostPort` go into `rejected`.
 */
export function connectSourcesFromState(state: Pick<AppState, 'settings' | 'provisioning'>): {
  sources: ConnectSources;
  rejected: string[];
} {
  let platformOrigin: string | null;
  try {
    platformOrigin = new URL(resolvePlatformBaseUrl(state.settings)).origin;
  } catch {
    platformOrigin = null;
  }

  const profile = profileInUse(state.provisioning);
  const proxies = profile === null ? [] : [profile.outboundProxy, profile.outboundProxyBackup].filter((proxy) => proxy !== null);
  const rejected = proxies.filter((proxy) => !isValidProxyHostPort(proxy));

  return {
    sources: { platformOrigin, webSocketProxies: proxies.filter(isValidProxyHostPort) },
    rejected,
  };
}

/** Returns whether a page loaded with `loaded` may open WebSockets to every proxy in `needed`. */
export function coversWebSocketProxies(loaded: ConnectSources, needed: ConnectSources): boolean {
  return needed.webSocketProxies.every((proxy) => loaded.webSocketProxies.includes(proxy));
}

/** Returns the profile the renderer registers with: the ready one, or the one kept while re-provisioning. */
function profileInUse(provisioning: AppState['provisioning']): SipProfile | null {
  if (provisioning.status === 'ready') {
    return provisioning.profile;
  }
  if ('line' in provisioning && provisioning.line !== null) {
    return provisioning.line.profile;
  }
  return null;
}
