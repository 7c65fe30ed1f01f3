import { assertNever, IllegalTransitionError } from './errors.js';
import type { TaskState } from './states.js';

/** The services that write task states (see ARCHITECTURE.md, "Task run lifecycle"). */
export const ACTORS = ['scheduler', 'dispatcher', 'worker', 'reaper'] as const;

/** A service that writes task states. */
export type Actor = (typeof ACTORS)[number];

/**
 * What changes a task's state. `RunStarted` creates the row (see {@link initialState}); the others
 * apply to an existing row through {@link transition}:
 * - `NeedsMet`: the last unfinished need succeeded (scheduler, on TaskSucceeded);
 * - `TaskApproved` / `TaskRejected`: the approval decision on a BLOCKED task (scheduler);
 * - `TaskQueued`: the dispatcher queued the task (on TaskReady, once `ready_at` passed; `attempt += 1`);
 * - `TaskClaimed`: a worker claimed the work message of the current attempt;
 * - `TaskSucceeded` / `TaskFailed`: the handler's result (worker, fenced on attempt);
 * - `TaskHandedBack`: a worker gave the task back on SIGTERM;
 * - `HeartbeatMissed`: the reaper found the heartbeat stale and failed the attempt (`worker lost`;
 *   the scheduler then retries it like any failed attempt, after its backoff, when attempts are left);
 * - `RetryScheduled`: the scheduler retries a failed attempt (`ready_at = now() + backoff`);
 * - `RunAborted`: the run failed or was cancelled, so every unfinished task is cancelled.
 */
export type TaskEvent =
  | { readonly type: 'NeedsMet'; readonly requiresApproval: boolean }
  | { readonly type: 'TaskApproved' }
  | { readonly type: 'TaskRejected' }
  | { readonly type: 'TaskQueued' }
  | { readonly type: 'TaskClaimed' }
  | { readonly type: 'TaskSucceeded' }
  | { readonly type: 'TaskFailed' }
  | { readonly type: 'TaskHandedBack' }
  | { readonly type: 'HeartbeatMissed' }
  | { readonly type: 'RetryScheduled' }
  | { readonly type: 'RunAborted' };

/** The type of a {@link TaskEvent}, or `RunStarted` for the creation of the row. */
export type TransitionCause = TaskEvent['type'] | 'RunStarted';

/** One allowed move of a task run; `from: null` is the creation of the row. */
export interface TaskTransition {
  readonly from: TaskState | null;
  readonly to: TaskState;
  readonly by: Actor;
  readonly on: TransitionCause;
}

// FAILED: an attempt that would be retried (retryable, attempts left) when the run ends first; the
// retry will not come, and FAILED would say that no attempt was left.
const CANCELLABLE = ['PENDING', 'READY', 'QUEUED', 'BLOCKED', 'RUNNING', 'FAILED'] as const;

/**
 * The task run lifecycle as data: every allowed (from, to, writer, cause). Only the listed writer
 * may perform a move, and writes are guarded on the expected `from` (and attempt) in SQL.
 */
export const TASK_TRANSITIONS: readonly TaskTransition[] = [
  { from: null, to: 'PENDING', by: 'scheduler', on: 'RunStarted' },
  { from: null, to: 'READY', by: 'scheduler', on: 'RunStarted' },
  { from: null, to: 'BLOCKED', by: 'scheduler', on: 'RunStarted' },
  { from: 'PENDING', to: 'READY', by: 'scheduler', on: 'NeedsMet' },
  { from: 'PENDING', to: 'BLOCKED', by: 'scheduler', on: 'NeedsMet' },
  { from: 'BLOCKED', to: 'READY', by: 'scheduler', on: 'TaskApproved' },
  { from: 'BLOCKED', to: 'FAILED', by: 'scheduler', on: 'TaskRejected' },
  { from: 'READY', to: 'QUEUED', by: 'dispatcher', on: 'TaskQueued' },
  { from: 'QUEUED', to: 'RUNNING', by: 'worker', on: 'TaskClaimed' },
  { from: 'RUNNING', to: 'SUCCESS', by: 'worker', on: 'TaskSucceeded' },
  { from: 'RUNNING', to: 'FAILED', by: 'worker', on: 'TaskFailed' },
  { from: 'RUNNING', to: 'READY', by: 'worker', on: 'TaskHandedBack' },
  { from: 'RUNNING', to: 'FAILED', by: 'reaper', on: 'HeartbeatMissed' },
  { from: 'FAILED', to: 'READY', by: 'scheduler', on: 'RetryScheduled' },
  ...CANCELLABLE.map(
    (from): TaskTransition => ({ from, to: 'CANCELLED', by: 'scheduler', on: 'RunAborted' }),
  ),
];

const key = (from: TaskState | null, to: TaskState, by?: Actor, on?: TransitionCause) =>
  `${from ?? '(none)'}>${to}>${by ?? ''}>${on ?? ''}`;

// Every row is indexed with and without its writer, so that both forms of canTransition are O(1).
const ALLOWED: ReadonlySet<string> = new Set(
  TASK_TRANSITIONS.flatMap((t) => [
    key(t.from, t.to),
    key(t.from, t.to, t.by),
    key(t.from, t.to, t.by, t.on),
  ]),
);

/**
 * Whether the table allows moving a task from `from` (`null`: creating the row) to `to`, by
 * writer `by` when given.
 */
export function canTransition(from: TaskState | null, to: TaskState, by?: Actor): boolean {
  return ALLOWED.has(key(from, to, by));
}

/** The state a task run is created in when its run starts. */
export function initialState(task: {
  readonly hasNeeds: boolean;
  readonly requiresApproval: boolean;
}): TaskState {
  if (task.hasNeeds) return 'PENDING';
  return task.requiresApproval ? 'BLOCKED' : 'READY';
}

/**
 * Applies `event` to a task in `state` and returns the new state; the move must be a row of
 * {@link TASK_TRANSITIONS}.
 * @throws IllegalTransitionError when the event does not apply to `state`.
 */
export function transition(state: TaskState, event: TaskEvent): TaskState {
  const { to, by } = targetOf(event);
  if (!ALLOWED.has(key(state, to, by, event.type))) throw new IllegalTransitionError(state, event.type);
  return to;
}

/** The state an event leads to and the writer that applies it. */
function targetOf(event: TaskEvent): { to: TaskState; by: Actor } {
  switch (event.type) {
    case 'NeedsMet':
      return { to: event.requiresApproval ? 'BLOCKED' : 'READY', by: 'scheduler' };
    case 'TaskApproved':
      return { to: 'READY', by: 'scheduler' };
    case 'TaskRejected':
      return { to: 'FAILED', by: 'scheduler' };
    case 'TaskQueued':
      return { to: 'QUEUED', by: 'dispatcher' };
    case 'TaskClaimed':
      return { to: 'RUNNING', by: 'worker' };
    case 'TaskSucceeded':
      return { to: 'SUCCESS', by: 'worker' };
    case 'TaskFailed':
      return { to: 'FAILED', by: 'worker' };
    case 'TaskHandedBack':
      return { to: 'READY', by: 'worker' };
    case 'HeartbeatMissed':
      return { to: 'FAILED', by: 'reaper' };
    case 'RetryScheduled':
      return { to: 'READY', by: 'scheduler' };
    case 'RunAborted':
      return { to: 'CANCELLED', by: 'scheduler' };
    default:
      return assertNever(event);
  }
}
