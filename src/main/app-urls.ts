/** Location of the renderer page: the built file, or the dev server in development. */
export interface RendererLocation {
  /** `file://` URL of the built `index.html`. */
  fileUrl: string;
  /** The electron-vite dev server URL (`ELECTRON_RENDERER_URL`), or null when not in development. */
  devServerUrl: string | null;
}

/**
 * Returns a predicate that accepts only URLs of the app's own page: the built
 * `index.html` file (any query or fragment), or any page of the dev server's
 * origin. IPC senders and navigations are checked with it.
 */
export function createAppUrlMatcher(location: RendererLocation): (url: string) => boolean {
  const file = new URL(location.fileUrl);
  const devOrigin = location.devServerUrl === null ? null : new URL(location.devServerUrl).origin;

  return (candidate) => {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      return false;
    }

    if (url.protocol === 'file:') {
      return url.pathname === file.pathname && url.host === file.host;
    }
    return devOrigin !== null && url.origin === devOrigin;
  };
}
