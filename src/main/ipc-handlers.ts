import { z } from 'zod';

import type { DesktopPreferences, PhoneStatus, SipTraceEntry } from '../shared/desktop';
import { IpcChannel, type IpcRequest, type IpcResponse } from '../shared/ipc';
import { newCallHistoryEntrySchema, type CallHistoryStore } from './call-history';
import { desktopPreferencesChangeSchema } from './desktop-preferences';
import { phoneStatusSchema } from './desktop-service';
import type { Logger } from './logger';
import { incomingCallIdSchema, incomingCallNoticeSchema, type IncomingCallNotifier } from './notifications';
import { preferencesSchema, type PreferencesStore } from './preferences';
import { publicSettingsShapeSchema } from './settings';
import { sipTraceEntrySchema } from './sip-trace';
import type { SoftphoneService } from './softphone-service';

/** One async handler per invoke channel, typed by the shared IPC contract. */
export type IpcHandlers = { [C in IpcChannel]: (request: IpcRequest<C>) => Promise<IpcResponse<C>> };

/** A renderer sent a payload that does not match the channel's contract. */
export class IpcPayloadError extends Error {
  override readonly name = 'IpcPayloadError';

  constructor(
    readonly channel: IpcChannel,
    problems: string,
  ) {
    super(
      `Invalid request on IPC channel "${channel}": ${problems}. ` +
        'The renderer and main process may be from different app versions; restart the app.',
    );
  }
}

/** A frame other than the app's own page called an IPC channel. */
export class UntrustedSenderError extends Error {
  override readonly name = 'UntrustedSenderError';

  constructor(
    readonly channel: string,
    readonly senderUrl: string | null,
  ) {
    super(`Rejected IPC call on "${channel}" from ${senderUrl === null ? 'a destroyed frame' : `untrusted page ${senderUrl}`}.`);
  }
}

// A JWT credential is a few hundred to a few thousand characters; the limit
// only stops a renderer from pushing megabytes into the token request.
const MAX_JWT_LENGTH = 16_384;
// RingCentral client secrets are about 40 characters; the limit only keeps
// garbage out of the keychain and the Authorization header.
const MAX_CLIENT_SECRET_LENGTH = 512;

const noPayload = z.union([z.undefined(), z.null()]).transform((): void => undefined);

/** Runtime schema of each channel's request, so bad payloads are rejected before they reach the service. */
export const ipcRequestSchemas: { [C in IpcChannel]: z.ZodType<IpcRequest<C>> } = {
  [IpcChannel.GetState]: noPayload,
  // Only the shape here: the service checks the URL rules and answers with a
  // message for the user instead of an IPC error.
  [IpcChannel.SaveSettings]: publicSettingsShapeSchema,
  [IpcChannel.SignInWithJwt]: z.strictObject({
    jwt: z
      .string()
      .trim()
      .min(1, 'the JWT credential is empty')
      .max(MAX_JWT_LENGTH, `the JWT credential is longer than ${MAX_JWT_LENGTH} characters`)
      .regex(/^\S+$/, 'the JWT credential contains whitespace'),
  }),
  [IpcChannel.SignInWithBrowser]: noPayload,
  [IpcChannel.CancelSignIn]: noPayload,
  [IpcChannel.SaveClientSecret]: z.strictObject({
    clientSecret: z
      .string()
      .trim()
      .min(1, 'the client secret is empty; send null to delete it')
      .max(MAX_CLIENT_SECRET_LENGTH, `the client secret is longer than ${MAX_CLIENT_SECRET_LENGTH} characters`)
      .regex(/^[\x21-\x7e]+$/, 'the client secret may contain only printable ASCII characters without spaces')
      .nullable(),
  }),
  [IpcChannel.SignOut]: noPayload,
  [IpcChannel.Provision]: noPayload,
  [IpcChannel.RequestProvisioning]: z.strictObject({ reason: z.enum(['check-sync', 'sip-auth-failure']) }),
  [IpcChannel.QuitReady]: noPayload,
  [IpcChannel.GetPreferences]: noPayload,
  [IpcChannel.SavePreferences]: preferencesSchema,
  [IpcChannel.GetCallHistory]: noPayload,
  [IpcChannel.AddCallHistoryEntry]: newCallHistoryEntrySchema,
  [IpcChannel.MarkMissedCallsSeen]: noPayload,
  [IpcChannel.ClearCallHistory]: noPayload,
  [IpcChannel.ShowIncomingCallNotification]: incomingCallNoticeSchema,
  [IpcChannel.CloseIncomingCallNotification]: incomingCallIdSchema,
  [IpcChannel.GetDesktopPreferences]: noPayload,
  [IpcChannel.SetDesktopPreferences]: desktopPreferencesChangeSchema,
  [IpcChannel.ReportPhoneStatus]: phoneStatusSchema,
  [IpcChannel.WriteSipTrace]: sipTraceEntrySchema,
};

/** Validates `payload` against the channel's schema; throws `IpcPayloadError` without echoing the payload. */
export function parseIpcRequest<C extends IpcChannel>(channel: C, payload: unknown): IpcRequest<C> {
  const schema = ipcRequestSchemas[channel] as z.ZodType<IpcRequest<C>>;
  const result = schema.safeParse(payload);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
      .join('; ');
    throw new IpcPayloadError(channel, problems);
  }
  return result.data;
}

/** Main-process parts of the call features: preferences, call history and incoming-call notifications. */
export interface CallServices {
  preferences: PreferencesStore;
  callHistory: CallHistoryStore;
  incomingCallNotifier: IncomingCallNotifier;
}

/** Main-process parts of the desktop integration: preferences, the tray's phone status and the SIP trace. */
export interface DesktopIpcTarget {
  getPreferences(): Promise<DesktopPreferences>;
  setPreferences(change: Partial<DesktopPreferences>): Promise<DesktopPreferences>;
  reportPhoneStatus(status: PhoneStatus): void;
  writeSipTrace(entry: SipTraceEntry): void;
}

/**
 * Builds the handler of every invoke channel over the services. Each handler
 * validates its request at run time too, since it arrives from another process.
 */
export function createIpcHandlers(service: SoftphoneService, callServices: CallServices, desktop: DesktopIpcTarget): IpcHandlers {
  const { preferences, callHistory, incomingCallNotifier } = callServices;

  return {
    [IpcChannel.GetState]: async (request) => {
      parseIpcRequest(IpcChannel.GetState, request);
      return service.getState();
    },
    [IpcChannel.SaveSettings]: async (request) => service.saveSettings(parseIpcRequest(IpcChannel.SaveSettings, request)),
    [IpcChannel.SignInWithJwt]: async (request) => {
      const { jwt } = parseIpcRequest(IpcChannel.SignInWithJwt, request);
      return service.signInWithJwt(jwt);
    },
    [IpcChannel.SignInWithBrowser]: async (request) => {
      parseIpcRequest(IpcChannel.SignInWithBrowser, request);
      return service.signInWithBrowser();
    },
    [IpcChannel.CancelSignIn]: async (request) => {
      parseIpcRequest(IpcChannel.CancelSignIn, request);
      return service.cancelSignIn();
    },
    [IpcChannel.SaveClientSecret]: async (request) => {
      const { clientSecret } = parseIpcRequest(IpcChannel.SaveClientSecret, request);
      return service.saveClientSecret(clientSecret);
    },
    [IpcChannel.SignOut]: async (request) => {
      parseIpcRequest(IpcChannel.SignOut, request);
      return service.signOut();
    },
    [IpcChannel.Provision]: async (request) => {
      parseIpcRequest(IpcChannel.Provision, request);
      return service.provision();
    },
    [IpcChannel.RequestProvisioning]: async (request) => {
      const { reason } = parseIpcRequest(IpcChannel.RequestProvisioning, request);
      service.requestProvisioning(reason);
    },
    [IpcChannel.QuitReady]: async (request) => {
      parseIpcRequest(IpcChannel.QuitReady, request);
      service.notifyQuitReady();
    },
    [IpcChannel.GetPreferences]: async (request) => {
      parseIpcRequest(IpcChannel.GetPreferences, request);
      return preferences.load();
    },
    [IpcChannel.SavePreferences]: async (request) =>
      preferences.save(parseIpcRequest(IpcChannel.SavePreferences, request)),
    [IpcChannel.GetCallHistory]: async (request) => {
      parseIpcRequest(IpcChannel.GetCallHistory, request);
      return callHistory.snapshot();
    },
    [IpcChannel.AddCallHistoryEntry]: async (request) =>
      callHistory.add(parseIpcRequest(IpcChannel.AddCallHistoryEntry, request)),
    [IpcChannel.MarkMissedCallsSeen]: async (request) => {
      parseIpcRequest(IpcChannel.MarkMissedCallsSeen, request);
      return callHistory.markMissedSeen();
    },
    [IpcChannel.ClearCallHistory]: async (request) => {
      parseIpcRequest(IpcChannel.ClearCallHistory, request);
      return callHistory.clear();
    },
    [IpcChannel.ShowIncomingCallNotification]: async (request) => {
      incomingCallNotifier.show(parseIpcRequest(IpcChannel.ShowIncomingCallNotification, request));
    },
    [IpcChannel.CloseIncomingCallNotification]: async (request) => {
      incomingCallNotifier.close(parseIpcRequest(IpcChannel.CloseIncomingCallNotification, request).callId);
    },
    [IpcChannel.GetDesktopPreferences]: async (request) => {
      parseIpcRequest(IpcChannel.GetDesktopPreferences, request);
      return desktop.getPreferences();
    },
    [IpcChannel.SetDesktopPreferences]: async (request) =>
      desktop.setPreferences(parseIpcRequest(IpcChannel.SetDesktopPreferences, request)),
    [IpcChannel.ReportPhoneStatus]: async (request) => {
      desktop.reportPhoneStatus(parseIpcRequest(IpcChannel.ReportPhoneStatus, request));
    },
    [IpcChannel.WriteSipTrace]: async (request) => {
      desktop.writeSipTrace(parseIpcRequest(IpcChannel.WriteSipTrace, request));
    },
  };
}

/** The part of an `IpcMainInvokeEvent` the registration reads. */
export interface IpcInvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

/** The part of Electron's `ipcMain` the registration uses; tests pass a recorder. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
}

/**
 * Registers every handler with `ipcMain.handle`. A call whose sender frame URL is
 * not the app's own page (as decided by `isTrustedSender`) is rejected and logged.
 */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  handlers: IpcHandlers,
  isTrustedSender: (senderUrl: string) => boolean,
  logger?: Logger,
): void {
  for (const channel of Object.values(IpcChannel)) {
    const handler = handlers[channel] as (request: unknown) => Promise<unknown>;

    ipcMain.handle(channel, async (event, payload) => {
      const senderUrl = event.senderFrame?.url ?? null;
      if (senderUrl === null || !isTrustedSender(senderUrl)) {
        const error = new UntrustedSenderError(channel, senderUrl);
        logger?.warn('Rejected an IPC call from an untrusted sender', { channel, senderUrl });
        throw error;
      }
      return handler(payload);
    });
  }
}
