import type { ServiceName } from './streams.js';

/** One service's share of the writes to a column: which rows or transitions it writes. */
export interface ColumnWrite {
  service: ServiceName;
  when: string;
}

const INGEST_APPLY = 'apply (POST /workflows)';
const INGEST_RUN = 'insert (POST /workflows/:id/runs, POST /events)';
const SCHEDULER_CREATE = 'create the task runs on RunStarted';
const SCHEDULER_TICK = 'insert for an on.schedule tick it claimed';

/**
 * Who writes each `table.column` of infra/migrations. A column has one writer, except
 * `runs.status` (ingest inserts, the scheduler finishes), the columns of a run's insert (ingest for the
 * API and events, the scheduler for on.schedule ticks) and the task_runs columns that follow the task
 * run lifecycle, where each writer owns the transitions listed.
 */
export const COLUMN_WRITERS: Readonly<Record<string, readonly ColumnWrite[]>> = {
  'workflows.id': [{ service: 'ingest', when: INGEST_APPLY }],
  'workflows.name': [{ service: 'ingest', when: INGEST_APPLY }],
  'workflows.definition': [{ service: 'ingest', when: `${INGEST_APPLY}: the current version` }],
  'workflows.created_at': [{ service: 'ingest', when: 'insert (default now())' }],
  'workflows.updated_at': [{ service: 'ingest', when: 'update (trigger workflows_updated_at)' }],
  'workflows.version': [{ service: 'ingest', when: `${INGEST_APPLY}: +1 when the definition changes` }],

  'workflow_versions.workflow_id': [{ service: 'ingest', when: INGEST_APPLY }],
  'workflow_versions.version': [{ service: 'ingest', when: INGEST_APPLY }],
  'workflow_versions.definition': [{ service: 'ingest', when: `${INGEST_APPLY}: never updated` }],
  'workflow_versions.created_at': [{ service: 'ingest', when: 'insert (default now())' }],

  'tasks.id': [{ service: 'ingest', when: INGEST_APPLY }],
  'tasks.workflow_id': [{ service: 'ingest', when: INGEST_APPLY }],
  'tasks.name': [{ service: 'ingest', when: INGEST_APPLY }],
  'tasks.config': [{ service: 'ingest', when: INGEST_APPLY }],
  'tasks.requires_approval': [{ service: 'ingest', when: INGEST_APPLY }],

  'dependencies.id': [{ service: 'ingest', when: 'insert (serial)' }],
  'dependencies.workflow_id': [{ service: 'ingest', when: INGEST_APPLY }],
  'dependencies.task_id': [{ service: 'ingest', when: INGEST_APPLY }],
  'dependencies.depends_on_task_id': [{ service: 'ingest', when: INGEST_APPLY }],

  'runs.id': [
    { service: 'ingest', when: INGEST_RUN },
    { service: 'scheduler', when: SCHEDULER_TICK },
  ],
  'runs.workflow_id': [
    { service: 'ingest', when: INGEST_RUN },
    { service: 'scheduler', when: SCHEDULER_TICK },
  ],
  'runs.status': [
    { service: 'ingest', when: 'insert as RUNNING' },
    { service: 'scheduler', when: `${SCHEDULER_TICK}, as RUNNING` },
    { service: 'scheduler', when: 'RUNNING -> SUCCESS | FAILED | CANCELLED' },
  ],
  'runs.input': [
    { service: 'ingest', when: INGEST_RUN },
    { service: 'scheduler', when: `${SCHEDULER_TICK}: {"scheduledAt": tick}` },
  ],
  'runs.started_at': [
    { service: 'ingest', when: 'insert (default now())' },
    { service: 'scheduler', when: `${SCHEDULER_TICK} (default now())` },
  ],
  'runs.finished_at': [{ service: 'scheduler', when: 'when the run finishes' }],
  'runs.workflow_version': [
    { service: 'ingest', when: `${INGEST_RUN}: the version it pins` },
    { service: 'scheduler', when: `${SCHEDULER_TICK}: the current version` },
  ],
  'runs.remaining_tasks': [
    { service: 'scheduler', when: 'set on RunStarted, -1 per task success (guarded by propagated_at)' },
  ],
  'runs.cancel_requested_at': [{ service: 'ingest', when: 'POST /runs/:id/cancel' }],
  'runs.cancel_reason': [
    { service: 'ingest', when: 'POST /runs/:id/cancel with a reason (the first one given is kept)' },
  ],
  'runs.error': [
    {
      service: 'scheduler',
      when: 'when the run fails, or is cancelled with a reason ("cancelled: <reason>")',
    },
  ],

  'task_runs.id': [{ service: 'scheduler', when: SCHEDULER_CREATE }],
  'task_runs.run_id': [{ service: 'scheduler', when: SCHEDULER_CREATE }],
  'task_runs.task_id': [{ service: 'scheduler', when: SCHEDULER_CREATE }],
  'task_runs.workflow_id': [{ service: 'scheduler', when: SCHEDULER_CREATE }],
  'task_runs.status': [
    {
      service: 'scheduler',
      when: 'creation (PENDING / READY / BLOCKED), PENDING -> READY / BLOCKED, BLOCKED -> READY, BLOCKED -> FAILED, FAILED -> READY (retry), any unfinished -> CANCELLED',
    },
    { service: 'dispatcher', when: 'READY -> QUEUED' },
    {
      service: 'worker',
      when: 'QUEUED -> RUNNING, RUNNING -> SUCCESS / FAILED, RUNNING -> READY (hand-back) or FAILED (hand-back of the last attempt)',
    },
    {
      service: 'reaper',
      when: 'RUNNING -> FAILED (stale heartbeat; the scheduler retries it like any failure)',
    },
  ],
  'task_runs.attempt': [{ service: 'dispatcher', when: 'READY -> QUEUED: +1' }],
  'task_runs.input': [{ service: 'worker', when: 'QUEUED -> RUNNING: the resolved `with`' }],
  'task_runs.output': [{ service: 'worker', when: 'RUNNING -> SUCCESS' }],
  'task_runs.error': [
    { service: 'scheduler', when: 'BLOCKED -> FAILED (rejection reason)' },
    { service: 'worker', when: 'RUNNING -> FAILED' },
    { service: 'reaper', when: 'RUNNING -> FAILED (worker lost)' },
  ],
  'task_runs.started_at': [{ service: 'worker', when: 'QUEUED -> RUNNING' }],
  'task_runs.finished_at': [
    { service: 'scheduler', when: 'BLOCKED -> FAILED, -> CANCELLED' },
    { service: 'worker', when: 'RUNNING -> SUCCESS / FAILED' },
    { service: 'reaper', when: 'RUNNING -> FAILED' },
  ],
  'task_runs.heartbeat_at': [{ service: 'worker', when: 'QUEUED -> RUNNING, then every heartbeat interval' }],
  'task_runs.created_at': [{ service: 'scheduler', when: `${SCHEDULER_CREATE} (default now())` }],
  'task_runs.queue': [{ service: 'scheduler', when: SCHEDULER_CREATE }],
  'task_runs.max_attempts': [{ service: 'scheduler', when: `${SCHEDULER_CREATE}: retries + 1` }],
  'task_runs.pending_needs': [
    { service: 'scheduler', when: `${SCHEDULER_CREATE}, -1 per need that succeeds` },
  ],
  'task_runs.ready_at': [
    { service: 'scheduler', when: '-> READY: now() (a retry: now() + backoff)' },
    { service: 'worker', when: 'RUNNING -> READY hand-back: now()' },
  ],
  'task_runs.queued_at': [{ service: 'dispatcher', when: 'READY -> QUEUED' }],
  'task_runs.worker_id': [
    { service: 'worker', when: 'QUEUED -> RUNNING (set), RUNNING -> READY hand-back (cleared)' },
  ],
  'task_runs.propagated_at': [{ service: 'scheduler', when: "once, when the task's SUCCESS is applied" }],
  'task_runs.decided_by': [{ service: 'scheduler', when: 'TaskApproved / TaskRejected' }],
  'task_runs.retryable': [
    { service: 'worker', when: 'RUNNING -> FAILED: whether a retry is allowed' },
    { service: 'reaper', when: 'RUNNING -> FAILED (worker lost): true' },
  ],
  'task_runs.reconciled_at': [
    { service: 'reaper', when: "the reconciler re-published the row's lost event" },
  ],
  'runs.reconciled_at': [{ service: 'reaper', when: "the reconciler re-published the run's lost event" }],

  'schedule_ticks.workflow_id': [{ service: 'scheduler', when: 'claims an on.schedule tick, once per tick' }],
  'schedule_ticks.tick_at': [{ service: 'scheduler', when: 'claims an on.schedule tick' }],
  'schedule_ticks.run_id': [{ service: 'scheduler', when: 'claims an on.schedule tick: the run it starts' }],
  'schedule_ticks.claimed_at': [{ service: 'scheduler', when: 'insert (default now())' }],

  'task_decisions.task_run_id': [
    { service: 'ingest', when: 'approve / reject of a BLOCKED task, before TaskApproved / TaskRejected' },
  ],
  'task_decisions.decision': [
    { service: 'ingest', when: 'APPROVED / REJECTED; the first decision stands (a later one is a 409)' },
  ],
  'task_decisions.decided_by': [{ service: 'ingest', when: 'approve / reject: `by`' }],
  'task_decisions.reason': [{ service: 'ingest', when: 'reject: `reason`' }],
  'task_decisions.decided_at': [{ service: 'ingest', when: 'approve / reject (now())' }],

  'events.id': [{ service: 'ingest', when: 'POST /events with an id, once per id' }],
  'events.type': [{ service: 'ingest', when: 'POST /events with an id' }],
  'events.payload': [{ service: 'ingest', when: 'POST /events with an id' }],
  'events.run_ids': [{ service: 'ingest', when: 'POST /events with an id: the runs it started' }],
  'events.received_at': [{ service: 'ingest', when: 'insert (default now())' }],

  'task_attempts.task_run_id': [
    { service: 'worker', when: 'RUNNING -> SUCCESS / FAILED / READY (hand-back), same statement' },
    { service: 'reaper', when: 'RUNNING -> FAILED (stale heartbeat), same statement' },
  ],
  'task_attempts.attempt': [
    { service: 'worker', when: "with the attempt's end" },
    { service: 'reaper', when: "with the attempt's end" },
  ],
  'task_attempts.status': [
    { service: 'worker', when: 'SUCCESS / FAILED / HANDED_BACK' },
    { service: 'reaper', when: 'LOST' },
  ],
  'task_attempts.worker_id': [
    { service: 'worker', when: "with the attempt's end" },
    { service: 'reaper', when: "with the attempt's end" },
  ],
  'task_attempts.started_at': [
    { service: 'worker', when: "with the attempt's end" },
    { service: 'reaper', when: "with the attempt's end" },
  ],
  'task_attempts.finished_at': [
    { service: 'worker', when: "with the attempt's end (default now())" },
    { service: 'reaper', when: "with the attempt's end (default now())" },
  ],
  'task_attempts.error': [
    { service: 'worker', when: 'FAILED' },
    { service: 'reaper', when: 'LOST' },
  ],

  'artifacts.id': [{ service: 'worker', when: 'insert, with the task result' }],
  'artifacts.task_run_id': [{ service: 'worker', when: 'insert, with the task result' }],
  'artifacts.content': [{ service: 'worker', when: 'insert, with the task result' }],
  'artifacts.content_type': [{ service: 'worker', when: 'insert, with the task result' }],
  'artifacts.created_at': [{ service: 'worker', when: 'insert (default now())' }],
};
