import type { Logger } from './logger';

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
  notifications: { reason: 'incoming and missed calls are announced while the window is hidden', audioOnly: false },
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

/** The part of Electron's `Session` whose permission handlers this module sets. */
export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (
      webContents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
      details: { requestingUrl: string; mediaTypes?: readonly string[] },
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (
      webContents: { getURL(): string } | null,
      permission: string,
      requestingOrigin: string,
      details: { requestingUrl?: string; mediaType?: string },
    ) => boolean,
  ): void;
  setDevicePermissionHandler(handler: (details: { deviceType: string; origin: string }) => boolean): void;
}

/**
 * Installs the allowlist as the session's request and check handlers, and denies
 * every HID, serial and USB device. Each granted request and each denial is one
 * log line; granted checks are not logged, because Chromium checks on every
 * device enumeration.
 */
export function installPermissionHandlers(session: PermissionSession, isAppUrl: (url: string) => boolean, logger: Logger): void {
  session.setPermissionRequestHandler((_webContents, permission, callback, details) => {
    const mediaTypes = details.mediaTypes ?? [];
    const decision = decidePermission({ permission, requestingUrl: details.requestingUrl, mediaTypes }, isAppUrl);
    const fields = { permission, requestingUrl: details.requestingUrl, mediaTypes, reason: decision.reason };
    if (decision.allowed) {
      logger.info('Permission granted', fields);
    } else {
      logger.warn('Permission denied', fields);
    }
    callback(decision.allowed);
  });

  session.setPermissionCheckHandler((webContents, permission, _requestingOrigin, details) => {
    const requestingUrl = details.requestingUrl ?? webContents?.getURL() ?? null;
    const mediaTypes = details.mediaType === undefined ? [] : [details.mediaType];
    const decision = decidePermission({ permission, requestingUrl, mediaTypes }, isAppUrl);
    if (!decision.allowed) {
      logger.warn('Permission check denied', { permission, requestingUrl, reason: decision.reason });
    }
    return decision.allowed;
  });

  session.setDevicePermissionHandler((details) => {
    logger.warn('Device permission denied', {
      deviceType: details.deviceType,
      origin: details.origin,
      reason: 'the app uses no HID, serial or USB devices',
    });
    return false;
  });
}
