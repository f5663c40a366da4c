import { describe, expect, it } from 'vitest';

import { dtmfToneForKey, InvalidDtmfError, normalizeDtmf } from '../../src/renderer/sip/dtmf';

describe('normalizeDtmf', () => {
  it('accepts digits, star, pound, A-D and pauses', () => {
    expect(normalizeDtmf('123*#abcd,0')).toBe('123*#ABCD,0');
  });

  it('rejects other characters', () => {
    expect(() => normalizeDtmf('12E')).toThrow(InvalidDtmfError);
    expect(() => normalizeDtmf('')).toThrow(InvalidDtmfError);
  });
});

describe('dtmfToneForKey', () => {
  const key = (value: string, modifiers: Partial<KeyboardEvent> = {}) =>
    dtmfToneForKey({ key: value, ctrlKey: false, altKey: false, metaKey: false, ...modifiers });

  it('maps dial pad keys', () => {
    expect(['0', '5', '9', '*', '#'].map((value) => key(value))).toEqual(['0', '5', '9', '*', '#']);
  });

  it('ignores other keys and shortcuts', () => {
    expect(key('a')).toBeNull();
    expect(key('Enter')).toBeNull();
    expect(key('1', { ctrlKey: true })).toBeNull();
    expect(key('3', { metaKey: true })).toBeNull();
  });
});
