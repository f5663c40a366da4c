import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hoistSipGrammarBytecode, SIP_GRAMMAR_MODULE } from '../../build/sip-grammar-tables';
import { fuzzRuns } from '../fuzz/fuzz-runs';

type ParseFunction = (input: string, options: { startRule: string; data?: unknown }) => unknown;

const require = createRequire(import.meta.url);
const GRAMMAR_PATH = join(dirname(require.resolve('sip.js')), 'grammar', 'pegjs', 'dist', 'grammar.js');

/** Header values as the bench's Kamailio and the app send them, with the rule sip.js parses each with. */
const HEADERS: Array<[rule: string, value: string]> = [
  ['Via', 'SIP/2.0/WSS 81o0su7ldfvq.invalid;branch=z9hG4bK6520307;rport=39880;received=127.0.0.1'],
  ['To', '<sip:16505550152@sip.bench.test>;tag=9f3ea459eb8db792478650093770de7b.98030000'],
  ['From', '"Alice Bench" <sip:16505550151@sip.bench.test>;tag=ec0lbqcsjb'],
  ['CSeq', '3 REGISTER'],
  ['Call_ID', 'mrd2gtfdtbnrhrunl0su'],
  [
    'Contact',
    '<sip:3gslbh3u@81o0su7ldfvq.invalid;transport=ws>;expires=600;+sip.instance="<urn:uuid:b3ade754-7e25-438f-9430-1ab171207c6c>";' +
      'reg-id=1;pub-gruu="sip:16505550152@sip.bench.test;gr=urn:uuid:b3ade754-7e25-438f-9430-1ab171207c6c"',
  ],
  ['Content_Length', '0'],
  ['Content_Type', 'application/sdp'],
  ['WWW_Authenticate', 'Digest realm="sip.bench.test", nonce="axNOvGsTTZDInM", qop="auth"'],
  ['Record_Route', '<sip:127.0.0.1:41531;transport=ws;r2=on;lr;ftag=cp8b8fkuqk>'],
  ['Event', 'check-sync'],
  ['Refer_To', '<sip:+16505550153@sip.bench.test?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>'],
  ['SIP_URI', 'sip:+16505550152@sip.bench.test;user=phone'],
  ['Request_Response', 'SIP/2.0 401 Unauthorized'],
  ['Request_Response', 'INVITE sip:3gslbh3u@81o0su7ldfvq.invalid;transport=ws SIP/2.0'],
  ['sipfrag', 'SIP/2.0 200 OK'],
  ['CSeq', 'not a cseq'],
  ['Contact', '<sip:broken'],
];

const RULES = [...new Set(HEADERS.map(([rule]) => rule))];

/**
 * Runs `parse` the way sip.js's `Grammar.parse` does, where the grammar's actions
 * write the parsed header into `options.data`. Returns that, with the return
 * value, or the name and message of what the parser threw.
 */
function outcome(parse: ParseFunction, input: string, startRule: string): { data?: unknown; result?: unknown; error?: string } {
  const options: { startRule: string; data?: unknown } = { startRule };
  try {
    const result = parse(input, options);
    return { data: options.data, result };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

type Edit = 'none' | 'insert' | 'delete' | 'replace';

/** Changes `value` at `position` (wrapped to its length) by `edit` with `text`. */
function applyEdit(value: string, edit: Edit, position: number, text: string): string {
  const at = value.length === 0 ? 0 : position % value.length;
  switch (edit) {
    case 'none':
      return value;
    case 'insert':
      return value.slice(0, at) + text + value.slice(at);
    case 'delete':
      return value.slice(0, at) + value.slice(at + 1);
    case 'replace':
      return value.slice(0, at) + text + value.slice(at + text.length);
  }
}

describe('sip.js grammar bytecode moved to module scope', () => {
  let folder: string;
  let original: ParseFunction;
  let hoisted: ParseFunction;
  let hoistedSource: string;

  beforeAll(async () => {
    const source = await readFile(GRAMMAR_PATH, 'utf8');
    // The copy lives elsewhere, so its relative imports point back at sip.js's own modules.
    const grammarFolder = pathToFileURL(join(dirname(GRAMMAR_PATH), '../../')).href;
    hoistedSource = hoistSipGrammarBytecode(source).replaceAll('from "../../', `from "${grammarFolder}`);
    folder = await mkdtemp(join(tmpdir(), 'sip-grammar-'));
    await writeFile(join(folder, 'grammar.mjs'), hoistedSource);

    original = ((await import(pathToFileURL(GRAMMAR_PATH).href)) as { parse: ParseFunction }).parse;
    hoisted = ((await import(pathToFileURL(join(folder, 'grammar.mjs')).href)) as { parse: ParseFunction }).parse;
  });

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('matches the installed module path', () => {
    expect(SIP_GRAMMAR_MODULE.test(GRAMMAR_PATH)).toBe(true);
  });

  it('decodes the bytecode outside peg$parse', () => {
    const parseBody = hoistedSource.slice(hoistedSource.indexOf('function peg$parse(input, options) {'));
    expect(parseBody).toContain('const peg$bytecode = peg$decodedBytecode;');
    expect(parseBody).not.toContain('peg$decode("');
  });

  it('parses real headers like the original', () => {
    for (const [rule, value] of HEADERS) {
      const expected = outcome(original, value, rule);
      expect(outcome(hoisted, value, rule), `${rule}: ${value}`).toEqual(expected);
    }
    // The valid headers above yield parsed data, so the comparison is not between two empty results.
    expect(outcome(hoisted, HEADERS[1]![1], 'To').data).toMatchObject({ uri: { user: '16505550152' } });
  });

  it('parses edited headers like the original', () => {
    let parsed = 0;
    let cases = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...HEADERS),
        fc.constantFrom<Edit>('none', 'insert', 'delete', 'replace'),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 3 }),
        ([rule, value], edit, position, text) => {
          const input = applyEdit(value, edit, position, text);
          const expected = outcome(original, input, rule);
          expect(outcome(hoisted, input, rule)).toEqual(expected);
          cases += 1;
          if (expected.error === undefined) parsed += 1;
        },
      ),
      { numRuns: fuzzRuns(2_000) },
    );
    // Most edited headers still parse, so the results compared are mostly real data.
    expect(parsed / cases).toBeGreaterThan(0.3);
  });

  it('parses random input like the original', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RULES), fc.string({ maxLength: 80 }), (rule, value) => {
        expect(outcome(hoisted, value, rule)).toEqual(outcome(original, value, rule));
      }),
      { numRuns: fuzzRuns(1_000) },
    );
  });

  it('rejects a parser of another shape', () => {
    expect(() => hoistSipGrammarBytecode('export function parse() {}')).toThrow(/changed shape/);
  });
});
