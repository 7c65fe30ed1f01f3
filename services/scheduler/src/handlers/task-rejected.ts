import { abortEvents, publishAll, runFinishedEvents } from '../events.js';
import type { Rejection } from '../repository.js';
import type { BatchHandler } from '../types.js';

/** The error written on a rejected task_run. */
export function rejectionError(by: string | undefined, reason: string | undefined): string {
  return `rejected by ${by ?? 'unknown'}: ${reason ?? 'no reason given'}`;
}

/**
 * TaskRejected: BLOCKED -> FAILED (no retry) and the run fails in the same transaction, as for an
 * exhausted task: non-terminal task_runs CANCELLED, TaskAbortRequested for RUNNING ones, RunFinished.
 */
export const handleTaskRejected: BatchHandler<'TaskRejected'> = async (batch, deps) => {
  const rejections: Rejection[] = batch.map((d) => ({
    runId: d.event.data.runId,
    taskId: d.event.data.taskId,
    by: d.event.data.by ?? null,
    error: rejectionError(d.event.data.by, d.event.data.reason),
  }));
  const result = await deps.repo.rejectTasks(rejections, (r) => `task ${r.taskId} failed: ${r.error}`);
  for (const r of result.rejected) deps.logger.info({ runId: r.runId, taskId: r.taskId }, 'task rejected');
  await publishAll(deps.bus, [
    ...abortEvents(result.abortedRunning, 'RUN_FAILED'),
    ...runFinishedEvents(result.finished),
  ]);
};
