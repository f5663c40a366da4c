import { z } from 'zod';

import { IpcChannel, type IpcRequest, type IpcResponse } from '../shared/ipc';
import type { Logger } from './logger';
import { publicSettingsSchema } from './settings';
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

const noPayload = z.union([z.undefined(), z.null()]).transform((): void => undefined);

/** Runtime schema of each channel's request, so bad payloads are rejected before they reach the service. */
export const ipcRequestSchemas: { [C in IpcChannel]: z.ZodType<IpcRequest<C>> } = {
  [IpcChannel.GetState]: noPayload,
  [IpcChannel.SaveSettings]: publicSettingsSchema,
  [IpcChannel.SignInWithJwt]: z.strictObject({
    jwt: z
      .string()
      .trim()
      .min(1, 'the JWT credential is empty')
      .max(MAX_JWT_LENGTH, `the JWT credential is longer than ${MAX_JWT_LENGTH} characters`)
      .regex(/^\S+$/, 'the JWT credential contains whitespace'),
  }),
  [IpcChannel.SignOut]: noPayload,
  [IpcChannel.Provision]: noPayload,
  [IpcChannel.QuitReady]: noPayload,
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

/**
 * Builds the handler of every invoke channel over the service. Each handler
 * validates its request at run time too, since it arrives from another process.
 */
export function createIpcHandlers(service: SoftphoneService): IpcHandlers {
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
    [IpcChannel.SignOut]: async (request) => {
      parseIpcRequest(IpcChannel.SignOut, request);
      return service.signOut();
    },
    [IpcChannel.Provision]: async (request) => {
      parseIpcRequest(IpcChannel.Provision, request);
      return service.provision();
    },
    [IpcChannel.QuitReady]: async (request) => {
      parseIpcRequest(IpcChannel.QuitReady, request);
      service.notifyQuitReady();
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
