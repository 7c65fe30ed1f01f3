import { definitionKey } from '../definitions.js';
import { publishAll, publishRows, runFinishedEvents, taskReadyEvents } from '../events.js';
import type { NewTaskRun, RunEnding } from '../repository.js';
import type { BatchHandler } from '../types.js';

/**
 * RunStarted: creates every task_run of each live run's pinned definition (roots READY or BLOCKED,
 * others PENDING), then publishes TaskReady for every READY task_run of those runs, which re-announces
 * them after a crash between commit and publish (the dispatcher drops duplicates). A run cancelled
 * before it started ends CANCELLED with nothing created; a run whose pinned version is missing fails.
 */
export const handleRunStarted: BatchHandler<'RunStarted'> = async (batch, deps) => {
  const runIds = [...new Set(batch.map((d) => d.event.data.runId))];
  const runs = await deps.repo.loadRuns(runIds);
  const found = new Set(runs.map((r) => r.id));
  for (const id of runIds) if (!found.has(id)) deps.logger.warn({ runId: id }, 'run started for unknown run');

  const endings: RunEnding[] = [];
  const live = runs.filter((r) => r.status === 'RUNNING');
  for (const run of live) {
    if (run.cancelRequested) endings.push({ runId: run.id, status: 'CANCELLED', error: null });
  }
  const starting = live.filter((r) => !r.cancelRequested);
  const definitions = await deps.definitions.getMany(
    starting.flatMap((r) =>
      r.workflowVersion === null ? [] : [{ workflowId: r.workflowId, version: r.workflowVersion }],
    ),
  );

  const taskRuns: NewTaskRun[] = [];
  const taskCounts: { runId: string; count: number }[] = [];
  for (const run of starting) {
    const def =
      run.workflowVersion === null
        ? undefined
        : definitions.get(definitionKey(run.workflowId, run.workflowVersion));
    if (!def) {
      deps.logger.error({ runId: run.id, version: run.workflowVersion }, 'pinned workflow version not found');
      endings.push({
        runId: run.id,
        status: 'FAILED',
        error: `workflow ${run.workflowId} version ${run.workflowVersion ?? '(none)'} not found`,
      });
      continue;
    }
    taskCounts.push({ runId: run.id, count: def.definition.tasks.length });
    for (const task of def.definition.tasks) {
      const pendingNeeds = def.needCounts.get(task.id) ?? 0;
      taskRuns.push({
        runId: run.id,
        workflowId: run.workflowId,
        taskId: task.id,
        queue: task.queue,
        maxAttempts: task.retries + 1,
        pendingNeeds,
        status: pendingNeeds > 0 ? 'PENDING' : task.requiresApproval ? 'BLOCKED' : 'READY',
      });
    }
  }

  const created = taskCounts.length > 0 ? await deps.repo.createTaskRuns(taskRuns, taskCounts) : [];
  const ended = await deps.repo.endRuns(endings);
  // READY task_runs page by page (a workflow may have 100,000 roots): each page is published before the
  // next is read, so a crash leaves a prefix announced and the redelivered RunStarted announces them all.
  let ready = 0;
  let after: { runId: string; taskId: string } | null = null;
  while (created.length > 0) {
    const page = await deps.repo.listReadyTaskRunsOfRuns(created, after);
    await publishRows(deps.bus, page, taskReadyEvents);
    ready += page.length;
    const last = page.at(-1);
    if (!last || page.length < deps.repo.chunkRows) break;
    after = { runId: last.runId, taskId: last.taskId };
  }
  // Re-announce the end of runs that had already ended, in case a crash lost their RunFinished.
  const redelivered = batch.filter((d) => d.deliveries > 1).map((d) => d.event.data.runId);
  const finishedBefore = redelivered.length > 0 ? await deps.repo.listFinishedRuns(redelivered) : [];
  const finishedNow = new Set(ended.finished.map((r) => r.runId));
  await publishAll(
    deps.bus,
    runFinishedEvents([...ended.finished, ...finishedBefore.filter((r) => !finishedNow.has(r.runId))]),
  );
  deps.logger.debug({ runs: created.length, tasks: taskRuns.length, ready }, 'runs started');
};
