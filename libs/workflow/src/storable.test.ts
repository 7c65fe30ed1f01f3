import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './source.js';
import { findUnstorableJson, MAX_JSON_DEPTH, unstorableText } from './storable.js';

/** `depth` nested lists around `inner`. */
const nested = (depth: number, inner: unknown = null): unknown => {
  let value = inner;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
};

describe('unstorableText', () => {
  it.each([
    ['a NUL', 'a\u0000b', 'must not contain a NUL character (\\u0000)'],
    ['a lone high surrogate', 'x\ud800', 'must be valid Unicode (an unpaired surrogate \\ud800)'],
    ['a lone low surrogate', '\udc00y', 'must be valid Unicode (an unpaired surrogate \\udc00)'],
    [
      'surrogates in the wrong order',
      '\udc00\ud800',
      'must be valid Unicode (an unpaired surrogate \\udc00)',
    ],
  ])('refuses %s', (_, text, message) => {
    expect(unstorableText(text)).toBe(message);
  });

  it('accepts any well-formed string without NUL (emoji, CJK, control characters)', () => {
    expect(unstorableText('héllo 👋 世界 \u0001\t\n')).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(unstorableText(s.replaceAll('\u0000', ''))).toBeUndefined();
      }),
    );
  });
});

describe('findUnstorableJson', () => {
  it('names the path of a bad string, a bad key, or the container past the depth limit', () => {
    expect(findUnstorableJson({ a: [1, { b: 'x\u0000' }] })).toEqual({
      path: ['a', 1, 'b'],
      message: 'must not contain a NUL character (\\u0000)',
    });
    expect(findUnstorableJson({ a: { 'k\u0000': 1 } })).toEqual({
      path: ['a', 'k\u0000'],
      message: 'key must not contain a NUL character (\\u0000)',
    });
    const deep = findUnstorableJson({ input: nested(MAX_JSON_DEPTH) });
    expect(deep?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels of lists and mappings`);
    expect(deep?.path).toEqual(['input', ...Array(MAX_JSON_DEPTH - 1).fill(0)]);
  });

  it('accepts exactly MAX_JSON_DEPTH levels, and checks 100,000 levels without overflowing', () => {
    expect(findUnstorableJson(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findUnstorableJson(nested(MAX_JSON_DEPTH + 1))).toBeDefined();
    expect(findUnstorableJson(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toBeDefined();
  });

  it('finds nothing in any JSON value without NUL that is shallow enough', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
        const clean = JSON.parse(JSON.stringify(value).replaceAll('\\u0000', ''));
        expect(findUnstorableJson(clean)).toBeUndefined();
      }),
    );
  });
});

describe('parseWorkflow refuses what Postgres cannot store, naming the path', () => {
  it('a NUL in the name (JSON), with the path and position', () => {
    const result = parseWorkflow('{"id": "w", "name": "a\\u0000b", "tasks": {"a": {}}}', { format: 'json' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { path: 'name', message: 'must not contain a NUL character (\\u0000)', line: 1, column: 13 },
    ]);
  });

  it('a `with` 5,000 levels deep (JSON), instead of overflowing the stack', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const result = parseWorkflow(`{"id": "w", "tasks": {"a": {"type": "x", "with": {"v": ${deep}}}}}`, {
      format: 'json',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.message).toBe(
      `nests deeper than ${MAX_JSON_DEPTH} levels of lists and mappings`,
    );
    expect(result.issues[0]?.path).toMatch(/^tasks\.a\.with\.v(\[0\])+$/);
  });

  it('a YAML document too deep for the parser, with line and column', () => {
    const result = parseWorkflow(
      `id: w\ntasks:\n  a:\n    with: {v: ${'['.repeat(5000)}${']'.repeat(5000)}}\n`,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({
      path: '',
      message: `YAML syntax error: the document nests too deeply (at most ${MAX_JSON_DEPTH} levels of lists and mappings)`,
      line: expect.any(Number),
      column: expect.any(Number),
    });
  });
});
