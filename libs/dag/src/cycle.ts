import type { Graph } from './graph.js';
import { indexGraph } from './indexed.js';

const WHITE = 0;
const ON_PATH = 1;
const DONE = 2;

/**
 * Finds a cycle, or returns null when the graph is acyclic.
 *
 * The cycle is a node list whose first element equals its last and in which each node needs the
 * next one (`['a', 'b', 'a']`: a needs b, b needs a; a self-need gives `['a', 'a']`). It is
 * deterministic: the first cycle met by a depth-first search started from each node in graph
 * order, following needs in listed order, rotated to begin at its node that comes first in graph
 * order. Iterative, O(V+E): a 100,000-node chain needs no deep call stack.
 */
export function findCycle(graph: Graph): string[] | null {
  const { ids, needs } = indexGraph(graph);
  const n = ids.length;
  const color = new Uint8Array(n);
  // The DFS path: pathNode[i] is the i-th node on it, nextNeed[i] the position of its next need to visit.
  const pathNode = new Int32Array(n);
  const nextNeed = new Int32Array(n);
  const positionOnPath = new Int32Array(n);

  for (let start = 0; start < n; start++) {
    if (color[start] !== WHITE) continue;
    let top = 0;
    pathNode[0] = start;
    nextNeed[0] = 0;
    positionOnPath[start] = 0;
    color[start] = ON_PATH;
    while (top >= 0) {
      const v = pathNode[top]!;
      const list = needs[v]!;
      const e = nextNeed[top]!;
      if (e < list.length) {
        nextNeed[top] = e + 1;
        const w = list[e]!;
        if (color[w] === WHITE) {
          top++;
          pathNode[top] = w;
          nextNeed[top] = 0;
          positionOnPath[w] = top;
          color[w] = ON_PATH;
        } else if (color[w] === ON_PATH) {
          // Back edge v -> w: the path from w to v, then w again, is a cycle.
          return rotated(Array.from(pathNode.subarray(positionOnPath[w]!, top + 1)), ids);
        }
      } else {
        color[v] = DONE;
        top--;
      }
    }
  }
  return null;
}

/** Rotates a cycle (no repeated closing node) to start at its smallest index and closes it. */
function rotated(cycle: number[], ids: readonly string[]): string[] {
  let first = 0;
  for (let i = 1; i < cycle.length; i++) if (cycle[i]! < cycle[first]!) first = i;
  const ordered = [...cycle.slice(first), ...cycle.slice(0, first)];
  ordered.push(ordered[0]!);
  return ordered.map((v) => ids[v]!);
}
