import { describe, expect, it } from 'vitest';

import { RENDERER_JS_FLAGS, rendererJsFlags } from '../../src/main/renderer-js-flags';

describe('RENDERER_JS_FLAGS', () => {
  // electronegativity.json accepts the js-flags switch for these flags alone, so
  // any other flag needs a new security review.
  it('turns off only the optimizing compilers', () => {
    expect(RENDERER_JS_FLAGS.split(' ')).toEqual(['--no-turbofan', '--no-maglev']);
  });
});

describe('rendererJsFlags', () => {
  it('gives the renderer flags alone without command-line flags', () => {
    expect(rendererJsFlags('')).toBe(RENDERER_JS_FLAGS);
    expect(rendererJsFlags('  ')).toBe(RENDERER_JS_FLAGS);
  });

  it('puts command-line flags last', () => {
    expect(rendererJsFlags(' --expose-gc ')).toBe(`${RENDERER_JS_FLAGS} --expose-gc`);
  });
});
