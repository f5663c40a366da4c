import type { Core, Info, Session, UserAgent } from 'sip.js';

import type { SipProfile } from '../../shared/sip-profile';
import {
  buildClientCommand,
  buildInfoRequest,
  InvalidRcMessageError,
  parseInfoResponse,
  parseRcMessage,
  RC_INFO_CONTENT_TYPE,
  type RcInfoCommand,
  type RcInfoResult,
  type RcMessage,
} from './rc-call-control';
import { rcMessageTarget, sendRcMessage } from './rc-messages';

/** Time an in-call INFO command waits for RingCentral's result INFO. */
export const INFO_RESULT_TIMEOUT_MS = 15_000;

/** Reads the `P-rc` header of an inbound INVITE; null when absent or invalid (logged). */
export function readRcHeader(request: Core.IncomingRequestMessage): RcMessage | null {
  const header = request.getHeader('P-rc');
  if (!header) return null;

  try {
    return parseRcMessage(header);
  } catch (error) {
    if (!(error instanceof InvalidRcMessageError)) throw error;
    console.warn(`[calls] ignoring the INVITE's P-rc header: ${error.message}`);
    return null;
  }
}

interface PendingCommand {
  session: Session;
  command: RcInfoCommand;
  resolve(result: RcInfoResult): void;
}

/**
 * Sends RingCentral's call-control commands for one line: MESSAGE commands
 * about a ringing call, and in-call INFO commands whose results come back as
 * INFOs matched by `reqid`.
 */
export class RcCommands {
  readonly #pending = new Map<string, PendingCommand>();
  #nextRequestId = 1;

  constructor(
    private readonly profile: SipProfile,
    private readonly userAgent: () => UserAgent,
    /** Extra headers of INFO requests (RingCentral's endpoint and client ids). */
    private readonly extraHeaders: string[],
  ) {}

  /** Sends `command` about the call that `rcInvite` (its INVITE's `P-rc`) announced; resolves on 2xx. */
  sendClientCommand(rcInvite: RcMessage, command: number): Promise<void> {
    const { authorizationId, domain } = this.profile;
    const target = rcMessageTarget(rcInvite.header.From!, domain);
    return sendRcMessage(this.userAgent(), target, buildClientCommand(rcInvite, command, authorizationId), []);
  }

  /** Sends an in-call command INFO and resolves with RingCentral's result; rejects on a rejected INFO or a timeout. */
  sendInfoCommand(session: Session, command: RcInfoCommand, parameters: Record<string, string>): Promise<RcInfoResult> {
    const reqid = String(this.#nextRequestId++);

    return new Promise<RcInfoResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(reqid);
        reject(new Error(`No result for ${command} from RingCentral within ${INFO_RESULT_TIMEOUT_MS / 1000} s`));
      }, INFO_RESULT_TIMEOUT_MS);

      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        this.#pending.delete(reqid);
        outcome();
      };
      this.#pending.set(reqid, { session, command, resolve: (result) => settle(() => resolve(result)) });

      session
        .info({
          requestOptions: {
            extraHeaders: this.extraHeaders,
            body: {
              contentDisposition: 'render',
              contentType: RC_INFO_CONTENT_TYPE,
              content: buildInfoRequest(Number(reqid), command, parameters),
            },
          },
          requestDelegate: {
            onReject: (response) => {
              const { statusCode, reasonPhrase } = response.message;
              settle(() => reject(new Error(`${command} was rejected with ${statusCode} ${reasonPhrase}`)));
            },
          },
        })
        .catch((error: unknown) => settle(() => reject(error)));
    });
  }

  /** Accepts an in-dialog INFO; a RingCentral command result settles the pending command with its `reqid`. */
  receiveInfo(session: Session, info: Info): void {
    void info.accept().catch(() => undefined);

    const result = parseInfoResponse(info.request.body ?? '');
    if (!result) return;

    const pending = this.#pending.get(result.reqid);
    if (pending && pending.session === session && pending.command === result.command) pending.resolve(result);
  }
}
