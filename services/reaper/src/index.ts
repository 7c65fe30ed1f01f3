export { loadReaperConfig, type ReaperConfig, ReaperEnvSchema, reaperIntervalMs } from './config.js';
export { ReaperError } from './errors.js';
export { type ReapDeps, reapedEvents, reapOnce } from './reap.js';
export {
  PUBLISH_SLACK_MS,
  type ReconcileDeps,
  type ReconcileResult,
  reconcileOnce,
} from './reconcile.js';
export {
  type Candidate,
  type ClaimedRow,
  createReaperRepository,
  createReconcileRepository,
  type ReapedTaskRun,
  type ReaperRepository,
  type ReconcileKind,
  type ReconcileRepository,
} from './repository.js';
export { type ReaperDeps, type RunningReaper, startReaper } from './service.js';
export { readRedisTimeMs, readStreamState } from './stream-state.js';
export { ackedWatermark, compareEntryIds, entryIdMs, isEventGone, type StreamState } from './watermark.js';
