import { describe, expect, it } from 'vitest';
import {
  compareStreamIds,
  findField,
  parseAutoClaimReply,
  parsePendingDeliveries,
  parseReadReply,
} from './entries.js';
import { UnexpectedReplyError } from './errors.js';

describe('parseReadReply', () => {
  it.each([
    { name: 'timeout', reply: null, expected: [] },
    {
      name: 'two streams',
      reply: [
        [
          's1',
          [
            ['1-0', ['event', 'a']],
            ['2-0', ['event', 'b']],
          ],
        ],
        ['s2', [['3-0', ['event', 'c']]]],
      ],
      expected: [
        { stream: 's1', id: '1-0', fields: ['event', 'a'] },
        { stream: 's1', id: '2-0', fields: ['event', 'b'] },
        { stream: 's2', id: '3-0', fields: ['event', 'c'] },
      ],
    },
    { name: 'entry deleted while pending', reply: [['s1', [['1-0', null]]]], expected: [] },
  ])('parses $name', ({ reply, expected }) => {
    expect(parseReadReply('XREADGROUP', reply)).toEqual(expected);
  });

  it.each([
    { name: 'a string', reply: 'OK' },
    { name: 'a stream item without entries', reply: [['s1']] },
    { name: 'an entry without id', reply: [['s1', [[1, []]]]] },
    { name: 'non-string fields', reply: [['s1', [['1-0', [1, 2]]]]] },
  ])('rejects $name', ({ reply }) => {
    expect(() => parseReadReply('XREADGROUP', reply)).toThrow(UnexpectedReplyError);
  });
});

describe('parseAutoClaimReply', () => {
  it('returns the cursor and the live entries', () => {
    const reply = [
      '5-0',
      [
        ['1-0', ['event', 'a']],
        ['2-0', null],
      ],
      ['2-0'],
    ];
    expect(parseAutoClaimReply('s', reply)).toEqual({
      cursor: '5-0',
      entries: [{ stream: 's', id: '1-0', fields: ['event', 'a'] }],
    });
  });

  it('rejects a reply without cursor', () => {
    expect(() => parseAutoClaimReply('s', [[], []])).toThrow(UnexpectedReplyError);
  });
});

describe('parsePendingDeliveries', () => {
  it.each([
    { reply: [['1-0', 'c', 10, 3]], expected: 3 },
    { reply: [], expected: null },
  ])('reads $expected', ({ reply, expected }) => {
    expect(parsePendingDeliveries(reply)).toBe(expected);
  });

  it('rejects a malformed item', () => {
    expect(() => parsePendingDeliveries([['1-0', 'c']])).toThrow(UnexpectedReplyError);
  });
});

describe('findField', () => {
  it.each([
    { fields: ['event', 'x'], field: 'event', expected: 'x' },
    { fields: ['other', 'y', 'event', 'x'], field: 'event', expected: 'x' },
    { fields: ['other', 'event'], field: 'event', expected: undefined },
    { fields: ['event'], field: 'event', expected: undefined },
  ])('finds $field in $fields', ({ fields, field, expected }) => {
    expect(findField(fields, field)).toBe(expected);
  });
});

describe('compareStreamIds', () => {
  it.each([
    { a: '1-0', b: '2-0', sign: -1 },
    { a: '10-0', b: '9-5', sign: 1 },
    { a: '5-2', b: '5-10', sign: -1 },
    { a: '5-2', b: '5-2', sign: 0 },
    { a: '18446744073709551615-0', b: '18446744073709551614-9', sign: 1 },
  ])('compares $a and $b', ({ a, b, sign }) => {
    expect(Math.sign(compareStreamIds(a, b))).toBe(sign);
  });
});
