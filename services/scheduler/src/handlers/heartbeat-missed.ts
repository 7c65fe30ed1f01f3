import { applyFailures } from '../failures.js';
import type { BatchHandler } from '../types.js';

/**
 * HeartbeatMissed: FAILED means the reaper wrote FAILED (`worker lost ...`) with no attempt left, so the
 * run fails as for an exhausted TaskFailed; REQUEUED needs nothing (the reaper published TaskReady).
 */
export const handleHeartbeatMissed: BatchHandler<'HeartbeatMissed'> = (batch, deps) =>
  applyFailures(
    batch
      .filter((d) => d.event.data.outcome === 'FAILED')
      .map((d) => ({
        taskRunId: d.event.data.taskRunId,
        attempt: d.event.data.attempt,
        retryable: false,
        error: null,
        exhausted: true,
        deliveries: d.deliveries,
      })),
    deps,
  );
