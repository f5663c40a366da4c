// @vitest-environment jsdom
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  buildRcMessage,
  describeInfoResult,
  InvalidRcMessageError,
  parseInfoResponse,
  parseRcMessage,
  type RcMessage,
} from '../../src/renderer/sip/rc-call-control';
import { callWithinHangBound, fuzzRuns } from './fuzz-runs';

const RUNS = fuzzRuns();
const REQUIRED_HEADER = ['SID', 'Req', 'From', 'To', 'Cmd'] as const;

type Outcome = { message: RcMessage } | { error: InvalidRcMessageError };

/** Parses a `P-rc` value and fails the case on any throw other than `InvalidRcMessageError`. */
function parseHeader(text: string): Outcome {
  let message: RcMessage;
  try {
    message = callWithinHangBound(() => parseRcMessage(text), text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRcMessageError);
    expect((error as Error).message).toMatch(/^Invalid RingCentral call-control message \(.+\): /s);
    return { error: error as InvalidRcMessageError };
  }

  for (const name of REQUIRED_HEADER) {
    expect(typeof message.header[name]).toBe('string');
    expect(message.header[name]).not.toBe('');
  }
  for (const value of [...Object.values(message.header), ...Object.values(message.body)]) expect(typeof value).toBe('string');
  return { message };
}

// XML 1.0 names: attribute names the builder can write back.
const xmlName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,10}$/).filter((name) => !/^xml/i.test(name));
/** Attribute values that XML can carry: no control characters other than tab and line breaks, no lone surrogates. */
const attributeValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('&', '<', '>', '"', "'", '&amp;', ']]>', '\r\n', '+16505550100', '123*101', 'a'.repeat(2_000)),
).map((value) => value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/g, ''));

const validMessage: fc.Arbitrary<RcMessage> = fc.record({
  header: fc
    .tuple(
      fc.record({
        SID: fc.stringMatching(/^[0-9]{1,20}$/),
        Req: fc.stringMatching(/^\{?[0-9A-F-]{1,36}\}?$/),
        From: fc.stringMatching(/^[0-9#*]{1,20}$/),
        To: fc.stringMatching(/^[0-9#*]{1,20}$/),
        Cmd: fc.integer({ min: 0, max: 99 }).map(String),
      }),
      fc.dictionary(xmlName, attributeValue, { maxKeys: 3 }),
    )
    .map(([required, extra]) => ({ ...extra, ...required })),
  body: fc.dictionary(fc.oneof(xmlName, fc.constantFrom('Phn', 'Nm', 'Cln', 'ToPhn', 'ToNm')), attributeValue, { maxKeys: 5 }),
});

/** A valid `P-rc` value with text inserted, replaced or removed at random places. */
const damagedXml = fc
  .tuple(
    validMessage.map(buildRcMessage),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat({ max: 4 }),
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 4 }),
          fc.constantFrom('<', '>', '"', '/>', '</Msg>', '<Msg>', '<Hdr/>', ' SID=""', ' Cmd="x"', '<!DOCTYPE x [<!ENTITY e "e">]>', '&e;', '<![CDATA[x]]>', '<?xml version="1.0"?>', ' xmlns="urn:x"', '\r\n'),
        ),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([xml, edits]) => {
    let text = xml;
    for (const [at, removed, inserted] of edits) {
      const index = at % (text.length + 1);
      text = `${text.slice(0, index)}${inserted}${text.slice(index + removed)}`;
    }
    return text;
  });

describe('parseRcMessage fuzzing', () => {
  it('throws only InvalidRcMessageError on any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 60 })), (text) => {
        parseHeader(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads back every message the builder writes', () => {
    fc.assert(
      fc.property(validMessage, fc.constantFrom('', 'P-rc: ', 'p-RC:', '  '), (message, prefix) => {
        const outcome = parseHeader(`${prefix}${buildRcMessage(message)}`);

        expect('message' in outcome).toBe(true);
        if (!('message' in outcome)) return;
        // XML normalizes line breaks in attribute values to spaces (XML 1.0 section 3.3.3).
        const normalize = (attributes: Record<string, string>) =>
          Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, value.replace(/\r\n|[\r\n\t]/g, ' ')]));
        expect(outcome.message.header).toEqual(normalize(message.header));
        expect(outcome.message.body).toEqual(normalize(message.body));
      }),
      { numRuns: RUNS },
    );
  });

  it('throws only InvalidRcMessageError on damaged XML', () => {
    fc.assert(
      fc.property(damagedXml, (text) => {
        parseHeader(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects messages without a required header attribute', () => {
    fc.assert(
      fc.property(validMessage, fc.constantFrom(...REQUIRED_HEADER), fc.boolean(), (message, missing, empty) => {
        const header: Record<string, string> = { ...message.header };
        if (empty) header[missing] = '';
        else delete header[missing];

        const outcome = parseHeader(buildRcMessage({ header, body: message.body }));

        expect('error' in outcome).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('bounds nested entity expansion', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), (depth) => {
        // Nested entities grow exponentially when a parser expands them.
        const entities = Array.from({ length: depth }, (_, level) =>
          level === 0 ? '<!ENTITY e0 "xxxxxxxxxx">' : `<!ENTITY e${level} "${`&e${level - 1};`.repeat(10)}">`,
        ).join('');
        const text = `<!DOCTYPE Msg [${entities}]><Msg><Hdr SID="1" Req="1" From="1" To="2" Cmd="6"/><Bdy Nm="&e${depth - 1};"/></Msg>`;

        const outcome = parseHeader(text);
        if ('message' in outcome) expect((outcome.message.body['Nm'] ?? '').length).toBeLessThan(100_000);
      }),
      { numRuns: Math.ceil(RUNS / 100) },
    );
  });
});

const infoResult = fc.record({
  code: fc.oneof(fc.integer(), fc.integer().map(String), fc.constantFrom('0', ' 1 ', '-2')),
  description: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
  'park extension': fc.option(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { nil: undefined }),
});
const validInfo = fc.record({
  response: fc.record({
    reqid: fc.oneof(fc.nat(), fc.string({ maxLength: 8 })),
    command: fc.constantFrom('callpark', 'callflip', 'startcallrecord', 'stopcallrecord', 'other'),
    result: infoResult,
  }),
});

/** A replacement for a field: a wrong type, an empty value or anything at all. */
const strangeValue: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.constant(''), fc.integer(), fc.double(), fc.boolean(), fc.string(), fc.array(fc.jsonValue(), { maxLength: 2 }), fc.jsonValue());
const infoPath = fc.constantFrom(['response'], ['response', 'reqid'], ['response', 'command'], ['response', 'result'], ['response', 'result', 'code'], ['response', 'result', 'description'], ['__proto__'], ['response', '__proto__'], ['response', 'result', 'constructor']);

function expectInfoResult(body: string): void {
  const result = callWithinHangBound(() => parseInfoResponse(body), body);
  if (result === null) return;

  expect(typeof result.reqid).toBe('string');
  expect(typeof result.command).toBe('string');
  // Only integer codes count: Number('') is 0, which would read as success.
  expect(Number.isInteger(result.code)).toBe(true);
  expect(result.description === null || typeof result.description === 'string').toBe(true);
  expect(typeof describeInfoResult(result)).toBe('string');
}

describe('parseInfoResponse fuzzing', () => {
  it('returns null or a result for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.json(), fc.jsonValue().map((value) => JSON.stringify(value))), (body) => {
        expectInfoResult(body);
      }),
      { numRuns: RUNS },
    );
  });

  it('parses every valid result', () => {
    fc.assert(
      fc.property(validInfo, (info) => {
        const result = parseInfoResponse(JSON.stringify(info));

        expect(result).not.toBeNull();
        expect(result!.command).toBe(info.response.command);
        expect(result!.reqid).toBe(String(info.response.reqid));
        expectInfoResult(JSON.stringify(info));
      }),
      { numRuns: RUNS },
    );
  });

  it('returns null for non-integer codes', () => {
    fc.assert(
      fc.property(validInfo, fc.oneof(fc.constantFrom('', ' ', 'abc', '1e3', '1.5', '0x1', 'NaN', 'Infinity'), fc.double().filter((code) => !Number.isInteger(code))), (info, code) => {
        const body = JSON.stringify({ response: { ...info.response, result: { ...info.response.result, code } } });

        expect(parseInfoResponse(body)).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });

  it('returns null or a result for damaged JSON', () => {
    fc.assert(
      fc.property(validInfo, fc.array(fc.tuple(infoPath, fc.option(strangeValue, { nil: undefined })), { minLength: 1, maxLength: 3 }), fc.nat(), (info, changes, cut) => {
        const body = JSON.stringify(info);
        const text = changes.reduce((json, [path, value]) => {
          const object = JSON.parse(json) as Record<string, unknown>;
          let target: unknown = object;
          for (const key of path.slice(0, -1)) target = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)[key] : undefined;
          if (typeof target === 'object' && target !== null) {
            if (value === undefined) delete (target as Record<string, unknown>)[path.at(-1)!];
            else Object.defineProperty(target, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
          }
          return JSON.stringify(object);
        }, body);

        expectInfoResult(text);
        // A truncated body is not JSON.
        expectInfoResult(text.slice(0, cut % (text.length + 1)));
      }),
      { numRuns: RUNS },
    );
  });
});
