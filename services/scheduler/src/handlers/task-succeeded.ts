import { faultPoint } from '@relay/runtime';
import { publishAll, publishRows, runFinishedEvents, taskReadyEvents } from '../events.js';
import { dependentTaskRunIds, pinnedKeys, planPropagation } from '../propagation.js';
import type { BatchHandler } from '../types.js';

/**
 * TaskSucceeded: applies each SUCCESS once (guarded by `propagated_at`) in one transaction: dependents
 * whose last need succeeded become READY (or BLOCKED), runs with no task left become SUCCESS. Then
 * publishes TaskReady (in chunks, built as they go out), then RunFinished. A redelivered event whose success was already
 * applied re-announces its READY dependents and its finished run (a crash may have lost them).
 */
export const handleTaskSucceeded: BatchHandler<'TaskSucceeded'> = async (batch, deps) => {
  const ids = [...new Set(batch.map((d) => d.event.data.taskRunId))];
  // Definitions are immutable, so loading a missing one outside the transaction is safe.
  const result = await deps.repo.propagateSuccesses(ids, async (marked) =>
    planPropagation(marked, await deps.definitions.getMany(pinnedKeys(marked))),
  );

  const ready = result.promoted.filter((p) => p.status === 'READY');
  faultPoint('scheduler.after-commit');
  await publishRows(deps.bus, ready, taskReadyEvents);

  const applied = new Set(result.marked.map((m) => `${m.runId}:${m.taskId}`));
  const redelivered = [
    ...new Set(
      batch
        .filter((d) => d.deliveries > 1 && !applied.has(d.event.data.taskRunId))
        .map((d) => d.event.data.taskRunId),
    ),
  ];
  let finishedAgain: Awaited<ReturnType<typeof deps.repo.listFinishedRuns>> = [];
  if (redelivered.length > 0) {
    const contexts = (await deps.repo.loadTaskRunContexts(redelivered)).filter((c) => c.status === 'SUCCESS');
    const definitions = await deps.definitions.getMany(pinnedKeys(contexts));
    // A crash after COMMIT may have published any prefix of the TaskReady events: re-announce every
    // dependent still READY, one chunk read and published at a time (a fan-out may have 100,000).
    const dependents = dependentTaskRunIds(contexts, definitions);
    for (let i = 0; i < dependents.length; i += deps.repo.chunkRows) {
      const again = await deps.repo.listReadyTaskRuns(dependents.slice(i, i + deps.repo.chunkRows));
      await publishRows(deps.bus, again, taskReadyEvents);
    }
    finishedAgain = (await deps.repo.listFinishedRuns([...new Set(contexts.map((c) => c.runId))])).filter(
      (r) => r.status === 'SUCCESS',
    );
  }

  await publishAll(deps.bus, runFinishedEvents([...result.finished, ...finishedAgain]));
  if (result.promoted.length > 0 || result.finished.length > 0) {
    deps.logger.debug(
      { applied: result.marked.length, promoted: result.promoted.length, finished: result.finished.length },
      'successes propagated',
    );
  }
};
