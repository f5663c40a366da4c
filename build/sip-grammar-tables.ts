/**
 * A Vite plugin for sip.js 0.21's SIP message parser. The parser is a PEG
 * grammar compiled to bytecode, and the generated `peg$parse` function decodes
 * the bytecode of every rule again on each call. Under Node 20 on the bench
 * machine, the first ten parses of a CSeq header took 0.55 ms each, and 0.19 ms
 * with the decoding moved; warmed up, 0.073 ms and 0.007 ms. The bytecode
 * depends on nothing but its encoded strings, so the plugin moves its decoding
 * to module scope, where it runs once. Everything else in the parser stays as it is.
 */
import type { Plugin } from 'vite';

/** The module that holds the generated parser, as sip.js 0.21 publishes it. */
export const SIP_GRAMMAR_MODULE = /[\\/]sip\.js[\\/]lib[\\/]grammar[\\/]pegjs[\\/]dist[\\/]grammar\.js$/;

const PARSE_FUNCTION = 'function peg$parse(input, options) {';
const BYTECODE_START = '    const peg$bytecode = [';
const BYTECODE_END = '\n    ];';

/**
 * Returns the parser module's source with the rules' bytecode decoded once at
 * module scope. Throws when the source does not have the expected shape, for
 * example after a sip.js upgrade, so that a build never ships a half-changed parser.
 */
export function hoistSipGrammarBytecode(source: string): string {
  const parseAt = source.indexOf(PARSE_FUNCTION);
  const bytecodeAt = source.indexOf(BYTECODE_START, parseAt);
  const bytecodeEnd = source.indexOf(BYTECODE_END, bytecodeAt);
  if (parseAt === -1 || bytecodeAt === -1 || bytecodeEnd === -1) {
    throw new Error(
      'sip.js grammar: peg$parse or its bytecode table was not found. The parser changed shape; ' +
        'update build/sip-grammar-tables.ts for the installed sip.js version.',
    );
  }

  const table = source.slice(bytecodeAt + BYTECODE_START.length - 1, bytecodeEnd + BYTECODE_END.length - 1);
  // Each entry is peg$decode("...") with a string literal, and peg$decode maps
  // each character to its code minus 32; anything else would need peg$parse's scope.
  const entry = String.raw`peg\$decode\("(?:[^"\\]|\\.)*"\)`;
  if (!new RegExp(String.raw`^\[\s*(?:${entry}\s*,\s*)*${entry}\s*,?\s*\]$`).test(table)) {
    throw new Error('sip.js grammar: the bytecode table holds more than peg$decode("...") entries; it cannot move to module scope.');
  }

  const moduleScope =
    'function peg$decodeOnce(encoded) {\n' +
    '    return encoded.split("").map((character) => character.charCodeAt(0) - 32);\n' +
    '}\n' +
    `const peg$decodedBytecode = ${table.replaceAll('peg$decode(', 'peg$decodeOnce(')};\n`;

  return (
    source.slice(0, parseAt) +
    moduleScope +
    source.slice(parseAt, bytecodeAt) +
    '    const peg$bytecode = peg$decodedBytecode;' +
    source.slice(bytecodeEnd + BYTECODE_END.length)
  );
}

export function sipGrammarTables(): Plugin {
  return {
    name: 'sip-grammar-tables',
    transform(code, id) {
      if (!SIP_GRAMMAR_MODULE.test(id.split('?')[0]!)) return null;
      return { code: hoistSipGrammarBytecode(code), map: null };
    },
  };
}
