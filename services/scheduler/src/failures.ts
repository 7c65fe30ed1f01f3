import { decideRetry } from '@relay/state';
import { definitionKey } from './definitions.js';
import { abortEvents, publishAll, runFinishedEvents, taskReadyEvents } from './events.js';
import { pinnedKeys } from './propagation.js';
import type { ReadyTaskRun, RetryRequest, RunEnding, TaskRunContext } from './repository.js';
import type { HandlerDeps } from './types.js';

/** A failed attempt as reported by a worker (TaskFailed) or the reaper (HeartbeatMissed FAILED: worker lost). */
export interface FailureReport {
  taskRunId: string;
  attempt: number;
  /** False forbids a retry whatever attempts are left. */
  retryable: boolean;
  /** The reported error; the row's own error (written by the reporter) wins when present. */
  error: string | null;
  /** Redis delivery count of the event. */
  deliveries: number;
}

/** What to do with one failure report. */
export type FailureDecision =
  | { kind: 'stale' }
  | { kind: 'retry'; request: RetryRequest }
  | { kind: 'fail'; ending: RunEnding };

/**
 * Decides one report against the row's current state (pure). A report whose attempt is not the row's
 * current attempt, or whose row is not FAILED, or whose run is no longer RUNNING, is stale.
 */
export function decideFailure(
  report: FailureReport,
  row: TaskRunContext,
  backoff: { initialMs: number; factor: number; maxMs: number } | undefined,
  random: () => number,
): FailureDecision {
  if (row.attempt !== report.attempt || row.status !== 'FAILED' || row.runStatus !== 'RUNNING')
    return { kind: 'stale' };
  if (backoff) {
    const decision = decideRetry({
      attempt: report.attempt,
      maxAttempts: row.maxAttempts,
      backoff,
      retryable: report.retryable,
      random,
    });
    if (decision.retry) {
      return { kind: 'retry', request: { id: row.id, attempt: row.attempt, delayMs: decision.delayMs } };
    }
  }
  const error = row.error ?? report.error ?? 'unknown error';
  return {
    kind: 'fail',
    ending: {
      runId: row.runId,
      status: 'FAILED',
      error: `task ${row.taskId} failed: ${error}`,
      cause: row.id,
    },
  };
}

/**
 * Applies a batch of failure reports: retries (FAILED -> READY after backoff, TaskReady with notBefore)
 * or run failures (run FAILED, non-terminal tasks CANCELLED, TaskAbortRequested for the RUNNING ones,
 * RunFinished). A redelivered report whose retry was already applied re-announces its TaskReady; one
 * whose run already failed re-announces RunFinished.
 */
export async function applyFailures(reports: readonly FailureReport[], deps: HandlerDeps): Promise<void> {
  if (reports.length === 0) return;
  const rows = new Map(
    (await deps.repo.loadTaskRunContexts([...new Set(reports.map((r) => r.taskRunId))])).map((r) => [
      r.id,
      r,
    ]),
  );
  const definitions = await deps.definitions.getMany(pinnedKeys([...rows.values()]));
  const retries = new Map<string, RetryRequest>();
  const endings: RunEnding[] = [];
  const reannounce: TaskRunContext[] = [];
  const endedBefore = new Set<string>();
  for (const report of reports) {
    const row = rows.get(report.taskRunId);
    if (!row) {
      deps.logger.warn({ taskRunId: report.taskRunId }, 'failure reported for unknown task run');
      continue;
    }
    const def = definitions.get(definitionKey(row.workflowId, row.workflowVersion ?? 0));
    const decision = decideFailure(report, row, def?.tasks.get(row.taskId)?.backoff, deps.random);
    const log = deps.logger.child({ runId: row.runId, taskId: row.taskId, attempt: report.attempt });
    if (decision.kind === 'stale') {
      if (report.deliveries > 1 && row.status === 'READY' && row.attempt === report.attempt)
        reannounce.push(row);
      if (report.deliveries > 1 && row.runStatus === 'FAILED') endedBefore.add(row.runId);
      log.debug({ status: row.status, current: row.attempt }, 'stale failure ignored');
    } else if (decision.kind === 'retry') {
      retries.set(row.id, decision.request);
      log.info({ delayMs: decision.request.delayMs }, 'task retry scheduled');
    } else {
      endings.push(decision.ending);
      log.warn({ error: decision.ending.error }, 'run failing');
    }
  }
  const scheduled = await deps.repo.scheduleRetries([...retries.values()]);
  const sweep = await deps.repo.endRuns(endings);
  const again: ReadyTaskRun[] =
    reannounce.length > 0 ? await deps.repo.listReadyTaskRuns(reannounce.map((r) => r.id)) : [];
  // A redelivered report of a run already FAILED re-announces its end (a crash may have lost RunFinished).
  const finishedBefore = await deps.repo.listFinishedRuns([...endedBefore]);
  await publishAll(deps.bus, [
    ...taskReadyEvents([...scheduled, ...again]),
    ...abortEvents(sweep.abortedRunning, 'RUN_FAILED'),
    ...runFinishedEvents([...sweep.finished, ...finishedBefore]),
  ]);
}
