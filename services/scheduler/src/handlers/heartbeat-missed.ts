import { applyFailures } from '../failures.js';
import type { BatchHandler } from '../types.js';

/**
 * HeartbeatMissed FAILED: the reaper wrote the attempt FAILED (`worker lost ...`, retryable), so it is
 * handled as a retryable TaskFailed: retried after the task's backoff when attempts are left, else
 * the run fails. REQUEUED (written by reapers before they left retries to the scheduler: the task was
 * already READY and announced) needs nothing.
 */
export const handleHeartbeatMissed: BatchHandler<'HeartbeatMissed'> = (batch, deps) =>
  applyFailures(
    batch
      .filter((d) => d.event.data.outcome === 'FAILED')
      .map((d) => ({
        taskRunId: d.event.data.taskRunId,
        attempt: d.event.data.attempt,
        retryable: true,
        error: null,
        deliveries: d.deliveries,
      })),
    deps,
  );
