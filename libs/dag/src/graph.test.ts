import { describe, expect, it } from 'vitest';
import { g } from '../test/graphs.js';
import { DuplicateNodeError } from './errors.js';
import { formatCycle } from './format.js';
import { dependentsOf, graphFrom, roots, unknownNeeds } from './graph.js';

describe('graphFrom', () => {
  it('keeps task order and copies needs', () => {
    const needs = ['a'];
    const graph = graphFrom([
      { id: 'b', needs },
      { id: 'a', needs: [] },
    ]);
    needs.push('z');
    expect([...graph]).toEqual([
      ['b', ['a']],
      ['a', []],
    ]);
  });

  it('rejects a duplicate id, naming it', () => {
    expect(() =>
      graphFrom([
        { id: 'a', needs: [] },
        { id: 'a', needs: [] },
      ]),
    ).toThrow(new DuplicateNodeError('a'));
    expect(() =>
      graphFrom([
        { id: 'x', needs: [] },
        { id: 'x', needs: [] },
      ]),
    ).toThrow(/"x"/);
  });
});

describe('formatCycle', () => {
  it.each([
    [['a', 'b', 'c', 'a'], 'a -> b -> c -> a'],
    [['a', 'a'], 'a -> a'],
    [[], ''],
  ])('%j -> %s', (cycle, text) => {
    expect(formatCycle(cycle)).toBe(text);
  });
});

describe('roots', () => {
  it.each([
    [{}, []],
    [{ a: [], b: ['a'], c: [] }, ['a', 'c']],
    [{ a: ['ghost'] }, []],
    [{ a: ['b'], b: ['a'] }, []],
  ])('%j -> %j', (spec, expected) => {
    expect(roots(g(spec))).toEqual(expected);
  });
});

describe('unknownNeeds', () => {
  it.each([
    [{ a: [], b: ['a'] }, []],
    [
      { a: ['x', 'b', 'x'], b: ['y'] },
      [
        { task: 'a', need: 'x' },
        { task: 'b', need: 'y' },
      ],
    ],
    [{ a: ['a'] }, []],
  ])('%j -> %j', (spec, expected) => {
    expect(unknownNeeds(g(spec))).toEqual(expected);
  });
});

describe('dependentsOf', () => {
  it('maps every node to its dependents in graph order, each once', () => {
    const result = dependentsOf(g({ c: ['a', 'a'], a: [], b: ['a', 'ghost'], d: ['b', 'c'] }));
    expect([...result]).toEqual([
      ['c', ['d']],
      ['a', ['c', 'b']],
      ['b', ['d']],
      ['d', []],
    ]);
  });

  it('includes self-needs', () => {
    expect(dependentsOf(g({ a: ['a'] })).get('a')).toEqual(['a']);
  });
});
