/** The page a browser tab ends on. */
export interface BrowserPage {
  status: number;
  text: string;
}

export interface FetchBrowserOptions {
  /** Visit the URL; false only records it, like a user who never finishes the sign-in. */
  visit?: boolean;
  /** Edits the redirect from the authorize page before it is followed. */
  tamper?: (redirect: URL) => void;
}

export interface FetchBrowser {
  /** Stand-in for Electron's shell.openExternal: returns at once, the visit runs in the background. */
  openExternal(url: string): Promise<void>;
  /** Every URL passed to `openExternal`. */
  opened: URL[];
  /** Resolves when `openExternal` was first called. */
  openedOnce: Promise<void>;
  /** Resolves with the page the last visit ended on; throws when nothing was visited. */
  page(): Promise<BrowserPage>;
  /** The `redirect_uri` of the first authorize URL opened. */
  redirectUri(): string;
}

/**
 * Plays the system browser with fetch: loads the authorize page and follows its
 * 302 to the app's loopback listener, as a browser does after the user signs in.
 */
export function createFetchBrowser(options: FetchBrowserOptions = {}): FetchBrowser {
  const opened: URL[] = [];
  let visit: Promise<BrowserPage> | null = null;
  let notifyOpened: () => void = () => {};
  const openedOnce = new Promise<void>((resolve) => {
    notifyOpened = resolve;
  });

  return {
    opened,
    openedOnce,

    async openExternal(url) {
      opened.push(new URL(url));
      notifyOpened();
      if (options.visit === false) return;

      visit = (async () => {
        const authorize = await fetch(url, { redirect: 'manual' });
        const location = authorize.headers.get('location');
        if (location === null) return { status: authorize.status, text: await authorize.text() };

        const redirect = new URL(location);
        options.tamper?.(redirect);
        const page = await fetch(redirect);
        return { status: page.status, text: await page.text() };
      })();
      visit.catch(() => undefined);
    },

    page() {
      if (visit === null) throw new Error('The browser was not opened');
      return visit;
    },

    redirectUri() {
      const first = opened[0];
      if (first === undefined) throw new Error('The browser was not opened');
      return first.searchParams.get('redirect_uri') ?? '';
    },
  };
}

/** Returns the text a user reads on `page`: tags removed, character references decoded. */
export function visibleText(page: BrowserPage): string {
  return page.text
    .replace(/<(style|title)>[^<]*<\/\1>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Returns the system error code of a request to `url`, such as ECONNREFUSED once a listener has closed. */
export async function connectionErrorCode(url: string): Promise<string | null> {
  return fetch(url).then(
    () => null,
    (error: unknown) => (error as { cause?: { code?: string } }).cause?.code ?? 'unknown',
  );
}
