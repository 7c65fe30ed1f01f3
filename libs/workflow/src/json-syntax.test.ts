import { describe, expect, it } from 'vitest';
import { jsonSyntaxErrorOffset } from './json-syntax.js';

describe('jsonSyntaxErrorOffset', () => {
  it.each([
    '{}',
    '[]',
    ' {"a": [1, -2.5e3, 0, true, false, null, "x\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"], "b": {"c": {}}}\n',
    '"text"',
    '0',
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  ])('finds nothing wrong in valid JSON %#', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(jsonSyntaxErrorOffset(text)).toBeUndefined();
  });

  it.each([
    ['', 0],
    ['{', 1],
    ['{"a"}', 4],
    ['{"a": }', 6],
    ['{"a": 1,}', 8],
    ['[1 2]', 3],
    ['[01]', 2],
    ['[1.]', 2],
    ['[.5]', 1],
    ['[tru]', 1],
    ['{a: 1}', 1],
    ["{'a': 1}", 1],
    ['["\\u12"]', 2],
    ['["a\tb"]', 3],
    ['{} {}', 3],
    ['[1]]', 3],
    ['{"a": [1}', 8],
    [`${'['.repeat(100_000)}`, 100_000],
  ])('locates the error in %j at %d', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonSyntaxErrorOffset(text)).toBe(offset);
  });
});
