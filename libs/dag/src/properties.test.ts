import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryDag, arbitraryGraph, hasCycleBruteForce, reachableByNeeds } from '../test/graphs.js';
import { findCycle } from './cycle.js';
import { CycleError } from './errors.js';
import { dependentsOf, type Graph } from './graph.js';
import { downstreamOf, isUpstream, upstreamOf } from './reach.js';
import { readyAfter, readySet, type TaskProgress } from './ready.js';
import { topologicalOrder } from './topological.js';

const RUNS = { numRuns: 300 };

/** Asserts that `cycle` is a real cycle of `graph`: closed, simple, each node needing the next. */
function expectRealCycle(graph: Graph, cycle: readonly string[]): void {
  expect(cycle.length).toBeGreaterThanOrEqual(2);
  expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  expect(new Set(cycle.slice(1)).size).toBe(cycle.length - 1);
  for (let i = 0; i + 1 < cycle.length; i++) {
    expect(graph.get(cycle[i]!)).toContain(cycle[i + 1]);
  }
}

/** The graph's nodes that are done, closed under needs (a realistic run state). */
const arbitraryDagWithProgress = arbitraryDag().chain((graph) =>
  fc.subarray([...graph.keys()]).map((picked) => {
    const done = new Set(picked);
    for (const id of picked) for (const up of reachableByNeeds(graph, id)) done.add(up);
    return { graph, done };
  }),
);

describe('properties on random graphs', () => {
  it('a topological order of a DAG is a permutation respecting every edge', () => {
    fc.assert(
      fc.property(arbitraryDag(), (graph) => {
        const order = topologicalOrder(graph);
        expect([...order].sort()).toEqual([...graph.keys()].sort());
        const position = new Map(order.map((id, i) => [id, i]));
        for (const [id, needs] of graph) {
          for (const need of needs) expect(position.get(need)!).toBeLessThan(position.get(id)!);
        }
      }),
      RUNS,
    );
  });

  it('findCycle finds a real cycle exactly when brute force finds one; topologicalOrder agrees', () => {
    fc.assert(
      fc.property(arbitraryGraph(), (graph) => {
        const cycle = findCycle(graph);
        expect(cycle !== null).toBe(hasCycleBruteForce(graph));
        if (cycle === null) {
          const position = new Map(topologicalOrder(graph).map((id, i) => [id, i]));
          for (const [id, needs] of graph) {
            for (const need of needs.filter((n) => graph.has(n))) {
              expect(position.get(need)!).toBeLessThan(position.get(id)!);
            }
          }
          return;
        }
        expectRealCycle(graph, cycle);
        expect(findCycle(graph)).toEqual(cycle);
        expect(() => topologicalOrder(graph)).toThrow(CycleError);
        try {
          topologicalOrder(graph);
        } catch (error) {
          expect((error as CycleError).cycle).toEqual(cycle);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('findCycle never reports a cycle in a DAG', () => {
    fc.assert(
      fc.property(arbitraryDag(), (graph) => {
        expect(findCycle(graph)).toBeNull();
      }),
      RUNS,
    );
  });

  it('readySet holds exactly the unfinished tasks whose needs are all done', () => {
    const arbitraryStatuses = arbitraryGraph().chain((graph) =>
      fc
        .array(fc.constantFrom<TaskProgress>('done', 'pending'), {
          minLength: graph.size,
          maxLength: graph.size,
        })
        .map((progress) => ({
          graph,
          statuses: new Map([...graph.keys()].map((id, i) => [id, progress[i]!])),
        })),
    );
    fc.assert(
      fc.property(arbitraryStatuses, ({ graph, statuses }) => {
        const ready = new Set(readySet(graph, statuses));
        for (const [id, needs] of graph) {
          const needsDone = needs.every((need) => statuses.get(need) === 'done');
          expect(ready.has(id)).toBe(statuses.get(id) !== 'done' && needsDone);
        }
      }),
      RUNS,
    );
  });

  it('readyAfter(x) is what readySet gains when a ready task x succeeds', () => {
    fc.assert(
      fc.property(arbitraryDagWithProgress, fc.nat(), ({ graph, done }, pick) => {
        const progress = (set: Set<string>) =>
          new Map(
            [...graph.keys()].map((id): [string, TaskProgress] => [id, set.has(id) ? 'done' : 'pending']),
          );
        const before = readySet(graph, progress(done));
        if (before.length === 0) return;
        const succeeded = before[pick % before.length]!;
        const after = readySet(graph, progress(new Set([...done, succeeded])));
        const gained = after.filter((id) => !before.includes(id));
        const isSucceeded = (id: string) => done.has(id);
        expect(readyAfter(graph, succeeded, isSucceeded)).toEqual(gained);
        expect(readyAfter(graph, succeeded, isSucceeded, dependentsOf(graph))).toEqual(gained);
      }),
      RUNS,
    );
  });

  it('downstream and upstream mirror each other and match brute-force reachability', () => {
    fc.assert(
      fc.property(arbitraryGraph(8), (graph) => {
        const dependents = dependentsOf(graph);
        for (const a of graph.keys()) {
          const down = downstreamOf(graph, a);
          expect(downstreamOf(graph, a, dependents)).toEqual(down);
          const up = upstreamOf(graph, a);
          expect(up).toEqual(reachableByNeeds(graph, a));
          for (const b of graph.keys()) {
            expect(down.has(b)).toBe(upstreamOf(graph, b).has(a));
            expect(isUpstream(graph, b, a)).toBe(up.has(b));
          }
        }
      }),
      RUNS,
    );
  });

  it('dependentsOf is the exact reverse of the known needs', () => {
    fc.assert(
      fc.property(arbitraryGraph(), (graph) => {
        const dependents = dependentsOf(graph);
        expect([...dependents.keys()]).toEqual([...graph.keys()]);
        for (const [id, list] of dependents) {
          expect(new Set(list).size).toBe(list.length);
          const expected = [...graph].filter(([, needs]) => needs.includes(id)).map(([d]) => d);
          expect(list).toEqual(expected);
        }
      }),
      RUNS,
    );
  });
});
