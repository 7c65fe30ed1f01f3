export { loadSchedulerConfig, type SchedulerConfig, SchedulerEnvSchema } from './config.js';
export {
  type CompiledDefinition,
  compileDefinition,
  createDefinitionCache,
  type DefinitionCache,
  definitionKey,
} from './definitions.js';
export { DefinitionNotFoundError, SchedulerError } from './errors.js';
export { decideFailure, type FailureDecision, type FailureReport } from './failures.js';
export { planPropagation } from './propagation.js';
export { createSchedulerRepository, type SchedulerRepository } from './repository.js';
export { type RunningScheduler, type SchedulerDeps, startScheduler } from './service.js';
