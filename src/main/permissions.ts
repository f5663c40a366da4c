/** A permission request or check from a web page, in Electron's terms. */
export interface PermissionQuery {
  permission: string;
  /** URL of the requesting frame; null when Electron does not provide it. */
  requestingUrl: string | null;
  /** Media kinds of a `media` request or check; empty for other permissions. */
  mediaTypes: readonly string[];
}

export interface PermissionDecision {
  allowed: boolean;
  reason: string;
}

/**
 * The permissions the app's own page may use, each with its reason. Everything
 * else, and everything asked by any other page, is denied.
 */
const ALLOWED_PERMISSIONS: Record<string, { reason: string; audioOnly: boolean }> = {
  media: { reason: "the microphone carries the user's voice in calls", audioOnly: true },
  'speaker-selection': { reason: 'the user chooses the output device for calls and the ringtone', audioOnly: false },
};

/** Decides one permission query against the allowlist above. */
export function decidePermission(query: PermissionQuery, isAppUrl: (url: string) => boolean): PermissionDecision {
  const rule = ALLOWED_PERMISSIONS[query.permission];
  if (rule === undefined) {
    return { allowed: false, reason: 'the app does not use this permission' };
  }

  if (query.requestingUrl === null || !isAppUrl(query.requestingUrl)) {
    return { allowed: false, reason: 'only the app page may use permissions' };
  }

  // Chromium sends `unknown` for some device checks, so only video is refused.
  if (rule.audioOnly && query.mediaTypes.includes('video')) {
    return { allowed: false, reason: 'the app captures audio, never video' };
  }
  return { allowed: true, reason: rule.reason };
}
