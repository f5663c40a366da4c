import { SessionState, type Core, type Session, type Web } from 'sip.js';

/**
 * Re-INVITEs that survive glare: both ends sending a re-INVITE at once, each
 * answering the other's with 491 Request Pending (RFC 3261 §14.2).
 */

/** Retries after a 491, a 480 or a 500 with Retry-After, beyond the first attempt. */
export const MAX_REINVITE_RETRIES = 3;

/** Longest Retry-After honoured for a 500 to a re-INVITE; RFC 3261 §14.2 lets the UAS pick 0 to 10 s. */
const MAX_RETRY_AFTER_S = 10;

/** Wait before retrying a re-INVITE that got 480 Temporarily Unavailable without Retry-After. */
const UNAVAILABLE_RETRY_MS = 2000;

/** Poll interval while the other end's re-INVITE transaction is still open on this dialog. */
const INCOMING_REINVITE_POLL_MS = 50;
/**
 * Maximum wait for the other end's re-INVITE transaction to end. It equals
 * Timer H (64 × T1 = 32 s, RFC 3261 §17.2.1), the longest an INVITE server
 * transaction waits for its ACK. sip.js 0.21 keeps the transaction in the
 * dialog when no ACK arrives, so the wait needs this bound.
 */
const INCOMING_REINVITE_MAX_WAIT_MS = 32_000;

/**
 * Returns the wait before retrying a re-INVITE that got 491, from RFC 3261 §14.1:
 * "If the UAC is the owner of the Call-ID of the dialog ID (meaning it
 * generated the value), T has a randomly chosen value between 2.1 and 4
 * seconds in units of 10 ms. If the UAC is not the owner of the Call-ID of the
 * dialog ID, T has a randomly chosen value of between 0 and 2 seconds in units
 * of 10 ms." The two ranges do not overlap, so the two ends cannot collide again.
 *
 * @param random - returns a number in [0, 1), as Math.random does
 */
export function requestPendingRetryDelayMs(ownsCallId: boolean, random: () => number = Math.random): number {
  if (ownsCallId) return 2100 + Math.floor(random() * 191) * 10;
  return Math.floor(random() * 201) * 10;
}

export type ReinviteOutcome =
  | { ok: true }
  | {
      ok: false;
      /** Final status of the last attempt; null when none arrived (the request could not be sent). */
      statusCode: number | null;
      /** Failure for the call screen, such as "488 Not Acceptable Here" or "the call ended". */
      reason: string;
      /** Set when the dialog is gone on the other end or cannot recover, so the call should end. */
      dialogLost?: true;
    };

export interface ReinviteDependencies {
  /** True for the UAC that generated the dialog's Call-ID (the caller). */
  ownsCallId: boolean;
  sleep: (milliseconds: number) => Promise<void>;
  random?: () => number;
  /**
   * Returns true once the re-INVITE is no longer needed, for example an ICE
   * restart after the other end's own ICE restart has mended the path. It is
   * checked before each retry, and a superseded re-INVITE counts as done.
   */
  superseded?: () => boolean;
}

/**
 * Sends a re-INVITE with the given description options and waits for its final
 * response. A 491 is retried after the RFC 3261 §14.1 delay, a 500 with
 * Retry-After after that many seconds, and a 480 after its Retry-After or
 * UNAVAILABLE_RETRY_MS, up to MAX_REINVITE_RETRIES times. Each
 * attempt first waits until no re-INVITE from the other end is open.
 *
 * The caller serializes re-INVITEs of one dialog, since sip.js allows only one
 * outstanding re-INVITE per session.
 */
export async function sendReinvite(
  session: Session,
  options: Web.SessionDescriptionHandlerOptions,
  dependencies: ReinviteDependencies,
): Promise<ReinviteOutcome> {
  for (let attempt = 0; ; attempt++) {
    const ackMissing = await waitForIncomingReinvite(session, dependencies.sleep);
    if (session.state !== SessionState.Established) return { ok: false, statusCode: null, reason: 'the call ended' };
    if (ackMissing) {
      // RFC 3261 §13.3.1.4: a 2xx to an INVITE whose ACK never arrives within
      // 64 × T1 confirms the dialog, but the session should end with a BYE.
      // sip.js would refuse every later re-INVITE of this dialog.
      return { ok: false, statusCode: null, reason: 'the other end never acknowledged its last re-INVITE', dialogLost: true };
    }
    const incomingOpenBefore = hasIncomingReinvite(session);

    let response: Core.IncomingResponseMessage;
    try {
      response = await reinviteOnce(session, options);
    } catch (error) {
      // sip.js refuses to send while the other end's re-INVITE is open. When
      // that re-INVITE arrived during this one's offer, the next attempt waits
      // for it to end.
      // NOTE: sip.js 0.21 does not roll back the local offer of a send it
      // refused, and no bench test makes the two re-INVITEs cross this way.
      const crossed = !incomingOpenBefore && hasIncomingReinvite(session);
      if (crossed && attempt < MAX_REINVITE_RETRIES) continue;
      return { ok: false, statusCode: null, reason: error instanceof Error ? error.message : String(error) };
    }

    const statusCode = response.statusCode ?? 0;
    if (statusCode >= 200 && statusCode < 300) {
      // sip.js ends the session itself when it cannot apply the answer of a 2xx.
      if (session.state !== SessionState.Established) return { ok: false, statusCode, reason: 'the call ended' };
      return { ok: true };
    }

    const reason = `${statusCode} ${response.reasonPhrase ?? ''}`.trim();
    const delay = retryDelayMs(response, dependencies);
    if (delay === null || attempt >= MAX_REINVITE_RETRIES) return { ok: false, statusCode, reason };

    await dependencies.sleep(delay);
    if (dependencies.superseded?.()) return { ok: true };
  }
}

/**
 * Tells whether a failed re-INVITE means the call should end: a 481 means the
 * other end has no such dialog (RFC 3261 §12.2.1.2), or the other end's own
 * re-INVITE never got its ACK. RFC 3261 §12.2.1.2 also lets a UAC end the
 * dialog after a 408. A 408 to a re-INVITE often comes from a proxy or from
 * this end's own transaction timer while either end reconnects, and the call
 * may still recover, so a 408 leaves the call up with the failure shown.
 */
export function endsDialog(outcome: ReinviteOutcome): boolean {
  return !outcome.ok && (outcome.statusCode === 481 || outcome.dialogLost === true);
}

/** Sessions with a re-INVITE of this end between `session.invite()` and its final response. */
const reinvitesInProgress = new WeakSet<Session>();

/**
 * Makes `session` reject the other end's re-INVITE with 491 Request Pending
 * while its own re-INVITE is in progress (RFC 3261 §14.2). sip.js 0.21 sends
 * that 491 only once its INVITE client transaction exists. While it still
 * builds the offer, it would apply the other end's offer on top of its own.
 * That fails, and sip.js then rejects the re-INVITE with 488. Its own re-INVITE
 * then goes out with an offer it has rolled back, and sip.js ends the call
 * with a BYE when the answer arrives.
 */
export function rejectCrossingReinvites(session: Session): void {
  // Session.onInviteRequest is protected in sip.js's types; its dialog calls it for each in-dialog INVITE.
  const handler = session as unknown as { onInviteRequest(request: Core.IncomingInviteRequest): void };
  const processReinvite = handler.onInviteRequest.bind(session);
  handler.onInviteRequest = (request) => {
    if (reinvitesInProgress.has(session)) {
      request.reject({ statusCode: 491 });
      return;
    }
    processReinvite(request);
  };
}

/** Tells whether the other end's re-INVITE transaction on this dialog has not ended yet. */
function hasIncomingReinvite(session: Session): boolean {
  // sip.js 0.21 types Session.dialog as the core Session interface, and the object is a SessionDialog.
  const dialog = session.dialog as Partial<Pick<Core.SessionDialog, 'reinviteUserAgentServer'>> | undefined;
  return dialog?.reinviteUserAgentServer !== undefined;
}

/**
 * Waits while the other end's re-INVITE transaction is open. RFC 3261 §14.1:
 * a UA must not send a re-INVITE until an INVITE server transaction of the same
 * dialog is confirmed or terminated. Resolves true when the transaction is still
 * open after INCOMING_REINVITE_MAX_WAIT_MS, that is, its ACK never came.
 */
async function waitForIncomingReinvite(session: Session, sleep: (milliseconds: number) => Promise<void>): Promise<boolean> {
  for (let waited = 0; hasIncomingReinvite(session); ) {
    if (session.state !== SessionState.Established) return false;
    if (waited >= INCOMING_REINVITE_MAX_WAIT_MS) return true;
    await sleep(INCOMING_REINVITE_POLL_MS);
    waited += INCOMING_REINVITE_POLL_MS;
  }
  return false;
}

function retryDelayMs(response: Core.IncomingResponseMessage, dependencies: ReinviteDependencies): number | null {
  if (response.statusCode === 491) return requestPendingRetryDelayMs(dependencies.ownsCallId, dependencies.random);

  const retryAfter = Number.parseInt(response.getHeader('Retry-After') ?? '', 10);
  const validRetryAfter = Number.isInteger(retryAfter) && retryAfter >= 0 && retryAfter <= MAX_RETRY_AFTER_S;
  const retryAfterMs = validRetryAfter ? retryAfter * 1000 : null;
  if (response.statusCode === 500) return retryAfterMs;
  // A proxy replies 480 while the other end has no registered contact, as
  // between its reconnect and its new REGISTER.
  if (response.statusCode === 480) return retryAfterMs ?? UNAVAILABLE_RETRY_MS;
  return null;
}

/**
 * Time after which a re-INVITE without a final response counts as failed. The
 * INVITE client transaction reports 408 after Timer B (64 × T1 = 32 s, RFC 3261
 * §17.1.1.2) on its own; this also covers a 3xx, which sip.js does not pass on.
 */
const REINVITE_RESPONSE_TIMEOUT_MS = 40_000;

/** Sends one re-INVITE; resolves with its final response once sip.js has processed it. */
function reinviteOnce(
  session: Session,
  options: Web.SessionDescriptionHandlerOptions,
): Promise<Core.IncomingResponseMessage> {
  return new Promise((resolve, reject) => {
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      reinvitesInProgress.delete(session);
      session.stateChange.removeListener(onState);
      outcome();
    };
    const onState = (state: SessionState) => {
      if (state === SessionState.Terminated) finish(() => reject(new Error('the call ended')));
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no final response within ${REINVITE_RESPONSE_TIMEOUT_MS / 1000} s`))),
      REINVITE_RESPONSE_TIMEOUT_MS,
    );
    session.stateChange.addListener(onState);

    reinvitesInProgress.add(session);
    session
      .invite({
        sessionDescriptionHandlerOptions: options,
        requestDelegate: {
          onAccept: (response) => finish(() => resolve(response.message)),
          onReject: (response) => finish(() => resolve(response.message)),
        },
      })
      .catch((error: unknown) => finish(() => reject(error)));
  });
}
