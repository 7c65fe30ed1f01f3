import fc from 'fast-check';
import type { Graph } from '../src/graph.js';

/** Builds a graph from a compact `{ node: [needs] }` literal, keeping key order. */
export function g(spec: Record<string, string[]>): Graph {
  return new Map(Object.entries(spec));
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`);

/**
 * Random DAGs of up to `maxNodes` nodes: node i may need only nodes j < i, and the nodes are then
 * declared in a shuffled order so that graph order is not already topological.
 */
export function arbitraryDag(maxNodes = 12): fc.Arbitrary<Graph> {
  return fc
    .integer({ min: 0, max: maxNodes })
    .chain((n) =>
      fc.record({
        needs: fc.tuple(...ids(n).map((_, i) => fc.subarray(ids(i)))),
        order: fc.shuffledSubarray(ids(n), { minLength: n, maxLength: n }),
      }),
    )
    .map(({ needs, order }) => new Map(order.map((id) => [id, needs[Number(id.slice(1))] ?? []])));
}

/**
 * Random graphs that may have cycles, self-needs, duplicate needs and needs naming no node
 * (`ghost`): each node's needs are drawn from all node ids plus `ghost`.
 */
export function arbitraryGraph(maxNodes = 10): fc.Arbitrary<Graph> {
  return fc
    .integer({ min: 0, max: maxNodes })
    .chain((n) =>
      fc.tuple(
        ...ids(n).map(() => fc.array(fc.constantFrom(...ids(n), 'ghost'), { maxLength: Math.min(n, 3) })),
      ),
    )
    .map((needs) => new Map(needs.map((list, i) => [`n${i}`, list])));
}

/** Brute force: the nodes reachable from `from` through one or more needs (known nodes only). */
export function reachableByNeeds(graph: Graph, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length > 0) {
    for (const need of graph.get(todo.pop()!) ?? []) {
      if (graph.has(need) && !seen.has(need)) {
        seen.add(need);
        todo.push(need);
      }
    }
  }
  return seen;
}

/** Brute force: a graph has a cycle iff some node reaches itself. */
export function hasCycleBruteForce(graph: Graph): boolean {
  return [...graph.keys()].some((id) => reachableByNeeds(graph, id).has(id));
}
