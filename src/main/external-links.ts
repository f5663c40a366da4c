/**
 * Sites the app page may open in the system browser, each with its reason.
 * Links go out only when their origin is listed here exactly, over https and
 * without credentials; every other URL is refused.
 */
const EXTERNAL_LINK_ALLOWLIST: readonly { origin: string; reason: string }[] = [
  { origin: 'https://support.ringcentral.com', reason: 'help articles that error messages point to' },
  { origin: 'https://developers.ringcentral.com', reason: 'how to register the app and create its client id and JWT credential' },
  { origin: 'https://service.ringcentral.com', reason: 'the account settings portal, for phone and voicemail settings' },
];

export interface ExternalLinkDecision {
  allowed: boolean;
  reason: string;
}

/** Decides whether `url` may be opened with `shell.openExternal`. */
export function decideExternalLink(url: string): ExternalLinkDecision {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { allowed: false, reason: 'not an absolute URL' };
  }

  if (parsed.protocol !== 'https:') {
    return { allowed: false, reason: `the ${parsed.protocol} scheme is not opened outside the app` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { allowed: false, reason: 'the URL carries credentials' };
  }

  const entry = EXTERNAL_LINK_ALLOWLIST.find((candidate) => candidate.origin === parsed.origin);
  if (entry === undefined) {
    return { allowed: false, reason: `${parsed.origin} is not on the allowlist` };
  }
  return { allowed: true, reason: entry.reason };
}
