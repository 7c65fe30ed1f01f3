export { createApp } from './app.js';
export { type IngestConfig, IngestEnv, loadConfig } from './config.js';
export { isConnectionError, withDeadline } from './deadline.js';
export type { AppDeps, ReadinessCheck } from './deps.js';
export {
  ApiError,
  ConflictError,
  DependencyUnavailableError,
  InvalidWorkflowError,
  type Issue,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors.js';
export {
  type ApplyStatus,
  createRepository,
  type Repository,
  RUN_STATUSES,
  type RunStatus,
} from './repository.js';
export { type IngestService, startIngest } from './service.js';
