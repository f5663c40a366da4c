import { Messager, URI, type UserAgent } from 'sip.js';

import { buildRcMessage, RC_MESSAGE_CONTENT_TYPE, type RcMessage } from './rc-call-control';

/**
 * Builds the request-URI for a call-control MESSAGE from the `From` of the INVITE's `P-rc`
 * header, such as `#1132@sip.ringcentral.com:5060`. Its user part may start with
 * `#`, which sip.js's URI grammar rejects, so the URI is built from its parts
 * (sip.js escapes `#` as `%23` when it serializes the user, RFC 3261 §25.1).
 * A value without `@` is a user of the line's own domain.
 */
export function rcMessageTarget(rcFrom: string, domain: string): URI {
  const at = rcFrom.lastIndexOf('@');
  const user = at < 0 ? rcFrom : rcFrom.slice(0, at);
  const hostPort = at < 0 ? domain : rcFrom.slice(at + 1);

  const portMatch = /^(.*):(\d+)$/.exec(hostPort);
  const host = portMatch ? portMatch[1]! : hostPort;
  const port = portMatch ? Number(portMatch[2]) : undefined;
  return new URI('sip', user.trim(), host.trim(), port);
}

/**
 * Sends a call-control MESSAGE and resolves once it is answered with 2xx;
 * rejects with the status otherwise. A 401/407 challenge is answered by sip.js.
 * The `P-rc-ws` header carries this client's Contact, as RingCentral's web
 * phone SDK sends it with these messages.
 */
export function sendRcMessage(
  userAgent: UserAgent,
  target: URI,
  message: RcMessage,
  extraHeaders: string[],
): Promise<void> {
  const contact = userAgent.contact.toString();
  const messager = new Messager(userAgent, target, buildRcMessage(message), RC_MESSAGE_CONTENT_TYPE, {
    extraHeaders: [...extraHeaders, `P-rc-ws: ${contact}`],
  });

  return new Promise((resolve, reject) => {
    void messager.message({
      requestDelegate: {
        onAccept: () => resolve(),
        onReject: (response) => {
          const { statusCode, reasonPhrase } = response.message;
          const status = `${statusCode} ${reasonPhrase}`;
          reject(new Error(`the call-control MESSAGE to ${target.toString()} was rejected with ${status}`));
        },
      },
    });
  });
}
