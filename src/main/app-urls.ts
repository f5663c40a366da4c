/** Location of the renderer page: the app:// page, or the dev server in development. */
export interface RendererLocation {
  /** URL of the page under the app's own scheme, such as `app://softphone/index.html`. */
  appUrl: string;
  /** The electron-vite dev server URL (`ELECTRON_RENDERER_URL`), or null when not in development. */
  devServerUrl: string | null;
}

/**
 * Returns a predicate that accepts only URLs of the app's own page: `appUrl` or
 * its origin's root (any query or fragment), or any page of the dev server's
 * origin. IPC senders, permission requests and navigations are checked with it.
 */
export function createAppUrlMatcher(location: RendererLocation): (url: string) => boolean {
  const page = new URL(location.appUrl);
  const devOrigin = location.devServerUrl === null ? null : new URL(location.devServerUrl).origin;

  return (candidate) => {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      return false;
    }

    if (url.protocol === page.protocol) {
      return url.host === page.host && (url.pathname === page.pathname || url.pathname === '/');
    }
    return devOrigin !== null && url.origin === devOrigin;
  };
}
