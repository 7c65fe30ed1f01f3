import type { OutgoingEvent } from '@relay/bus';
import { MAX_ABORT_TASK_RUN_IDS, MAX_ERROR_LENGTH, sanitizeText } from '@relay/contracts';
import type { FinishedRun, ReadyTaskRun } from './repository.js';

/** TaskReady for each READY task_run; a future `ready_at` (database clock) becomes `notBefore`. */
export function taskReadyEvents(rows: readonly ReadyTaskRun[]): OutgoingEvent[] {
  return rows.map((r) => ({
    type: 'TaskReady',
    data: {
      runId: r.runId,
      taskId: r.taskId,
      taskRunId: r.id,
      queue: r.queue,
      ...(r.readyAt ? { notBefore: r.readyAt.toISOString() } : {}),
    },
  }));
}

/** RunFinished for each finished run. */
export function runFinishedEvents(runs: readonly FinishedRun[]): OutgoingEvent[] {
  return runs.map((r) => ({
    type: 'RunFinished',
    data: {
      runId: r.runId,
      workflowId: r.workflowId,
      status: r.status,
      ...(r.error ? { error: sanitizeText(r.error, MAX_ERROR_LENGTH) } : {}),
    },
  }));
}

/** TaskAbortRequested per run for its RUNNING task_runs, split to respect the event's id limit. */
export function abortEvents(
  running: ReadonlyMap<string, readonly string[]>,
  reason: 'CANCELLED' | 'RUN_FAILED',
): OutgoingEvent[] {
  const events: OutgoingEvent[] = [];
  for (const [runId, ids] of running) {
    for (let i = 0; i < ids.length; i += MAX_ABORT_TASK_RUN_IDS) {
      events.push({
        type: 'TaskAbortRequested',
        data: { runId, taskRunIds: ids.slice(i, i + MAX_ABORT_TASK_RUN_IDS), reason },
      });
    }
  }
  return events;
}

/** Events per `bus.publish` call in {@link publishAll}. */
export const PUBLISH_CHUNK = 1000;

/**
 * Publishes `events` in order, {@link PUBLISH_CHUNK} per `bus.publish`: a 100,000-task fan-out would otherwise
 * build 100,000 envelopes and their JSON in memory at once.
 */
export async function publishAll(
  bus: { publish(events: ReadonlyArray<OutgoingEvent>): Promise<string[]> },
  events: readonly OutgoingEvent[],
): Promise<void> {
  for (let i = 0; i < events.length; i += PUBLISH_CHUNK) {
    await bus.publish(events.slice(i, i + PUBLISH_CHUNK));
  }
}

/**
 * Publishes the events of `rows` {@link PUBLISH_CHUNK} rows at a time, building each chunk's events only
 * after the previous chunk is published: memory follows the chunk, not the fan-out.
 */
export async function publishRows<T>(
  bus: { publish(events: ReadonlyArray<OutgoingEvent>): Promise<string[]> },
  rows: readonly T[],
  toEvents: (chunk: readonly T[]) => OutgoingEvent[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += PUBLISH_CHUNK) {
    await bus.publish(toEvents(rows.slice(i, i + PUBLISH_CHUNK)));
  }
}
