import { faultPoint } from '@relay/runtime';
import { publishAll, publishRows, runFinishedEvents, taskReadyEvents } from '../events.js';
import {
  dependentTaskRunIds,
  type PinnedSuccess,
  pinnedKeys,
  planEdges,
  planPropagation,
} from '../propagation.js';
import type { FinishedRun, PromotedTaskRun } from '../repository.js';
import type { BatchHandler, EventDelivery, HandlerDeps } from '../types.js';

/** What applying a batch of successes changed. */
interface Applied {
  /** Task run ids whose success was applied here. */
  marked: string[];
  promoted: PromotedTaskRun[];
  finished: FinishedRun[];
}

/**
 * Largest batch the one-statement path takes. It exists for latency: a lone success (a chain step) pays
 * one round trip instead of five. Its joins between CTEs and task_runs are planned from estimates that lag
 * a fast-growing table, and a nested loop over two "tiny" inputs goes quadratic (measured: 350-850 ms for
 * 500 successes on a 10k-row table). Big batches come under load, where the general path's extra round
 * trips are shared by hundreds of rows and its unnest-driven plans are linear.
 */
export const PLANNED_MAX_SUCCESSES = 16;
export const PLANNED_MAX_EDGES = 64;

/**
 * The successes whose events name the pinned definition, applied in one statement when the batch is
 * small (see {@link PLANNED_MAX_SUCCESSES}). Null when the batch does not qualify.
 */
async function applyPlanned(
  batch: readonly EventDelivery<'TaskSucceeded'>[],
  deps: HandlerDeps,
): Promise<Applied | null> {
  const byId = new Map<string, PinnedSuccess>();
  for (const { event } of batch) {
    const { taskRunId, runId, taskId, workflowId, workflowVersion } = event.data;
    if (workflowId === undefined || workflowVersion === undefined) return null;
    byId.set(taskRunId, { id: taskRunId, runId, taskId, workflowId, workflowVersion });
    if (byId.size > PLANNED_MAX_SUCCESSES) return null; // a big batch: no need to read the rest
  }
  const successes = [...byId.values()];
  const definitions = await deps.definitions.getMany(pinnedKeys(successes));
  const plan = planEdges(successes, definitions);
  if (!plan || plan.edges.length > Math.min(PLANNED_MAX_EDGES, deps.repo.chunkRows)) return null;
  const result = await deps.repo.propagatePlanned(
    successes.map((s) => ({ id: s.id, version: s.workflowVersion })),
    plan.edges,
  );
  const promoted: PromotedTaskRun[] = [];
  for (const m of result.promoted) {
    const dep = plan.dependents.get(m.id);
    if (dep) promoted.push({ ...m, ...dep, readyAt: null });
  }
  return { marked: result.marked.map((m) => m.id), promoted, finished: result.finished };
}

/** The general path: one transaction of chunked statements, any plan size, any event. */
async function applyGeneral(ids: readonly string[], deps: HandlerDeps): Promise<Applied> {
  if (ids.length === 0) return { marked: [], promoted: [], finished: [] };
  // Definitions are immutable, so loading a missing one outside the transaction is safe.
  const result = await deps.repo.propagateSuccesses(ids, async (marked) =>
    planPropagation(marked, await deps.definitions.getMany(pinnedKeys(marked))),
  );
  return {
    marked: result.marked.map((m) => `${m.runId}:${m.taskId}`),
    promoted: result.promoted,
    finished: result.finished,
  };
}

/**
 * TaskSucceeded: applies each SUCCESS once (guarded by `propagated_at`): dependents whose last need
 * succeeded become READY (or BLOCKED), runs with no task left become SUCCESS. Events that name the pinned
 * definition (the worker's do) go through one statement; the rest, and any the statement left unmarked
 * (a duplicate, a run pinned to another version), through the general transaction. Then publishes
 * TaskReady (in chunks, built as they go out), then RunFinished. A redelivered event whose success was
 * already applied re-announces its READY dependents and its finished run (a crash may have lost them).
 */
export const handleTaskSucceeded: BatchHandler<'TaskSucceeded'> = async (batch, deps) => {
  const ids = [...new Set(batch.map((d) => d.event.data.taskRunId))];
  const planned = await applyPlanned(batch, deps);
  const plannedIds = new Set(planned?.marked);
  const general = await applyGeneral(
    ids.filter((id) => !plannedIds.has(id)),
    deps,
  );
  const result: Applied = {
    marked: [...(planned?.marked ?? []), ...general.marked],
    promoted: [...(planned?.promoted ?? []), ...general.promoted],
    finished: [...(planned?.finished ?? []), ...general.finished],
  };

  const ready = result.promoted.filter((p) => p.status === 'READY');
  faultPoint('scheduler.after-commit');
  await publishRows(deps.bus, ready, taskReadyEvents);

  const applied = new Set(result.marked);
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
