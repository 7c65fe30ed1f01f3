import { isFinal, type RunState, remainingAttempts, type TaskState } from './states.js';

/** What {@link runStatusFrom} needs to know of each task run. */
export interface TaskRunSummary {
  readonly status: TaskState;
  /** Attempts made so far (0 before the first dispatch). */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** False when the failure allows no retry (a rejected approval); defaults to true. */
  readonly retryable?: boolean;
}

/**
 * The status of a run from its tasks (SPEC section 4), checked in this order:
 * 1. every task SUCCESS -> SUCCESS (an empty list too: nothing is left to do);
 * 2. any task FAILED for good (no attempts left, or not retryable) -> FAILED;
 * 3. cancellation requested -> CANCELLED;
 * 4. otherwise RUNNING (a FAILED task with attempts left is about to be retried).
 */
export function runStatusFrom(
  tasks: readonly TaskRunSummary[],
  opts: { readonly cancelRequested: boolean },
): RunState {
  if (tasks.every((t) => t.status === 'SUCCESS')) return 'SUCCESS';
  const failedForGood = tasks.some(
    (t) =>
      t.status === 'FAILED' &&
      isFinal(t.status, remainingAttempts(t.attempt, t.maxAttempts), t.retryable ?? true),
  );
  if (failedForGood) return 'FAILED';
  if (opts.cancelRequested) return 'CANCELLED';
  return 'RUNNING';
}
