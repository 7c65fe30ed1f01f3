import { formatCycle } from './format.js';

/** Thrown when an operation that needs an acyclic graph meets a cycle. */
export class CycleError extends Error {
  /** The cycle, first node repeated last, each node needing the next: `['a', 'b', 'a']`. */
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[], options?: { cause?: unknown }) {
    super(`dependency cycle: ${formatCycle(cycle)}`, options);
    this.name = 'CycleError';
    this.cycle = cycle;
  }
}

/** Thrown when a function is given a node id that the graph does not contain. */
export class UnknownNodeError extends Error {
  /** The id that names no node. */
  readonly node: string;

  constructor(node: string, options?: { cause?: unknown }) {
    super(`unknown node: "${node}" is not a node of the graph`, options);
    this.name = 'UnknownNodeError';
    this.node = node;
  }
}

/** Thrown by {@link graphFrom} when two tasks share an id. */
export class DuplicateNodeError extends Error {
  /** The id given more than once. */
  readonly node: string;

  constructor(node: string, options?: { cause?: unknown }) {
    super(`duplicate node: "${node}" is given more than once`, options);
    this.name = 'DuplicateNodeError';
    this.node = node;
  }
}
