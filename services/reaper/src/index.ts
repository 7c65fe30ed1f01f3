export { loadReaperConfig, type ReaperConfig, ReaperEnvSchema, reaperIntervalMs } from './config.js';
export { ReaperError } from './errors.js';
export { type ReapDeps, reapedEvents, reapOnce } from './reap.js';
export { createReaperRepository, type ReapedTaskRun, type ReaperRepository } from './repository.js';
export { type ReaperDeps, type RunningReaper, startReaper } from './service.js';
