// zod/mini is tree-shakable, so the renderer bundle carries only the checks used here.
import * as z from 'zod/mini';

/**
 * RingCentral's call-control messages, as its web phone SDKs exchange them with
 * the RingCentral SIP server.
 *
 * An inbound INVITE carries a `P-rc` header with XML such as
 * `<Msg><Hdr SID=".." Req=".." From=".." To=".." Cmd="6"/><Bdy Phn="+1.." Nm=".."/></Msg>`.
 * The client answers with SIP MESSAGEs (`Content-Type: x-rc/agent`) to the
 * header's `From`, carrying the same SID and Req, From and To swapped, its own
 * command in `Cmd` and its authorization id in `<Bdy Cln="..">`. In-call
 * commands travel as SIP INFO with a JSON body instead.
 */

/** Command numbers of the `Cmd` attribute. */
export const RcCommand = {
  /** Server to client: another instance of the line already processed the call. */
  AlreadyProcessed: 7,
  /** Server to client: the session closed, or the result of a reply. */
  SessionClose: 9,
  Forward: 10,
  ToVoicemail: 11,
  /** Reject the call for this user; RingCentral's "Ignore" and "Decline". */
  Reject: 12,
  StartReply: 13,
  Reply: 14,
  /** Confirms that the client received the INVITE; server actions need it. */
  ReceiveConfirm: 17,
} as const;

export const RC_MESSAGE_CONTENT_TYPE = 'x-rc/agent';
export const RC_INFO_CONTENT_TYPE = 'application/json;charset=utf-8';

/** The attributes of `<Hdr>` and `<Bdy>`, as strings. */
export interface RcMessage {
  header: Record<string, string>;
  body: Record<string, string>;
}

export class InvalidRcMessageError extends Error {
  constructor(reason: string, text: string) {
    super(`Invalid RingCentral call-control message (${reason}): ${text.slice(0, 200)}`);
    this.name = 'InvalidRcMessageError';
  }
}

/** Parses `<Msg><Hdr .../><Bdy .../></Msg>`; a leading `P-rc:` header name is ignored. */
export function parseRcMessage(text: string): RcMessage {
  const xml = text.replace(/^\s*P-rc\s*:\s*/i, '').trim();
  const document = new DOMParser().parseFromString(xml, 'text/xml');

  if (document.getElementsByTagName('parsererror').length > 0) {
    throw new InvalidRcMessageError('not well-formed XML', text);
  }

  const root = document.documentElement;
  if (root.tagName !== 'Msg') throw new InvalidRcMessageError('the root element is not <Msg>', text);

  const header = root.getElementsByTagName('Hdr')[0];
  if (!header) throw new InvalidRcMessageError('no <Hdr> element', text);

  const message: RcMessage = { header: attributesOf(header), body: {} };
  const body = root.getElementsByTagName('Bdy')[0];
  if (body) message.body = attributesOf(body);

  for (const required of ['SID', 'Req', 'From', 'To', 'Cmd']) {
    if (!message.header[required]) throw new InvalidRcMessageError(`<Hdr> has no ${required}`, text);
  }
  return message;
}

/** Serializes a message as RingCentral's servers expect it: `Hdr` then `Bdy`, attributes in insertion order. */
export function buildRcMessage(message: RcMessage): string {
  return `<Msg><Hdr ${attributeText(message.header)}/><Bdy ${attributeText(message.body)}/></Msg>`;
}

/**
 * Builds a client command about the call that `invite` (the INVITE's `P-rc`)
 * announced: the same SID and Req, From and To swapped, and `Cln` set to this
 * client's authorization id.
 */
export function buildClientCommand(
  invite: RcMessage,
  command: number,
  authorizationId: string,
  extraBody: Record<string, string> = {},
): RcMessage {
  return {
    header: {
      SID: invite.header.SID!,
      Req: invite.header.Req!,
      From: invite.header.To!,
      To: invite.header.From!,
      Cmd: String(command),
    },
    body: { Cln: authorizationId, ...extraBody },
  };
}

/**
 * Tells whether a server message concerns this client: RingCentral sends the
 * commands of every instance of a line to all of them, and `Cln` names the one
 * meant. A message without `Cln` concerns every instance.
 */
export function isForClient(message: RcMessage, authorizationId: string): boolean {
  const client = message.body.Cln;
  return client === undefined || client === '' || client === authorizationId;
}

export function commandOf(message: RcMessage): number {
  return Number(message.header.Cmd);
}

/** Returns the caller's name and number from the INVITE's `P-rc` body (`Nm`, `Phn`). */
export function rcCaller(message: RcMessage): { name: string | null; number: string | null } {
  return { name: nonEmpty(message.body.Nm), number: nonEmpty(message.body.Phn) };
}

/** In-call commands sent as INFO. */
export type RcInfoCommand = 'callpark' | 'callflip' | 'startcallrecord' | 'stopcallrecord';

/** Body of an in-call command: `{"request":{"reqid":N,"command":"..", ...}}`. */
export function buildInfoRequest(
  reqid: number,
  command: RcInfoCommand,
  parameters: Record<string, string> = {},
): string {
  return JSON.stringify({ request: { reqid, command, ...parameters } });
}

const infoResponseSchema = z.object({
  response: z.object({
    reqid: z.union([z.number(), z.string()]),
    command: z.string(),
    result: z.looseObject({
      // A string code must be an integer: Number('') and Number(' ') are 0, which would read as success.
      code: z.union([z.int(), z.string().check(z.trim(), z.regex(/^-?\d+$/))]),
      description: z.optional(z.string()),
    }),
  }),
});

export interface RcInfoResult {
  reqid: string;
  command: string;
  /** 0 means success. */
  code: number;
  description: string | null;
  /** Every field of `result`, for command-specific values such as the park location. */
  fields: Record<string, unknown>;
}

/** Parses the body of the server's result INFO; returns null for any other INFO body. */
export function parseInfoResponse(body: string): RcInfoResult | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }

  const parsed = infoResponseSchema.safeParse(json);
  if (!parsed.success) return null;

  const { reqid, command, result } = parsed.data.response;
  return {
    reqid: String(reqid),
    command,
    code: Number(result.code),
    description: result.description ?? null,
    fields: result,
  };
}

/** Describes a command result in a sentence for the call screen. */
export function describeInfoResult(result: RcInfoResult): string {
  if (result.code !== 0) {
    const why = result.description ?? `code ${result.code}`;
    const name = Object.hasOwn(COMMAND_NAMES, result.command) ? COMMAND_NAMES[result.command] : result.command;
    return `${name} failed: ${why}.`;
  }

  switch (result.command) {
    case 'callpark': {
      const location = stringField(result.fields, 'park extension');
      return location ? `Parked at ${location}.` : 'Parked.';
    }
    case 'callflip': {
      const number = stringField(result.fields, 'number');
      return number ? `Flipped to ${number}.` : 'Flipped.';
    }
    case 'startcallrecord':
      return 'Recording.';
    case 'stopcallrecord':
      return 'Recording stopped.';
    default:
      return `${result.command} done.`;
  }
}

const COMMAND_NAMES: Record<string, string> = {
  callpark: 'Park',
  callflip: 'Flip',
  startcallrecord: 'Start recording',
  stopcallrecord: 'Stop recording',
};

function stringField(fields: Record<string, unknown>, name: string): string | null {
  const value = fields[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function attributesOf(element: Element): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const attribute of Array.from(element.attributes)) attributes[attribute.name] = attribute.value;
  return attributes;
}

function attributeText(attributes: Record<string, string>): string {
  return Object.entries(attributes)
    .map(([name, value]) => `${name}="${escapeXmlAttribute(value)}"`)
    .join(' ');
}

function escapeXmlAttribute(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

function nonEmpty(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}
