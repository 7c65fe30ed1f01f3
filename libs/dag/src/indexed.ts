import type { Graph } from './graph.js';

/**
 * The graph with nodes numbered in graph order and edges as index arrays (internal). Needs that
 * name no node are dropped and duplicate needs kept once, so that every algorithm sees the same
 * simple graph.
 */
export interface IndexedGraph {
  readonly ids: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** needs[v]: the nodes v needs. */
  readonly needs: readonly (readonly number[])[];
}

/** Numbers the nodes of `graph` and resolves its needs. O(V+E). */
export function indexGraph(graph: Graph): IndexedGraph {
  const ids = [...graph.keys()];
  const indexOf = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) indexOf.set(ids[i]!, i);
  // lastAddedBy[w] === v: need w was already added to needs[v] (deduplication in O(1) per edge).
  const lastAddedBy = new Int32Array(ids.length).fill(-1);
  const needs: number[][] = [];
  ids.forEach((id, v) => {
    const list: number[] = [];
    for (const need of graph.get(id) ?? []) {
      const w = indexOf.get(need);
      if (w === undefined || lastAddedBy[w] === v) continue;
      lastAddedBy[w] = v;
      list.push(w);
    }
    needs.push(list);
  });
  return { ids, indexOf, needs };
}

/** dependents[v]: the nodes that need v, in graph order. O(V+E). */
export function reverseEdges(indexed: IndexedGraph): number[][] {
  const dependents: number[][] = indexed.ids.map(() => []);
  indexed.needs.forEach((list, v) => {
    for (const w of list) dependents[w]!.push(v);
  });
  return dependents;
}
