/** Every state of a `task_runs` row (the schema's CHECK constraint, in lifecycle order). */
export const TASK_STATES = [
  'PENDING',
  'READY',
  'QUEUED',
  'RUNNING',
  'SUCCESS',
  'FAILED',
  'BLOCKED',
  'CANCELLED',
] as const;

/** State of one task run: see `TASK_TRANSITIONS` for how it moves. */
export type TaskState = (typeof TASK_STATES)[number];

/** Every state of a `runs` row (the schema's CHECK constraint). */
export const RUN_STATES = ['RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED'] as const;

/** State of one run: RUNNING until it succeeds, fails or is cancelled. */
export type RunState = (typeof RUN_STATES)[number];

const TASK_STATE_SET: ReadonlySet<string> = new Set(TASK_STATES);
const RUN_STATE_SET: ReadonlySet<string> = new Set(RUN_STATES);

/** Whether `value` is a task state (for rows and messages read from outside). */
export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && TASK_STATE_SET.has(value);
}

/** Whether `value` is a run state. */
export function isRunState(value: unknown): value is RunState {
  return typeof value === 'string' && RUN_STATE_SET.has(value);
}

/**
 * Whether no transition leaves `state`: SUCCESS and CANCELLED. FAILED is not terminal, since a
 * retry moves it back to READY; whether a FAILED task is done for good depends on its attempts
 * left, which {@link isFinal} takes into account.
 */
export function isTerminal(state: TaskState): boolean {
  return state === 'SUCCESS' || state === 'CANCELLED';
}

/**
 * Whether the task will not change again as far as its run is concerned: a terminal state, or
 * FAILED with no attempts left or with a failure that is not retryable (a rejected approval, a
 * permanent error).
 */
export function isFinal(state: TaskState, attemptsLeft: number, retryable = true): boolean {
  return isTerminal(state) || (state === 'FAILED' && (attemptsLeft <= 0 || !retryable));
}

/** Attempts still allowed after `attempt` attempts out of `maxAttempts` (never negative). */
export function remainingAttempts(attempt: number, maxAttempts: number): number {
  return Math.max(0, maxAttempts - attempt);
}
