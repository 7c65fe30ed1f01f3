import { describe, expect, it } from 'vitest';
import { g } from '../test/graphs.js';
import { UnknownNodeError } from './errors.js';
import { dependentsOf } from './graph.js';
import { downstreamOf, isUpstream, upstreamOf } from './reach.js';

const graph = g({ a: [], b: ['a'], c: ['b', 'ghost'], d: ['a'], e: [], x: ['y'], y: ['x'] });

describe('downstreamOf / upstreamOf', () => {
  it.each([
    ['a', ['b', 'd', 'c'], []],
    ['b', ['c'], ['a']],
    ['c', [], ['b', 'a']],
    ['e', [], []],
    ['x', ['y', 'x'], ['y', 'x']],
  ])('%s', (id, down, up) => {
    expect([...downstreamOf(graph, id)]).toEqual(down);
    expect([...downstreamOf(graph, id, dependentsOf(graph))]).toEqual(down);
    expect([...upstreamOf(graph, id)]).toEqual(up);
  });

  it('rejects an id that is not a node', () => {
    expect(() => downstreamOf(graph, 'ghost')).toThrow(UnknownNodeError);
    expect(() => upstreamOf(graph, 'ghost')).toThrow(UnknownNodeError);
  });
});

describe('isUpstream', () => {
  it.each([
    ['a', 'c', true],
    ['b', 'c', true],
    ['d', 'c', false],
    ['c', 'a', false],
    ['a', 'a', false],
    ['x', 'x', true],
    ['ghost', 'c', false],
    ['e', 'e', false],
  ])('%s upstream of %s: %s', (candidate, of, expected) => {
    expect(isUpstream(graph, candidate, of)).toBe(expected);
  });

  it('rejects an `of` that is not a node', () => {
    expect(() => isUpstream(graph, 'a', 'ghost')).toThrow(/"ghost"/);
  });
});
