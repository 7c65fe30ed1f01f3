export { assertNever, IllegalTransitionError, InvalidRetryInputError, UnreachableError } from './errors.js';
export {
  type Backoff,
  backoffBounds,
  decideRetry,
  type NoRetryReason,
  type RetryDecision,
  type RetryInput,
} from './retry.js';
export { runStatusFrom, type TaskRunSummary } from './run-status.js';
export {
  isFinal,
  isRunState,
  isTaskState,
  isTerminal,
  RUN_STATES,
  type RunState,
  remainingAttempts,
  TASK_STATES,
  type TaskState,
} from './states.js';
export {
  ACTORS,
  type Actor,
  canTransition,
  initialState,
  TASK_TRANSITIONS,
  type TaskEvent,
  type TaskTransition,
  type TransitionCause,
  transition,
} from './transitions.js';
