import type { Bus, OutgoingEvent } from '@relay/bus';
import { faultPoint, type Logger } from '@relay/runtime';
import type { DispatcherMetrics } from './metrics.js';
import type { DispatcherRepository, QueuedTaskRun } from './repository.js';

/** What dispatching needs. */
export interface DispatchDeps {
  repo: DispatcherRepository;
  bus: Pick<Bus, 'publish' | 'delayed'>;
  logger: Logger;
  metrics: DispatcherMetrics;
  /** Tells the delayed poller an item due at `dueAtMs` was added (it may need to wake earlier). */
  notifyDelayed: (dueAtMs: number) => void;
  now: () => number;
}

/** TaskQueued for each queued task_run; the bus routes each to its queue's work stream. */
export function taskQueuedEvents(rows: readonly QueuedTaskRun[]): OutgoingEvent[] {
  return rows.map((r) => ({
    type: 'TaskQueued',
    data: {
      runId: r.runId,
      taskId: r.taskId,
      taskRunId: r.id,
      attempt: r.attempt,
      queue: r.queue,
      workflowId: r.workflowId,
      workflowVersion: r.workflowVersion,
    },
  }));
}

/** Adds members to the delayed set and wakes the poller for the earliest. */
export async function delay(items: { member: string; dueAtMs: number }[], deps: DispatchDeps): Promise<void> {
  if (items.length === 0) return;
  await deps.bus.delayed.add(items);
  deps.notifyDelayed(Math.min(...items.map((i) => i.dueAtMs)));
}

/**
 * Queues the due task_runs among `ids` (one UPDATE) and publishes their TaskQueued (one pipeline).
 * Ids that stay READY with a `ready_at` in a RUNNING run go to the delayed set, due when the database
 * clock says (at once if it came due after the UPDATE looked); others that match nothing are duplicates
 * or no longer READY and are dropped, except that for
 * `redelivered` ids found QUEUED the TaskQueued is published again (a crash may have lost it; the
 * worker's claim is fenced on the attempt, so a duplicate is harmless).
 */
export async function dispatchTaskRuns(
  ids: readonly string[],
  deps: DispatchDeps,
  redelivered: ReadonlySet<string> = new Set(),
): Promise<number> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return 0;
  const queued = await deps.repo.queueTaskRuns(unique);
  const moved = new Set(queued.map((r) => r.id));
  const unmatched = unique.filter((id) => !moved.has(id));
  const notYetDue = await deps.repo.listNotYetDue(unmatched);
  const now = deps.now();
  await delay(
    notYetDue.map((r) => ({ member: r.id, dueAtMs: now + r.waitMs })),
    deps,
  );
  const early = new Set(notYetDue.map((r) => r.id));
  const again = await deps.repo.listQueued(unmatched.filter((id) => redelivered.has(id) && !early.has(id)));
  const events = taskQueuedEvents([...queued, ...again]);
  if (queued.length > 0) faultPoint('dispatcher.after-commit');
  if (events.length > 0) await deps.bus.publish(events);
  deps.metrics.dispatched.inc(queued.length);
  if (queued.length > 0)
    deps.logger.debug({ queued: queued.length, delayed: notYetDue.length }, 'tasks dispatched');
  return queued.length;
}
