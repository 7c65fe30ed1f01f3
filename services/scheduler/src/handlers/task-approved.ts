import { publishAll, taskReadyEvents } from '../events.js';
import type { BatchHandler } from '../types.js';

/**
 * TaskApproved: BLOCKED -> READY (decided_by), then TaskReady. A duplicate matches nothing; a redelivered
 * approval re-announces its task if it is still READY.
 */
export const handleTaskApproved: BatchHandler<'TaskApproved'> = async (batch, deps) => {
  const approved = await deps.repo.approveTasks(
    batch.map((d) => ({
      runId: d.event.data.runId,
      taskId: d.event.data.taskId,
      by: d.event.data.by ?? null,
    })),
  );
  const moved = new Set(approved.map((r) => r.id));
  const redelivered = batch
    .filter((d) => d.deliveries > 1)
    .map((d) => `${d.event.data.runId}:${d.event.data.taskId}`)
    .filter((id) => !moved.has(id));
  const again = await deps.repo.listReadyTaskRuns(redelivered);
  for (const r of approved) deps.logger.info({ runId: r.runId, taskId: r.taskId }, 'task approved');
  await publishAll(deps.bus, taskReadyEvents([...approved, ...again]));
};
