import { describe, expect, it } from 'vitest';
import { g } from '../test/graphs.js';
import { UnknownNodeError } from './errors.js';
import { dependentsOf } from './graph.js';
import { readyAfter, readySet, type TaskProgress } from './ready.js';

const diamond = g({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: ['a', 'ghost'] });

describe('readyAfter', () => {
  it.each([
    ['root succeeds: its single-need dependents', 'a', [], ['b', 'c']],
    ['one need of two: nothing yet', 'b', ['a'], []],
    ['last need: the join is ready', 'c', ['a', 'b'], ['d']],
    ['leaf: no dependents', 'd', ['a', 'b', 'c'], []],
    ['succeeded counts even if isSucceeded says no', 'b', ['a', 'c'], ['d']],
  ])('%s', (_name, succeeded, done, expected) => {
    const isSucceeded = (id: string) => done.includes(id);
    expect(readyAfter(diamond, succeeded, isSucceeded)).toEqual(expected);
    expect(readyAfter(diamond, succeeded, isSucceeded, dependentsOf(diamond))).toEqual(expected);
  });

  it('never readies a task with an unknown need', () => {
    expect(readyAfter(diamond, 'a', () => true)).toEqual(['b', 'c']);
  });

  it('lists a dependent with a duplicate need once', () => {
    const graph = g({ a: [], b: ['a', 'a'] });
    expect(readyAfter(graph, 'a', () => false)).toEqual(['b']);
    expect(readyAfter(graph, 'a', () => false, dependentsOf(graph))).toEqual(['b']);
  });

  it('rejects an id that is not a node', () => {
    expect(() => readyAfter(diamond, 'ghost', () => true)).toThrow(UnknownNodeError);
    expect(() => readyAfter(diamond, 'ghost', () => true)).toThrow(/"ghost"/);
  });
});

describe('readySet', () => {
  it.each<[string, Record<string, TaskProgress>, string[]]>([
    ['nothing done: the roots', {}, ['a']],
    ['root done', { a: 'done' }, ['b', 'c']],
    ['explicit pending counts as not done', { a: 'done', b: 'pending' }, ['b', 'c']],
    ['join waits for both', { a: 'done', b: 'done' }, ['c']],
    ['join ready', { a: 'done', b: 'done', c: 'done' }, ['d']],
    ['everything done: nothing ready', { a: 'done', b: 'done', c: 'done', d: 'done', e: 'done' }, []],
    ['unknown need never met', { a: 'done', b: 'done', c: 'done', d: 'done', ghost: 'done' }, []],
  ])('%s', (_name, statuses, expected) => {
    expect(readySet(diamond, new Map(Object.entries(statuses)))).toEqual(expected);
  });
});
