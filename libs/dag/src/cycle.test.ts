import { describe, expect, it } from 'vitest';
import { g } from '../test/graphs.js';
import { findCycle } from './cycle.js';
import { CycleError } from './errors.js';
import { topologicalOrder } from './topological.js';

describe('findCycle', () => {
  it.each([
    ['empty graph', {}, null],
    ['single root', { a: [] }, null],
    ['diamond', { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }, null],
    ['unknown needs are ignored', { a: ['ghost'], b: ['a', 'ghost'] }, null],
    ['self-need', { a: ['a'] }, ['a', 'a']],
    ['two-cycle', { a: ['b'], b: ['a'] }, ['a', 'b', 'a']],
    ['triangle in need order', { a: ['b'], b: ['c'], c: ['a'] }, ['a', 'b', 'c', 'a']],
    ['rotated to the first declared node', { x: [], c: ['a'], a: ['b'], b: ['c'] }, ['c', 'a', 'b', 'c']],
    ['cycle behind an acyclic prefix', { r: [], s: ['r', 'u'], u: ['v'], v: ['u'] }, ['u', 'v', 'u']],
    ['first cycle met wins', { a: ['b'], b: ['a'], c: ['c'] }, ['a', 'b', 'a']],
    ['duplicate needs', { a: ['b', 'b'], b: ['a'] }, ['a', 'b', 'a']],
  ])('%s', (_name, spec, expected) => {
    expect(findCycle(g(spec))).toEqual(expected);
  });
});

describe('topologicalOrder', () => {
  it.each([
    ['empty graph', {}, []],
    ['already ordered', { a: [], b: ['a'], c: ['b'] }, ['a', 'b', 'c']],
    ['reversed declaration', { c: ['b'], b: ['a'], a: [] }, ['a', 'b', 'c']],
    ['diamond, FIFO among ready nodes', { d: ['b', 'c'], c: ['a'], b: ['a'], a: [] }, ['a', 'c', 'b', 'd']],
    ['roots in graph order first', { y: [], x: [], z: ['x'] }, ['y', 'x', 'z']],
    ['unknown and duplicate needs', { b: ['a', 'a', 'ghost'], a: ['ghost'] }, ['a', 'b']],
  ])('%s', (_name, spec, expected) => {
    expect(topologicalOrder(g(spec))).toEqual(expected);
  });

  it('throws CycleError carrying the cycle and listing it in the message', () => {
    const graph = g({ start: [], a: ['start', 'c'], b: ['a'], c: ['b'] });
    let error: unknown;
    try {
      topologicalOrder(graph);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CycleError);
    expect((error as CycleError).cycle).toEqual(['a', 'c', 'b', 'a']);
    expect((error as CycleError).message).toBe('dependency cycle: a -> c -> b -> a');
    expect((error as CycleError).name).toBe('CycleError');
  });
});
