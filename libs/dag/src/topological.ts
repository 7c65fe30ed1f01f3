import { findCycle } from './cycle.js';
import { CycleError } from './errors.js';
import type { Graph } from './graph.js';
import { indexGraph, reverseEdges } from './indexed.js';

/**
 * Orders the nodes so that every node comes after all of its needs (Kahn's algorithm, O(V+E)).
 * Deterministic: among nodes whose needs are all placed, the earliest placed-ready node goes first
 * (FIFO), starting with the nodes without (known) needs in graph order.
 * @throws CycleError carrying the cycle (as `findCycle` reports it) when the graph has one.
 */
export function topologicalOrder(graph: Graph): string[] {
  const indexed = indexGraph(graph);
  const { ids, needs } = indexed;
  const dependents = reverseEdges(indexed);
  const unplacedNeeds = Int32Array.from(needs, (list) => list.length);
  const queue: number[] = [];
  for (let v = 0; v < ids.length; v++) if (unplacedNeeds[v] === 0) queue.push(v);
  // `queue` doubles as the output: it only ever grows, `head` walks it.
  for (let head = 0; head < queue.length; head++) {
    for (const d of dependents[queue[head]!]!) {
      unplacedNeeds[d] = unplacedNeeds[d]! - 1;
      if (unplacedNeeds[d] === 0) queue.push(d);
    }
  }
  if (queue.length < ids.length) {
    const cycle = findCycle(graph);
    // Kahn leaves nodes unplaced only when a cycle exists, so findCycle cannot return null here.
    throw new CycleError(cycle ?? []);
  }
  return queue.map((v) => ids[v]!);
}
