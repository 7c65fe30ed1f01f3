export { type DispatcherConfig, DispatcherEnvSchema, loadDispatcherConfig } from './config.js';
export { type DelayedPoller, type DelayedPollerOptions, startDelayedPoller } from './delayed-poller.js';
export { type DispatchDeps, dispatchTaskRuns, taskQueuedEvents } from './dispatch.js';
export { DispatcherError } from './errors.js';
export { handleTaskReady, type TaskReadyDelivery } from './handlers/task-ready.js';
export { createDispatcherRepository, type DispatcherRepository, type QueuedTaskRun } from './repository.js';
export { type DispatcherDeps, type RunningDispatcher, startDispatcher } from './service.js';
