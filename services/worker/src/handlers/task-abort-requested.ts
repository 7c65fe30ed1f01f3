import type { Envelope } from '@relay/contracts';

/** What handling TaskAbortRequested needs from the worker. */
export interface TaskAbortRequestedDeps {
  /** Aborts the listed attempts held here (others are ignored); returns how many were aborted. */
  abort: (taskRunIds: readonly string[], reason: string) => number;
}

/** TaskAbortRequested (broadcast to every worker): aborts the listed task runs this worker holds. */
export function handleTaskAbortRequested(
  event: Envelope<'TaskAbortRequested'>,
  deps: TaskAbortRequestedDeps,
): number {
  return deps.abort(event.data.taskRunIds, event.data.reason);
}
