export { findCycle } from './cycle.js';
export { CycleError, DuplicateNodeError, UnknownNodeError } from './errors.js';
export { formatCycle } from './format.js';
export {
  type Dependents,
  dependentsOf,
  type Graph,
  graphFrom,
  roots,
  type UnknownNeed,
  unknownNeeds,
} from './graph.js';
export { downstreamOf, isUpstream, upstreamOf } from './reach.js';
export { readyAfter, readySet, type TaskProgress } from './ready.js';
export { topologicalOrder } from './topological.js';
