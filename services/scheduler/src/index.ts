export { loadSchedulerConfig, type SchedulerConfig, SchedulerEnvSchema } from './config.js';
export {
  type CompiledDefinition,
  compileDefinition,
  createDefinitionCache,
  DEFAULT_CACHE_MAX_TASKS,
  type DefinitionCache,
  definitionKey,
} from './definitions.js';
export { DefinitionNotFoundError, SchedulerError } from './errors.js';
export { decideFailure, type FailureDecision, type FailureReport } from './failures.js';
export { planPropagation } from './propagation.js';
export {
  createSchedulerRepository,
  DEFAULT_CHUNK_ROWS,
  type SchedulerRepository,
  type SchedulerRepositoryOptions,
} from './repository.js';
export { type RunningScheduler, type SchedulerDeps, startScheduler } from './service.js';
