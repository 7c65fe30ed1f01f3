import { describe, expect, it } from 'vitest';
import { findDuplicateJsonKeys } from './json-keys.js';

describe('findDuplicateJsonKeys', () => {
  it.each<[string, string, { key: string; offset: number }[]]>([
    ['no duplicates', '{"a": 1, "b": {"a": 2}}', []],
    ['a repeated top-level key', '{"a": 1, "a": 2}', [{ key: 'a', offset: 9 }]],
    ['a repeated nested key', '{"t": {"x": 1, "x": 2}}', [{ key: 'x', offset: 15 }]],
    ['the same key in sibling objects', '[{"a": 1}, {"a": 2}]', []],
    ['an escaped spelling of the same key', '{"a": 1, "\\u0061": 2}', [{ key: 'a', offset: 9 }]],
    [
      'braces and quotes inside string values',
      '{"a": "{\\"a\\": [", "b": "}", "a": 3}',
      [{ key: 'a', offset: 29 }],
    ],
    ['a value equal to a key', '{"a": "a", "b": "a"}', []],
    ['a string ending in an escaped backslash', '{"a\\\\": 1, "a\\\\" : 2}', [{ key: 'a\\', offset: 11 }]],
    [
      'three times the same key',
      '{"k":1,"k":2,"k":3}',
      [
        { key: 'k', offset: 7 },
        { key: 'k', offset: 13 },
      ],
    ],
    ['keys after a closed inner object', '{"a": {"b": 1}, "b": 2, "a": 3}', [{ key: 'a', offset: 24 }]],
  ])('finds %s', (_name, text, expected) => {
    JSON.parse(text); // every case is valid JSON
    expect(findDuplicateJsonKeys(text)).toEqual(expected);
  });
});
