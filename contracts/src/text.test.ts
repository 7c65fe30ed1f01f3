import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeText, utf8ByteLength } from './text.js';

describe('utf8ByteLength', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['✗', 3],
    ['💥', 4],
    ['\ud83d', 3], // a lone surrogate is encoded as U+FFFD
  ])('%j is %i bytes', (text, bytes) => {
    expect(utf8ByteLength(text)).toBe(bytes);
  });

  it('agrees with TextEncoder on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
      }),
    );
  });
});

describe('sanitizeText', () => {
  it.each([
    ['short text unchanged', 'boom', 10, 'boom'],
    ['NUL bytes replaced', 'a\u0000b', 10, 'a\uFFFDb'],
    ['lone surrogates replaced, pairs kept', '\ud800a\udc00b💥', 10, '\uFFFDa\uFFFDb💥'],
    ['long text cut with an ellipsis', 'abcdefghij', 5, 'abcd…'],
    ['text at the limit kept', 'abcde', 5, 'abcde'],
    ['a surrogate pair not split', 'abc💥def', 5, 'abc…'],
  ])('%s', (_name, text, max, expected) => {
    expect(sanitizeText(text, max)).toBe(expected);
  });

  it('always fits the limit and never keeps a NUL byte or a lone surrogate', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 50 }), (text, max) => {
        const clean = sanitizeText(text, max);
        expect(clean.length).toBeLessThanOrEqual(max);
        expect(clean).not.toContain('\u0000');
        expect(clean).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }),
    );
  });
});
