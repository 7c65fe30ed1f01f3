import * as v from 'valibot';
import {
  IdSchema,
  MAX_ERROR_LENGTH,
  MAX_OPAQUE_ID_LENGTH,
  MAX_TEXT_LENGTH,
  OpaqueIdSchema,
  PositiveIntegerSchema,
  TimestampSchema,
  textSchema,
} from './fields.js';

/** Every event type, in the order a run meets them. */
export const EVENT_TYPES = [
  'RunStarted',
  'RunCancelRequested',
  'TaskApproved',
  'TaskRejected',
  'TaskReady',
  'TaskQueued',
  'TaskStarted',
  'TaskSucceeded',
  'TaskFailed',
  'HeartbeatMissed',
  'TaskAbortRequested',
  'RunFinished',
] as const;

/** The name of an event, e.g. `'TaskSucceeded'`. */
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Most task run ids one TaskAbortRequested carries, so that the event stays far below
 * MAX_EVENT_BYTES; a publisher with more splits them over several events.
 */
export const MAX_ABORT_TASK_RUN_IDS = 100;

const taskAttempt = {
  runId: OpaqueIdSchema,
  taskId: IdSchema,
  taskRunId: OpaqueIdSchema,
  attempt: PositiveIntegerSchema,
};

/** ingest -> scheduler: a run row exists (status RUNNING); create its task_runs. */
export const RunStartedSchema = v.pipe(
  v.strictObject({ runId: OpaqueIdSchema, workflowId: IdSchema, workflowVersion: PositiveIntegerSchema }),
  v.description('A run was created by ingest; the scheduler creates its task runs.'),
);
/** Data of a RunStarted event. */
export type RunStarted = v.InferOutput<typeof RunStartedSchema>;

/** ingest -> scheduler: cancel a run (runs.cancel_requested_at is set). */
export const RunCancelRequestedSchema = v.pipe(
  v.strictObject({ runId: OpaqueIdSchema, reason: v.optional(textSchema(MAX_TEXT_LENGTH)) }),
  v.description('A user asked to cancel a run; the scheduler cancels its unfinished tasks.'),
);
/** Data of a RunCancelRequested event. */
export type RunCancelRequested = v.InferOutput<typeof RunCancelRequestedSchema>;

/** ingest -> scheduler: a BLOCKED task was approved. */
export const TaskApprovedSchema = v.pipe(
  v.strictObject({
    runId: OpaqueIdSchema,
    taskId: IdSchema,
    by: v.optional(textSchema(MAX_OPAQUE_ID_LENGTH)),
  }),
  v.description('A BLOCKED task was approved; the scheduler makes it READY.'),
);
/** Data of a TaskApproved event. */
export type TaskApproved = v.InferOutput<typeof TaskApprovedSchema>;

/** ingest -> scheduler: a BLOCKED task was rejected (it fails, the run fails). */
export const TaskRejectedSchema = v.pipe(
  v.strictObject({
    runId: OpaqueIdSchema,
    taskId: IdSchema,
    by: v.optional(textSchema(MAX_OPAQUE_ID_LENGTH)),
    reason: v.optional(textSchema(MAX_TEXT_LENGTH)),
  }),
  v.description('A BLOCKED task was rejected; the scheduler fails it and its run.'),
);
/** Data of a TaskRejected event. */
export type TaskRejected = v.InferOutput<typeof TaskRejectedSchema>;

/** scheduler, reaper, worker (hand-back) -> dispatcher: a task run is READY. */
export const TaskReadySchema = v.pipe(
  v.strictObject({
    runId: OpaqueIdSchema,
    taskId: IdSchema,
    taskRunId: OpaqueIdSchema,
    queue: IdSchema,
    notBefore: v.optional(TimestampSchema),
  }),
  v.description('A task run is READY; the dispatcher queues it once notBefore (if any) has passed.'),
);
/** Data of a TaskReady event. */
export type TaskReady = v.InferOutput<typeof TaskReadySchema>;

/** dispatcher -> worker: the work message on `P:work:<queue>`. */
export const TaskQueuedSchema = v.pipe(
  v.strictObject({
    ...taskAttempt,
    queue: IdSchema,
    workflowId: IdSchema,
    workflowVersion: PositiveIntegerSchema,
  }),
  v.description('The work message: the dispatcher moved the task run READY -> QUEUED for this attempt.'),
);
/** Data of a TaskQueued event. */
export type TaskQueued = v.InferOutput<typeof TaskQueuedSchema>;

/** worker -> observers: the worker moved the task run QUEUED -> RUNNING. */
export const TaskStartedSchema = v.pipe(
  v.strictObject({ ...taskAttempt, workerId: OpaqueIdSchema }),
  v.description('A worker claimed the attempt (QUEUED -> RUNNING).'),
);
/** Data of a TaskStarted event. */
export type TaskStarted = v.InferOutput<typeof TaskStartedSchema>;

/** worker -> scheduler: the attempt succeeded (its output is in task_runs.output). */
export const TaskSucceededSchema = v.pipe(
  v.strictObject({
    ...taskAttempt,
    // The run's pinned definition, as the work message carried it: with both, the scheduler plans
    // the dependents before its single propagation statement instead of reading the run first.
    workflowId: v.optional(IdSchema),
    workflowVersion: v.optional(PositiveIntegerSchema),
  }),
  v.description(
    'The attempt succeeded; its output stays in Postgres (task_runs.output). workflowId and workflowVersion, when present, name the definition the run pinned.',
  ),
);
/** Data of a TaskSucceeded event. */
export type TaskSucceeded = v.InferOutput<typeof TaskSucceededSchema>;

/** worker -> scheduler: the attempt failed. */
export const TaskFailedSchema = v.pipe(
  v.strictObject({ ...taskAttempt, error: textSchema(MAX_ERROR_LENGTH), retryable: v.boolean() }),
  v.description('The attempt failed; retryable = false forbids a retry whatever attempts are left.'),
);
/** Data of a TaskFailed event. */
export type TaskFailed = v.InferOutput<typeof TaskFailedSchema>;

/** reaper -> scheduler: a RUNNING attempt's heartbeat went stale. */
export const HeartbeatMissedSchema = v.pipe(
  v.strictObject({ ...taskAttempt, outcome: v.picklist(['REQUEUED', 'FAILED']) }),
  v.description(
    'The reaper found a stale heartbeat. FAILED: it failed the attempt ("worker lost", retryable); the scheduler retries it after its backoff when attempts are left, else fails the run. REQUEUED: from older reapers, which re-queued the task themselves; nothing to do.',
  ),
);
/** Data of a HeartbeatMissed event. */
export type HeartbeatMissed = v.InferOutput<typeof HeartbeatMissedSchema>;

/** scheduler -> every worker (broadcast): stop these RUNNING attempts. */
export const TaskAbortRequestedSchema = v.pipe(
  v.strictObject({
    runId: OpaqueIdSchema,
    taskRunIds: v.pipe(
      v.array(OpaqueIdSchema),
      v.nonEmpty('must not be empty'),
      v.maxLength(MAX_ABORT_TASK_RUN_IDS, `must hold at most ${MAX_ABORT_TASK_RUN_IDS} ids`),
    ),
    reason: v.picklist(['CANCELLED', 'RUN_FAILED', 'SUPERSEDED']),
  }),
  v.description('Workers holding any of these task runs abort their handlers.'),
);
/** Data of a TaskAbortRequested event. */
export type TaskAbortRequested = v.InferOutput<typeof TaskAbortRequestedSchema>;

/** scheduler -> observers: the run reached a terminal status. */
export const RunFinishedSchema = v.pipe(
  v.strictObject({
    runId: OpaqueIdSchema,
    workflowId: IdSchema,
    status: v.picklist(['SUCCESS', 'FAILED', 'CANCELLED']),
    error: v.optional(textSchema(MAX_ERROR_LENGTH)),
  }),
  v.description('The run reached a terminal status.'),
);
/** Data of a RunFinished event. */
export type RunFinished = v.InferOutput<typeof RunFinishedSchema>;

/** The catalog: event type -> schema of its `data`. */
export const EventDataSchemas = {
  RunStarted: RunStartedSchema,
  RunCancelRequested: RunCancelRequestedSchema,
  TaskApproved: TaskApprovedSchema,
  TaskRejected: TaskRejectedSchema,
  TaskReady: TaskReadySchema,
  TaskQueued: TaskQueuedSchema,
  TaskStarted: TaskStartedSchema,
  TaskSucceeded: TaskSucceededSchema,
  TaskFailed: TaskFailedSchema,
  HeartbeatMissed: HeartbeatMissedSchema,
  TaskAbortRequested: TaskAbortRequestedSchema,
  RunFinished: RunFinishedSchema,
} as const satisfies { [K in EventType]: v.GenericSchema };

/** The `data` of an event of type `K`. */
export type EventData<K extends EventType> = v.InferOutput<(typeof EventDataSchemas)[K]>;

/** Whether `value` names a known event type. */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}
