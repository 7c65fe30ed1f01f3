import { faultPoint } from '@relay/runtime';
import { publishAll, runFinishedEvents, taskReadyEvents } from '../events.js';
import { dependentTaskRunIds, pinnedKeys, planPropagation } from '../propagation.js';
import type { BatchHandler } from '../types.js';

/**
 * TaskSucceeded: applies each SUCCESS once (guarded by `propagated_at`) in one transaction: dependents
 * whose last need succeeded become READY (or BLOCKED), runs with no task left become SUCCESS. Then
 * publishes TaskReady and RunFinished in one pipeline. A redelivered event whose success was already
 * applied re-announces its READY dependents and its finished run (a crash may have lost them).
 */
export const handleTaskSucceeded: BatchHandler<'TaskSucceeded'> = async (batch, deps) => {
  const ids = [...new Set(batch.map((d) => d.event.data.taskRunId))];
  // Definitions are immutable, so loading a missing one outside the transaction is safe.
  const result = await deps.repo.propagateSuccesses(ids, async (marked) =>
    planPropagation(marked, await deps.definitions.getMany(pinnedKeys(marked))),
  );

  const applied = new Set(result.marked.map((m) => `${m.runId}:${m.taskId}`));
  const redelivered = [
    ...new Set(
      batch
        .filter((d) => d.deliveries > 1 && !applied.has(d.event.data.taskRunId))
        .map((d) => d.event.data.taskRunId),
    ),
  ];
  let again: Awaited<ReturnType<typeof deps.repo.listReadyTaskRuns>> = [];
  let finishedAgain: Awaited<ReturnType<typeof deps.repo.listFinishedRuns>> = [];
  if (redelivered.length > 0) {
    const contexts = (await deps.repo.loadTaskRunContexts(redelivered)).filter((c) => c.status === 'SUCCESS');
    const definitions = await deps.definitions.getMany(pinnedKeys(contexts));
    again = await deps.repo.listReadyTaskRuns(dependentTaskRunIds(contexts, definitions));
    finishedAgain = (await deps.repo.listFinishedRuns([...new Set(contexts.map((c) => c.runId))])).filter(
      (r) => r.status === 'SUCCESS',
    );
  }

  const ready = result.promoted.filter((p) => p.status === 'READY');
  faultPoint('scheduler.after-commit');
  await publishAll(deps.bus, [
    ...taskReadyEvents([...ready, ...again]),
    ...runFinishedEvents([...result.finished, ...finishedAgain]),
  ]);
  if (result.promoted.length > 0 || result.finished.length > 0) {
    deps.logger.debug(
      { applied: result.marked.length, promoted: result.promoted.length, finished: result.finished.length },
      'successes propagated',
    );
  }
};
