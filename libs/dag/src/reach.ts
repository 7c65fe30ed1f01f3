import { UnknownNodeError } from './errors.js';
import { type Dependents, dependentsOf, type Graph } from './graph.js';

/**
 * The nodes that depend on `id` directly or transitively (reachable through reverse edges), in
 * breadth-first order. `id` itself is included only when it lies on a cycle. O(V+E); pass
 * `dependents` (from `dependentsOf`) to skip building the reverse edges.
 * @throws UnknownNodeError when `id` is not a node.
 */
export function downstreamOf(graph: Graph, id: string, dependents?: Dependents): Set<string> {
  if (!graph.has(id)) throw new UnknownNodeError(id);
  const reverse = dependents ?? dependentsOf(graph);
  return reachableFrom(id, (node) => reverse.get(node) ?? [], graph);
}

/**
 * The nodes that `id` needs directly or transitively, in breadth-first order. Needs that name no
 * node are left out; `id` itself is included only when it lies on a cycle. O(V+E).
 * @throws UnknownNodeError when `id` is not a node.
 */
export function upstreamOf(graph: Graph, id: string): Set<string> {
  if (!graph.has(id)) throw new UnknownNodeError(id);
  return reachableFrom(id, (node) => graph.get(node) ?? [], graph);
}

/**
 * Whether `candidate` is reachable through the needs of `of` (a direct or transitive
 * dependency), i.e. whether `of` may read `candidate`'s output. False when `candidate` is not a
 * node; `of` is its own upstream only on a cycle. O(V+E), stopping at the first hit.
 * @throws UnknownNodeError when `of` is not a node.
 */
export function isUpstream(graph: Graph, candidate: string, of: string): boolean {
  if (!graph.has(of)) throw new UnknownNodeError(of);
  if (!graph.has(candidate)) return false;
  const seen = new Set<string>();
  const stack = [of];
  while (stack.length > 0) {
    for (const need of graph.get(stack.pop()!) ?? []) {
      if (need === candidate) return true;
      if (seen.has(need) || !graph.has(need)) continue;
      seen.add(need);
      stack.push(need);
    }
  }
  return false;
}

/** Breadth-first search from `start` (excluded unless reached again), keeping graph nodes only. */
function reachableFrom(start: string, next: (id: string) => readonly string[], graph: Graph): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    for (const node of next(queue[head]!)) {
      if (seen.has(node) || !graph.has(node)) continue;
      seen.add(node);
      queue.push(node);
    }
  }
  return seen;
}
