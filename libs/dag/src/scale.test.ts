import { describe, expect, it } from 'vitest';
import { findCycle } from './cycle.js';
import { dependentsOf, type Graph, roots, unknownNeeds } from './graph.js';
import { downstreamOf, isUpstream, upstreamOf } from './reach.js';
import { readyAfter, readySet } from './ready.js';
import { topologicalOrder } from './topological.js';

// Quadratic algorithms take minutes at this size; linear ones take milliseconds.
const N = 100_000;
const TIMEOUT = { timeout: 10_000 };
const id = (i: number) => `t${i}`;

/** t0 <- t1 <- ... <- t(N-1), declared last first so that graph order is the reverse of the order. */
function chain(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (let i = N - 1; i >= 0; i--) graph.set(id(i), i === 0 ? [] : [id(i - 1)]);
  return graph;
}

/** One root, N dependents of it, and one join needing all of them. */
function fanOutIn(): Graph {
  const graph = new Map<string, string[]>([['root', []]]);
  for (let i = 0; i < N; i++) graph.set(id(i), ['root']);
  graph.set(
    'join',
    Array.from({ length: N }, (_, i) => id(i)),
  );
  return graph;
}

describe(`${N.toLocaleString('en')}-task graphs`, () => {
  it('handles a chain without deep recursion', TIMEOUT, () => {
    const graph = chain();
    expect(findCycle(graph)).toBeNull();
    const order = topologicalOrder(graph);
    expect(order[0]).toBe('t0');
    expect(order[N - 1]).toBe(id(N - 1));
    expect(downstreamOf(graph, 't0').size).toBe(N - 1);
    expect(upstreamOf(graph, id(N - 1)).size).toBe(N - 1);
    expect(isUpstream(graph, 't0', id(N - 1))).toBe(true);
    expect(isUpstream(graph, id(N - 1), 't0')).toBe(false);
    expect(roots(graph)).toEqual(['t0']);
  });

  it('finds the cycle of a closed chain', TIMEOUT, () => {
    const graph = chain();
    graph.set('t0', [id(N - 1)]);
    const cycle = findCycle(graph)!;
    expect(cycle).toHaveLength(N + 1);
    expect(cycle.slice(0, 3)).toEqual([id(N - 1), id(N - 2), id(N - 3)]);
    expect(cycle[N]).toBe(id(N - 1));
    expect(() => topologicalOrder(graph)).toThrow(/dependency cycle: t99999 -> t99998/);
  });

  it('handles a fan-out and fan-in', TIMEOUT, () => {
    const graph = fanOutIn();
    expect(findCycle(graph)).toBeNull();
    const order = topologicalOrder(graph);
    expect(order[0]).toBe('root');
    expect(order[N + 1]).toBe('join');
    expect(unknownNeeds(graph)).toEqual([]);
    const dependents = dependentsOf(graph);
    expect(readyAfter(graph, 'root', () => false, dependents)).toHaveLength(N);
    expect(readyAfter(graph, 'root', () => false)).toHaveLength(N);
    expect(readyAfter(graph, id(0), (x) => x !== id(0), dependents)).toEqual(['join']);
    expect(readySet(graph, new Map([['root', 'done']]))).toHaveLength(N);
    expect(downstreamOf(graph, 'root', dependents).size).toBe(N + 1);
    expect(upstreamOf(graph, 'join').size).toBe(N + 1);
  });

  it(
    'answers readyAfter for every task of a chain in linear total time with precomputed dependents',
    TIMEOUT,
    () => {
      const graph = chain();
      const dependents = dependentsOf(graph);
      const done = new Set<string>();
      for (let i = 0; i < N; i++) {
        done.add(id(i));
        const readied = readyAfter(graph, id(i), (x) => done.has(x), dependents);
        if (readied.length !== (i < N - 1 ? 1 : 0) || (i < N - 1 && readied[0] !== id(i + 1))) {
          throw new Error(`after ${id(i)}: ${readied.join(',')}`);
        }
      }
    },
  );
});
