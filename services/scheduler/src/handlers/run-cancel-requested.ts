import { abortEvents, publishAll, runFinishedEvents } from '../events.js';
import type { BatchHandler } from '../types.js';

/**
 * RunCancelRequested: RUNNING run -> CANCELLED, its non-terminal task_runs -> CANCELLED, TaskAbortRequested
 * (CANCELLED) for the ones that were RUNNING, RunFinished. Idempotent: a finished run matches nothing
 * (a redelivered request re-announces RunFinished of a run it finds CANCELLED).
 */
export const handleRunCancelRequested: BatchHandler<'RunCancelRequested'> = async (batch, deps) => {
  const sweep = await deps.repo.endRuns(
    batch.map((d) => ({ runId: d.event.data.runId, status: 'CANCELLED', error: null })),
  );
  const endedNow = new Set(sweep.finished.map((r) => r.runId));
  const redelivered = batch
    .filter((d) => d.deliveries > 1 && !endedNow.has(d.event.data.runId))
    .map((d) => d.event.data.runId);
  const before = (await deps.repo.listFinishedRuns(redelivered)).filter((r) => r.status === 'CANCELLED');
  for (const run of sweep.finished) deps.logger.info({ runId: run.runId }, 'run cancelled');
  await publishAll(deps.bus, [
    ...abortEvents(sweep.abortedRunning, 'CANCELLED'),
    ...runFinishedEvents([...sweep.finished, ...before]),
  ]);
};
