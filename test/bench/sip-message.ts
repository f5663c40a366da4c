/**
 * Plain SIP message parsing and building for the bench's scripted peer
 * (RFC 3261 §7): a start line, header fields, an empty line and a body. Enough
 * for the messages sip.js and Kamailio exchange, not a general SIP parser.
 */

/** Compact header names (RFC 3261 §7.3.3) and the full names they stand for. */
const COMPACT_NAMES: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  r: 'refer-to',
  b: 'referred-by',
};

export interface SipMessage {
  raw: string;
  /** Request method, or null for a response. */
  method: string | null;
  requestUri: string | null;
  /** Response status, or null for a request. */
  status: number | null;
  reason: string | null;
  /** Header values by lower-case full name, one entry per header line. */
  headers: Map<string, string[]>;
  body: string;
  /** Arrival order at the bench's peer, across requests and responses. */
  sequence?: number;
}

export function parseSipMessage(raw: string): SipMessage {
  const separator = raw.indexOf('\r\n\r\n');
  const head = separator < 0 ? raw : raw.slice(0, separator);
  const body = separator < 0 ? '' : raw.slice(separator + 4);
  const [startLine = '', ...lines] = head.split('\r\n');

  const headers = new Map<string, string[]>();
  for (const line of unfold(lines)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const rawName = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT_NAMES[rawName] ?? rawName;
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }

  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (response) {
    return { raw, method: null, requestUri: null, status: Number(response[1]), reason: response[2] ?? '', headers, body };
  }

  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (!request) throw new Error(`Not a SIP message: ${JSON.stringify(startLine)}`);
  return { raw, method: request[1]!, requestUri: request[2]!, status: null, reason: null, headers, body };
}

/** Header continuation lines start with white space (RFC 3261 §7.3.1). */
function unfold(lines: string[]): string[] {
  const unfolded: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    else unfolded.push(line);
  }
  return unfolded;
}

/** Returns the first value of a header, or undefined. */
export function header(message: SipMessage, name: string): string | undefined {
  return message.headers.get(name.toLowerCase())?.[0];
}

/**
 * Returns every value of a header that may be comma-separated (Via, Record-Route,
 * Route), split at commas outside angle brackets and quotes.
 */
export function headerList(message: SipMessage, name: string): string[] {
  const values: string[] = [];
  for (const line of message.headers.get(name.toLowerCase()) ?? []) values.push(...splitOutsideBrackets(line));
  return values;
}

function splitOutsideBrackets(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;

  for (let index = 0; index < value.length; index++) {
    const character = value[index];
    if (character === '"') quoted = !quoted;
    else if (!quoted && character === '<') depth++;
    else if (!quoted && character === '>') depth--;
    else if (!quoted && depth === 0 && character === ',') {
      parts.push(value.slice(start, index).trim());
      start = index + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((part) => part !== '');
}

/** Returns the `tag` parameter of a From or To value. */
export function tagOf(nameAddr: string | undefined): string | null {
  return /;\s*tag=([^;>\s]+)/i.exec(nameAddr ?? '')?.[1] ?? null;
}

/** Returns the URI inside `<...>` of a name-addr, or the value up to its parameters. */
export function uriOf(nameAddr: string): string {
  const bracketed = /<([^>]+)>/.exec(nameAddr);
  if (bracketed) return bracketed[1]!;
  return nameAddr.split(';')[0]!.trim();
}

/** The CSeq number and method. */
export function cseqOf(message: SipMessage): { number: number; method: string } {
  const [number = '0', method = ''] = (header(message, 'cseq') ?? '').split(/\s+/);
  return { number: Number(number), method };
}

export interface OutgoingSipMessage {
  startLine: string;
  headers: Array<[string, string]>;
  body?: string;
}

/** Serializes a message, adding Content-Length from the body's UTF-8 length. */
export function buildSipMessage(message: OutgoingSipMessage): string {
  const body = message.body ?? '';
  const lines = [message.startLine, ...message.headers.map(([name, value]) => `${name}: ${value}`)];
  lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
