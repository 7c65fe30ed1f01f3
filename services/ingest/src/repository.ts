import type { Sql, TransactionSql } from '@relay/db';
import { canonicalDefinitionJson, type WorkflowDefinition } from '@relay/workflow';
import { withDeadline } from './deadline.js';

/** Run statuses as stored in `runs.status`. */
export const RUN_STATUSES = ['RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type ApplyStatus = 'created' | 'updated' | 'unchanged';

export interface WorkflowListItem {
  id: string;
  name: string;
  updatedAt: Date;
}

export interface WorkflowRecord {
  id: string;
  name: string;
  version: number;
  definition: WorkflowDefinition;
  createdAt: Date;
  updatedAt: Date;
}

export interface RunListItem {
  id: string;
  workflowId: string;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
}

/** Where a run stands in GET /runs' order (started_at DESC, id): its start in epoch µs, and its id. */
export interface RunPosition {
  startedAtMicros: string;
  id: string;
}

export interface RunRecord extends RunListItem {
  workflowVersion: number | null;
  input: unknown;
  error: string | null;
  cancelRequestedAt: Date | null;
  /** The task ids of the definition the run pinned (its `workflow_version`), in its order; null when that version is missing. */
  taskOrder: string[] | null;
}

/** The decision recorded for a task that required approval. */
export interface DecisionRecord {
  decision: 'APPROVED' | 'REJECTED';
  by: string | null;
  reason: string | null;
  decidedAt: Date;
}

export interface TaskRunRecord {
  taskId: string;
  status: string;
  attempt: number;
  output: string | null;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A run to insert: its id, its workflow and its input as JSON text (an object). */
export interface NewRun {
  id: string;
  workflowId: string;
  inputJson: string;
}

/** What a cancel request found: no run, a run not RUNNING (nothing written), or a run now marked. */
export type CancelOutcome =
  | { kind: 'missing' }
  | { kind: 'not-running'; status: RunStatus }
  | { kind: 'requested'; workflowId: string };

/** What an approve/reject request found, read in one statement. */
export type DecisionTarget =
  | { kind: 'missing-run' }
  | { kind: 'missing-task' }
  | {
      kind: 'found';
      runStatus: RunStatus;
      /** A cancel of the run was requested (it ends CANCELLED whatever is decided now). */
      cancelRequested: boolean;
      taskStatus: string | null;
      /** The task's recorded decision, if any. */
      decided: { decision: TaskDecision['decision']; by: string | null } | null;
    };

/** A run an event started, with what its RunStarted carries. */
export interface EventRun {
  id: string;
  workflowId: string;
  workflowVersion: number;
}

/**
 * What POST /events did: the runs it started now, or, for an id received before with the same type and
 * payload, the runs it started then (with those still waiting for their RunStarted to be applied), or a
 * conflict when that id came with another type or payload.
 */
export type EventOutcome =
  | { kind: 'started'; runs: EventRun[] }
  | { kind: 'replayed'; runIds: string[]; unannounced: EventRun[] }
  | { kind: 'conflict' };

/** The ingest slice of Postgres: workflows, workflow_versions, tasks, dependencies, runs (insert, cancel), events. */
export interface Repository {
  startEventRuns(event: { id?: string; type: string; payloadJson: string }): Promise<EventOutcome>;
  applyWorkflow(definition: WorkflowDefinition): Promise<{ status: ApplyStatus; version: number }>;
  listWorkflows(): Promise<WorkflowListItem[]>;
  findWorkflow(id: string): Promise<WorkflowRecord | null>;
  insertRuns(runs: readonly NewRun[]): Promise<Map<string, number>>;
  listRuns(filter: {
    workflowId?: string;
    status?: RunStatus;
    limit: number;
    after?: RunPosition;
  }): Promise<(RunListItem & { position: RunPosition })[]>;
  findRun(
    id: string,
  ): Promise<{ run: RunRecord; tasks: TaskRunRecord[]; decisions: Map<string, DecisionRecord> } | null>;
  requestCancel(runId: string, reason?: string): Promise<CancelOutcome>;
  findDecisionTarget(runId: string, taskId: string): Promise<DecisionTarget>;
  recordDecision(decision: TaskDecision): Promise<DecisionOutcome>;
}

/**
 * What recording a decision did: recorded (or the same decision was already recorded), refused because
 * the task already has the other decision, or nothing because the task is not (or no longer) BLOCKED in a
 * RUNNING run.
 */
export type DecisionOutcome =
  /** `by` and `reason` as recorded: the first request's, when two of the same decision race. */
  | { kind: 'recorded'; by: string | null; reason: string | null }
  | { kind: 'decided'; decision: TaskDecision['decision']; by: string | null }
  | { kind: 'not-blocked' };

/** An approval or rejection of a BLOCKED task, as ingest records it before announcing it. */
export interface TaskDecision {
  runId: string;
  taskId: string;
  decision: 'APPROVED' | 'REJECTED';
  by?: string;
  reason?: string;
}

/**
 * Builds the repository over a postgres.js client. Every call is bounded by `timeoutMs`: an unreachable or
 * stuck Postgres surfaces as DependencyUnavailableError (503), never as a hanging request.
 */
export function createRepository(sql: Sql, options: { timeoutMs: number }): Repository {
  const bounded = <T>(work: () => Promise<T>): Promise<T> =>
    withDeadline('postgres', options.timeoutMs, work);

  return {
    // One transaction serialized per workflow id (advisory xact lock): writes a new version only when the
    // canonical definition differs from the current one; an identical definition writes nothing at all.
    applyWorkflow: (definition) =>
      bounded(() =>
        sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtext(${definition.id}))`;
          // Every task and edge row written or deleted below fires its foreign keys' per-row queries (a
          // check per key on insert, the cascade to dependencies on delete), and the session's
          // force_custom_plan plans each of them again: applying a 10,000-task fan-out took 1.95 s, 1.68 s
          // of it in the two inserts. With `auto` for this transaction they run on cached plans. Every
          // statement here reads by key, so there is no plan to get wrong.
          await tx`SET LOCAL plan_cache_mode = auto`;
          const [current] = await tx<{ version: number; definition: WorkflowDefinition }[]>`
            SELECT version, definition FROM workflows WHERE id = ${definition.id}`;
          if (
            current &&
            canonicalDefinitionJson(current.definition) === canonicalDefinitionJson(definition)
          ) {
            return { status: 'unchanged' as const, version: current.version };
          }
          const version = current ? current.version + 1 : 1;
          const json = tx.json(definition as never);
          if (current) {
            await tx`
              UPDATE workflows SET name = ${definition.name}, definition = ${json}, version = ${version}
              WHERE id = ${definition.id}`;
            // Cascades to dependencies; task_runs no longer reference tasks (002), so history stays.
            await tx`DELETE FROM tasks WHERE workflow_id = ${definition.id}`;
          } else {
            await tx`
              INSERT INTO workflows (id, name, definition, version)
              VALUES (${definition.id}, ${definition.name}, ${json}, ${version})`;
          }
          await tx`
            INSERT INTO workflow_versions (workflow_id, version, definition)
            SELECT id, version, definition FROM workflows WHERE id = ${definition.id}`;
          await insertTasks(tx, definition.id);
          return { status: current ? ('updated' as const) : ('created' as const), version };
        }),
      ),

    // All workflows, by id.
    listWorkflows: () =>
      bounded(async () => {
        const rows = await sql<WorkflowListItem[]>`
          SELECT id, name, updated_at AS "updatedAt" FROM workflows ORDER BY id`;
        return [...rows];
      }),

    // The current version of one workflow, or null.
    findWorkflow: (id) =>
      bounded(async () => {
        const [row] = await sql<WorkflowRecord[]>`
          SELECT id, name, version, definition, created_at AS "createdAt", updated_at AS "updatedAt"
          FROM workflows WHERE id = ${id}`;
        return row ?? null;
      }),

    // One statement for a batch: each run pins its workflow's current version. remaining_tasks stays
    // NULL: the scheduler sets it with the run's task_runs, and a RUNNING run with NULL there is how
    // the reaper's reconciler finds a run whose RunStarted was lost. Returns run id -> pinned version;
    // a run whose workflow does not exist is not inserted and not in the map.
    insertRuns: (runs) =>
      bounded(async () => {
        const rows = await sql<{ id: string; workflowVersion: number }[]>`
          WITH w AS MATERIALIZED (
            SELECT id, version FROM workflows
            WHERE id = ANY(${[...new Set(runs.map((r) => r.workflowId))]}::text[])
          )
          INSERT INTO runs (id, workflow_id, status, input, workflow_version)
          SELECT r.id, w.id, 'RUNNING', r.input::jsonb, w.version
          FROM unnest(${runs.map((r) => r.id)}::text[], ${runs.map((r) => r.workflowId)}::text[],
                      ${runs.map((r) => r.inputJson)}::text[]) AS r(id, workflow_id, input)
          JOIN w ON w.id = r.workflow_id
          RETURNING id, workflow_version AS "workflowVersion"`;
        return new Map(rows.map((row) => [row.id, row.workflowVersion]));
      }),

    // One transaction: the event's id is claimed (a concurrent request with the same id waits on it and
    // then replays), and every workflow whose current definition has `on.event = type` gets a run pinned
    // to that version, with the payload as its input. The run ids are stored with the event.
    // The payload is bound as text and cast (`::text::jsonb`): a jsonb-typed parameter would be
    // JSON-encoded again, into a JSON string.
    startEventRuns: ({ id, type, payloadJson }) =>
      bounded(() =>
        sql.begin(async (tx): Promise<EventOutcome> => {
          if (id !== undefined) {
            const claimed = await tx`
              INSERT INTO events (id, type, payload, run_ids)
              VALUES (${id}, ${type}, ${payloadJson}::text::jsonb, '{}')
              ON CONFLICT (id) DO NOTHING
              RETURNING id`;
            if (claimed.length === 0) {
              const [prior] = await tx<{ same: boolean; run_ids: string[] }[]>`
                SELECT type = ${type} AND payload = ${payloadJson}::text::jsonb AS same, run_ids
                FROM events WHERE id = ${id}`;
              if (!prior?.same) return { kind: 'conflict' };
              const unannounced = await tx<EventRun[]>`
                SELECT id, workflow_id AS "workflowId", workflow_version AS "workflowVersion"
                FROM runs
                WHERE id = ANY(${prior.run_ids}::text[]) AND status = 'RUNNING' AND remaining_tasks IS NULL
                ORDER BY workflow_id`;
              return { kind: 'replayed', runIds: prior.run_ids, unannounced: [...unannounced] };
            }
          }
          const runs = await tx<EventRun[]>`
            INSERT INTO runs (id, workflow_id, status, input, workflow_version)
            SELECT gen_random_uuid()::text, w.id, 'RUNNING', ${payloadJson}::text::jsonb, w.version
            FROM workflows w
            WHERE w.definition -> 'on' ->> 'event' = ${type}
            ORDER BY w.id
            RETURNING id, workflow_id AS "workflowId", workflow_version AS "workflowVersion"`;
          const started = [...runs].sort((a, b) => (a.workflowId < b.workflowId ? -1 : 1));
          if (id !== undefined) {
            await tx`UPDATE events SET run_ids = ${started.map((r) => r.id)}::text[] WHERE id = ${id}`;
          }
          return { kind: 'started', runs: started };
        }),
      ),

    // Newest first (started_at DESC, then id for a stable order), filtered, at most `limit` rows, after
    // the `after` position when given (keyset: `started_at <= t` bounds the index scan, the rest filters).
    listRuns: ({ workflowId, status, limit, after }) =>
      bounded(async () => {
        const at =
          after && sql`'epoch'::timestamptz + ${after.startedAtMicros}::bigint * interval '1 microsecond'`;
        const rows = await sql<(RunListItem & { startedAtMicros: string })[]>`
          SELECT id, workflow_id AS "workflowId", status, started_at AS "startedAt", finished_at AS "finishedAt",
                 (extract(epoch FROM started_at) * 1000000)::bigint::text AS "startedAtMicros"
          FROM runs
          WHERE true
            ${workflowId === undefined ? sql`` : sql`AND workflow_id = ${workflowId}`}
            ${status === undefined ? sql`` : sql`AND status = ${status}`}
            ${at ? sql`AND started_at <= ${at} AND (started_at < ${at} OR id > ${after.id})` : sql``}
          ORDER BY started_at DESC, id
          LIMIT ${limit}`;
        return rows.map(({ startedAtMicros, ...run }) => ({
          ...run,
          position: { startedAtMicros, id: run.id },
        }));
      }),

    // One read-only repeatable-read transaction: the run, its pinned definition and its task_runs agree.
    findRun: (id) =>
      bounded(() =>
        sql.begin('isolation level repeatable read read only', async (tx) => {
          const [row] = await tx<(RunRecord & { approvalTasks: string[] })[]>`
            SELECT r.id, r.workflow_id AS "workflowId", r.workflow_version AS "workflowVersion", r.status,
                   r.input, r.error, r.started_at AS "startedAt", r.finished_at AS "finishedAt",
                   r.cancel_requested_at AS "cancelRequestedAt",
                   -- The task order only (a 20,000-task definition is 4 MB of JSON to send and parse), and
                   -- the tasks that wait for a decision (the only ones that can have one), in one pass.
                   CASE WHEN v.definition IS NOT NULL THEN d.ids END AS "taskOrder",
                   coalesce(d.gated, '{}') AS "approvalTasks"
            FROM runs r
            LEFT JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version
            LEFT JOIN LATERAL (
              SELECT coalesce(array_agg(e.t ->> 'id' ORDER BY e.n), '{}') AS ids,
                     array_agg(e.t ->> 'id') FILTER (WHERE e.t -> 'requiresApproval' = 'true') AS gated
              FROM jsonb_array_elements(v.definition -> 'tasks') WITH ORDINALITY AS e(t, n)
            ) d ON true
            WHERE r.id = ${id}`;
          if (!row) return null;
          const { approvalTasks, ...run } = row;
          const tasks = await tx<TaskRunRecord[]>`
            SELECT task_id AS "taskId", status, attempt, output, error,
                   started_at AS "startedAt", finished_at AS "finishedAt"
            FROM task_runs WHERE run_id = ${id}
            ORDER BY task_id`;
          const decisions = new Map<string, DecisionRecord>();
          if (approvalTasks.length > 0) {
            const rows = await tx<(DecisionRecord & { taskRunId: string })[]>`
              SELECT task_run_id AS "taskRunId", decision, decided_by AS by, reason, decided_at AS "decidedAt"
              FROM task_decisions WHERE task_run_id = ANY(${approvalTasks.map((task) => `${id}:${task}`)}::text[])`;
            for (const { taskRunId, ...decision } of rows) {
              decisions.set(taskRunId.slice(id.length + 1), decision);
            }
          }
          return { run, tasks: [...tasks], decisions };
        }),
      ),

    // One statement: sets cancel_requested_at (first request wins the timestamp) and cancel_reason (the
    // first reason given) only while the run is RUNNING; reports whether the run exists and its status
    // otherwise. Repeating it changes nothing.
    requestCancel: (runId, reason) =>
      bounded(async () => {
        const [row] = await sql<{ status: RunStatus; workflowId: string; marked: boolean }[]>`
          WITH target AS (
            SELECT id, status, workflow_id FROM runs WHERE id = ${runId}
          ), marked AS (
            UPDATE runs SET cancel_requested_at = coalesce(runs.cancel_requested_at, now()),
                            cancel_reason = coalesce(runs.cancel_reason, ${reason ?? null}::text)
            FROM target WHERE runs.id = target.id AND runs.status = 'RUNNING'
            RETURNING runs.id
          )
          SELECT target.status, target.workflow_id AS "workflowId", EXISTS (SELECT 1 FROM marked) AS marked
          FROM target`;
        if (!row) return { kind: 'missing' };
        if (row.marked) return { kind: 'requested', workflowId: row.workflowId };
        if (row.status !== 'RUNNING') return { kind: 'not-running', status: row.status };
        // The snapshot saw RUNNING but the UPDATE's re-check did not: the run finished (a cancel just
        // applied, most often) while this statement ran. Its committed status is the answer.
        const [current] = await sql<{ status: RunStatus }[]>`SELECT status FROM runs WHERE id = ${runId}`;
        if (!current) return { kind: 'missing' };
        return { kind: 'not-running', status: current.status };
      }),

    // One statement: the run's status, whether the task belongs to the run's pinned definition, and its
    // task_run status (null before the scheduler has created the row).
    findDecisionTarget: (runId, taskId) =>
      bounded(async () => {
        const [row] = await sql<
          {
            runStatus: RunStatus;
            cancelRequested: boolean;
            inDefinition: boolean;
            taskStatus: string | null;
            decision: TaskDecision['decision'] | null;
            decidedBy: string | null;
          }[]
        >`
          SELECT r.status AS "runStatus", r.cancel_requested_at IS NOT NULL AS "cancelRequested",
                 coalesce(v.definition -> 'tasks' @> jsonb_build_array(jsonb_build_object('id', ${taskId}::text)), false)
                   OR tr.id IS NOT NULL AS "inDefinition",
                 tr.status AS "taskStatus", d.decision, d.decided_by AS "decidedBy"
          FROM runs r
          LEFT JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version
          LEFT JOIN task_runs tr ON tr.run_id = r.id AND tr.task_id = ${taskId}
          LEFT JOIN task_decisions d ON d.task_run_id = tr.id
          WHERE r.id = ${runId}`;
        if (!row) return { kind: 'missing-run' };
        if (!row.inDefinition) return { kind: 'missing-task' };
        return {
          kind: 'found',
          runStatus: row.runStatus,
          cancelRequested: row.cancelRequested,
          taskStatus: row.taskStatus,
          decided: row.decision ? { decision: row.decision, by: row.decidedBy } : null,
        };
      }),

    // Records the decision for a task BLOCKED in a RUNNING run with no cancel requested. The first
    // decision stands: the same one again matches the row (so the route re-announces it, in case its
    // event was lost) and leaves it as it was; the other one is refused, since the scheduler applies whichever event arrives first and the row
    // must say what was applied. The reaper's reconciler re-announces a recorded decision whose event was
    // lost. Concurrent requests serialize on the row's key: the later one sees the earlier's row.
    recordDecision: ({ runId, taskId, decision, by, reason }) =>
      bounded(async () => {
        const rows = await sql<{ decided_by: string | null; reason: string | null }[]>`
          INSERT INTO task_decisions (task_run_id, decision, decided_by, reason)
          SELECT tr.id, ${decision}, ${by ?? null}, ${reason ?? null}
          FROM task_runs tr JOIN runs r ON r.id = tr.run_id
          WHERE tr.run_id = ${runId} AND tr.task_id = ${taskId} AND tr.status = 'BLOCKED' AND r.status = 'RUNNING'
            AND r.cancel_requested_at IS NULL
          ON CONFLICT (task_run_id) DO UPDATE SET decision = task_decisions.decision
            WHERE task_decisions.decision = EXCLUDED.decision
          RETURNING decided_by, reason`;
        const [recorded] = rows;
        if (recorded) return { kind: 'recorded', by: recorded.decided_by, reason: recorded.reason } as const;
        // A new statement, so it sees a conflicting row that a concurrent request committed meanwhile.
        const [other] = await sql<{ decision: TaskDecision['decision']; by: string | null }[]>`
          SELECT d.decision, d.decided_by AS by
          FROM task_runs tr JOIN task_decisions d ON d.task_run_id = tr.id
          WHERE tr.run_id = ${runId} AND tr.task_id = ${taskId} AND tr.status = 'BLOCKED'`;
        return other && other.decision !== decision
          ? ({ kind: 'decided', decision: other.decision, by: other.by } as const)
          : ({ kind: 'not-blocked' } as const);
      }),
  };
}

// Two set-based statements reading the definition just stored in the workflows row (no per-task JSON
// strings or edge arrays in this process; a 100,000-task workflow would hold them all at once):
// every task of the definition, then every edge.
async function insertTasks(tx: TransactionSql, workflowId: string): Promise<void> {
  await tx`
    INSERT INTO tasks (id, workflow_id, name, config, requires_approval)
    SELECT t ->> 'id', w.id, t ->> 'id', t, (t ->> 'requiresApproval')::boolean
    FROM workflows w, jsonb_array_elements(w.definition -> 'tasks') AS t
    WHERE w.id = ${workflowId}`;
  await tx`
    INSERT INTO dependencies (workflow_id, task_id, depends_on_task_id)
    SELECT w.id, t ->> 'id', n.need
    FROM workflows w, jsonb_array_elements(w.definition -> 'tasks') AS t,
         jsonb_array_elements_text(t -> 'needs') AS n(need)
    WHERE w.id = ${workflowId}`;
}
