import { SessionState, type Notification, type Session, type URI } from 'sip.js';

/**
 * Call transfer with REFER (RFC 3515) as RFC 5589 describes it: the transferor
 * asks the transferee to call the target, and the transferee reports how that
 * call goes in NOTIFYs whose body is a message/sipfrag (RFC 3420) status line.
 */

export type TransferOutcome = { ok: true } | { ok: false; reason: string };

/** A status line such as `SIP/2.0 486 Busy Here`, as a NOTIFY body of the refer event carries it. */
export interface SipfragStatus {
  statusCode: number;
  reasonPhrase: string;
}

export function parseSipfrag(body: string): SipfragStatus | null {
  const match = /^\s*SIP\/2\.0\s+(\d{3})(?:[ \t]+([^\r\n]*))?/.exec(body);
  if (!match) return null;
  return { statusCode: Number(match[1]), reasonPhrase: (match[2] ?? '').trim() };
}

/** How long the transferor waits for the final NOTIFY; the target may ring for a while. */
export const TRANSFER_RESULT_TIMEOUT_MS = 60_000;

/**
 * Sends a REFER on `session` and waits for the transfer's outcome. A NOTIFY
 * with a 2xx sipfrag means success. A rejected REFER, a NOTIFY with a final
 * non-2xx sipfrag, a subscription that ends without a status, the call ending,
 * and no result within `timeoutMs` mean failure.
 *
 * @param target - a URI for a blind transfer, or the consultation call's
 *   session for a warm transfer (Refer-To with Replaces, RFC 3891)
 */
export function referAndWait(
  session: Session,
  target: URI | Session,
  extraHeaders: string[],
  timeoutMs = TRANSFER_RESULT_TIMEOUT_MS,
): Promise<TransferOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: TransferOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.stateChange.removeListener(onState);
      resolve(outcome);
    };

    const onState = (state: SessionState) => {
      if (state === SessionState.Terminated) settle({ ok: false, reason: 'the call ended during the transfer' });
    };
    const timer = setTimeout(
      () => settle({ ok: false, reason: `no result from the other party within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    session.stateChange.addListener(onState);

    const onNotify = (notification: Notification) => {
      void notification.accept();

      const status = parseSipfrag(notification.request.body ?? '');
      const subscriptionEnded = /^\s*terminated/i.test(notification.request.getHeader('Subscription-State') ?? '');

      if (status && status.statusCode >= 200 && status.statusCode < 300) return settle({ ok: true });
      if (status && status.statusCode >= 300) {
        return settle({ ok: false, reason: `the target answered ${status.statusCode} ${status.reasonPhrase}`.trim() });
      }
      // Some agents (sip.js 0.21 among them) mark even provisional NOTIFYs
      // terminated, so only a terminated subscription without a status fails here.
      if (subscriptionEnded && !status) {
        settle({ ok: false, reason: 'the other party ended the transfer without a result' });
      }
    };

    session
      .refer(target, {
        onNotify,
        requestOptions: { extraHeaders },
        requestDelegate: {
          onReject: (response) => {
            const { statusCode, reasonPhrase } = response.message;
            settle({ ok: false, reason: `the REFER was rejected with ${statusCode} ${reasonPhrase}` });
          },
        },
      })
      .catch((error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        settle({ ok: false, reason: `the REFER could not be sent: ${why}` });
      });
  });
}

/**
 * The transferee's side of the implicit subscription a REFER creates (RFC 3515
 * §2.4.4): NOTIFYs with `Event: refer` and the progress of the new call.
 */
export class ReferProgressNotifier {
  #finished = false;

  constructor(
    private readonly session: Session,
    /** Seconds the subscription lasts while the transfer is in progress. */
    private readonly expiresSeconds = 60,
  ) {}

  /** Reports a provisional status such as `100 Trying`. */
  progress(statusCode: number, reasonPhrase: string): void {
    if (this.#finished) return;
    this.#send(statusCode, reasonPhrase, `active;expires=${this.expiresSeconds}`);
  }

  /** Reports the final status and ends the subscription (RFC 6665 §4.1.3, reason `noresource`). */
  finish(statusCode: number, reasonPhrase: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#send(statusCode, reasonPhrase, 'terminated;reason=noresource');
  }

  #send(statusCode: number, reasonPhrase: string, subscriptionState: string): void {
    const dialog = this.session.dialog;
    if (!dialog || this.session.state !== SessionState.Established) return;

    dialog.notify(undefined, {
      extraHeaders: ['Event: refer', `Subscription-State: ${subscriptionState}`],
      body: {
        contentDisposition: 'render',
        contentType: 'message/sipfrag;version=2.0',
        content: `SIP/2.0 ${statusCode} ${reasonPhrase}\r\n`,
      },
    });
  }
}
