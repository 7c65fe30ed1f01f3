import { applyFailures } from '../failures.js';
import type { BatchHandler } from '../types.js';

/** TaskFailed: retry after backoff when retryable with attempts left, else fail the run. Stale attempts are ignored. */
export const handleTaskFailed: BatchHandler<'TaskFailed'> = (batch, deps) =>
  applyFailures(
    batch.map((d) => ({
      taskRunId: d.event.data.taskRunId,
      attempt: d.event.data.attempt,
      retryable: d.event.data.retryable,
      error: d.event.data.error,
      deliveries: d.deliveries,
    })),
    deps,
  );
