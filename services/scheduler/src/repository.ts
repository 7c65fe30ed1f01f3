import type { Sql, TransactionSql } from '@relay/db';
import { TASK_DEFAULTS } from '@relay/workflow';
import type { SchedulerDefinition, SchedulerTask } from './definitions.js';

/** A task as loadDefinitions reads it: the fields at their defaults left out. */
type SlimTask = { id: string } & Partial<Omit<SchedulerTask, 'id'>>;

const NO_NEEDS: readonly string[] = Object.freeze([]);

/** A SlimTask with its defaults put back; the defaults are shared, not copied per task. */
function withDefaults(t: SlimTask): SchedulerTask {
  return {
    id: t.id,
    needs: (t.needs ?? NO_NEEDS) as string[],
    queue: t.queue ?? TASK_DEFAULTS.queue,
    retries: t.retries ?? TASK_DEFAULTS.retries,
    backoff: t.backoff ?? TASK_DEFAULTS.backoff,
    requiresApproval: t.requiresApproval ?? TASK_DEFAULTS.requiresApproval,
  };
}

/**
 * The states a run's sweep moves to CANCELLED. Besides these, a FAILED attempt that would be retried
 * (retryable, attempts left) but whose failure the run's end overtook: FAILED means "no attempt left",
 * and its retry will not come.
 */
const NON_TERMINAL = ['PENDING', 'READY', 'QUEUED', 'BLOCKED', 'RUNNING'];

/** A run as RunStarted needs it. */
export interface RunRow {
  id: string;
  workflowId: string;
  workflowVersion: number | null;
  status: string;
  cancelRequested: boolean;
}

/** A task_run row to create at run start. */
export interface NewTaskRun {
  runId: string;
  workflowId: string;
  taskId: string;
  queue: string;
  maxAttempts: number;
  pendingNeeds: number;
  status: 'PENDING' | 'READY' | 'BLOCKED';
}

/** A READY task_run, as TaskReady announces it. */
export interface ReadyTaskRun {
  id: string;
  runId: string;
  taskId: string;
  queue: string;
  readyAt: Date | null;
}

/** A task_run with its run's pinned version and state (what result handlers decide on). */
export interface TaskRunContext {
  id: string;
  runId: string;
  taskId: string;
  workflowId: string;
  workflowVersion: number | null;
  attempt: number;
  status: string;
  maxAttempts: number;
  queue: string;
  error: string | null;
  runStatus: string;
}

/** A SUCCESS task_run whose success this transaction applies (exactly once). */
export interface MarkedSuccess {
  runId: string;
  taskId: string;
  workflowId: string;
  workflowVersion: number | null;
}

/** A dependent task_run of a batch of successes: how many of its needs they meet. */
export interface PlannedDependent {
  id: string;
  runId: string;
  taskId: string;
  met: number;
  requiresApproval: boolean;
}

/** One edge of a planned propagation: the success `src` meets one need of the task_run `dep`. */
export interface PlannedEdge {
  src: string;
  dep: string;
  requiresApproval: boolean;
}

/** A task_run {@link SchedulerRepository.propagatePlanned} moved out of PENDING, with its new status. */
export interface MovedTaskRun {
  id: string;
  queue: string;
  status: string;
}

/** A task_run a propagation moved out of PENDING (READY or BLOCKED). */
export interface PromotedTaskRun extends ReadyTaskRun {
  status: string;
}

/** Rows per statement for writes and reads whose size follows a workflow's width (default {@link DEFAULT_CHUNK_ROWS}). */
export interface SchedulerRepositoryOptions {
  chunkRows?: number;
  /** Pool for the one-statement success path, which only takes small batches (@relay/db's createKeyedSql). */
  keyed?: Sql;
}

/** Default rows per statement: a 100,000-task fan-out moves in 20 statements, never 100,000 rows at once. */
export const DEFAULT_CHUNK_ROWS = 5000;

/** What one batch of successes changes: per dependent task_run the number of needs met, per run the tasks done. */
export interface PropagationPlan {
  dependents: PlannedDependent[];
  runs: { runId: string; done: number }[];
}

/** A run that has just reached a terminal status. */
export interface FinishedRun {
  runId: string;
  workflowId: string;
  status: 'SUCCESS' | 'FAILED' | 'CANCELLED';
  error: string | null;
}

/** A run to move to FAILED or CANCELLED. */
export interface RunEnding {
  runId: string;
  status: 'FAILED' | 'CANCELLED';
  error: string | null;
  /** The task run whose failure ends the run: it stays FAILED whatever attempts it had left. */
  cause?: string;
}

/** Runs finished by a sweep and, per run, the task_runs that were RUNNING (their workers must abort). */
export interface SweepResult {
  finished: FinishedRun[];
  abortedRunning: Map<string, string[]>;
}

/** A retry to schedule: the failed attempt and the backoff before the next. */
export interface RetryRequest {
  id: string;
  attempt: number;
  delayMs: number;
}

/** An approval or rejection of a BLOCKED task. */
export interface Decision {
  runId: string;
  taskId: string;
  by: string | null;
}

/** A rejection, with the error text written on the task_run. */
export interface Rejection extends Decision {
  error: string;
}

interface ReadyRowRaw {
  id: string;
  run_id: string;
  task_id: string;
  queue: string;
  ready_at: Date | null;
}

const toReady = (r: ReadyRowRaw): ReadyTaskRun => ({
  id: r.id,
  runId: r.run_id,
  taskId: r.task_id,
  queue: r.queue,
  readyAt: r.ready_at,
});

// Arrays are bound as plain JS arrays: postgres.js's sql.array() mis-serializes on a fresh connection
// (before its array types are fetched), and boolean arrays are bound as scalars, hence 0/1 ints.

/** A workflow whose current definition has `on.schedule`. */
export interface ScheduledWorkflow {
  workflowId: string;
  schedule: string;
  /** When its current version was written (epoch ms): ticks before it belong to another definition. */
  sinceMs: number;
  /**
   * Its newest claimed tick (epoch ms), or null: every tick up to it was handled (a scheduler fires a
   * workflow's ticks in order), so a catch-up starts after it, whatever the retention deleted before it.
   */
  lastTickMs: number | null;
}

/** The scheduler's slice of writes (task_runs creation, readiness, retries, sweeps; runs progress and ends). */
export type SchedulerRepository = ReturnType<typeof createSchedulerRepository>;

/** Creates the scheduler's repository over a pool. */
export function createSchedulerRepository(sql: Sql, options: SchedulerRepositoryOptions = {}) {
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const keyed = options.keyed ?? sql;
  // The two writes of a success both paths apply. Each reads its inputs under fixed aliases: `d(met,
  // requires_approval)` for a dependent (needs met now, 1 when it waits for approval), `c(n)` for a run
  // (tasks done now).
  const promoteDependent = () => sql`
    pending_needs = t.pending_needs - d.met,
    status = CASE WHEN t.pending_needs - d.met <= 0
                  THEN CASE WHEN d.requires_approval = 1 THEN 'BLOCKED' ELSE 'READY' END
                  ELSE t.status END,
    ready_at = CASE WHEN t.pending_needs - d.met <= 0 AND d.requires_approval = 0 THEN now()
                    ELSE t.ready_at END`;
  const countDownRun = () => sql`
    remaining_tasks = r.remaining_tasks - c.n,
    status = CASE WHEN r.status = 'RUNNING' AND r.remaining_tasks - c.n <= 0 THEN 'SUCCESS' ELSE r.status END,
    finished_at = CASE WHEN r.status = 'RUNNING' AND r.remaining_tasks - c.n <= 0 THEN now()
                       ELSE r.finished_at END`;
  /** Run ends in `tx`: runs RUNNING -> status (guarded), then every non-terminal task_run of them -> CANCELLED. */
  async function endRunsIn(tx: TransactionSql, requested: readonly RunEnding[]): Promise<SweepResult> {
    const result: SweepResult = { finished: [], abortedRunning: new Map() };
    // One ending per run (the first wins): UPDATE ... FROM would otherwise pick one arbitrarily.
    const byRun = new Map<string, RunEnding>();
    for (const e of requested) if (!byRun.has(e.runId)) byRun.set(e.runId, e);
    const endings = [...byRun.values()].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    if (endings.length === 0) return result;
    const ended = await tx<
      { id: string; workflow_id: string; status: FinishedRun['status']; error: string | null }[]
    >`
      UPDATE runs r
      SET status = e.status,
          finished_at = now(),
          error = coalesce(NULLIF(e.error, ''),
                           CASE WHEN e.status = 'CANCELLED' THEN 'cancelled: ' || r.cancel_reason END),
          cancel_requested_at = CASE WHEN e.status = 'CANCELLED' THEN coalesce(r.cancel_requested_at, now())
                                     ELSE r.cancel_requested_at END
      FROM unnest(
        ${endings.map((e) => e.runId)}::text[],
        ${endings.map((e) => e.status)}::text[],
        ${endings.map((e) => e.error ?? '')}::text[]
      ) AS e(id, status, error)
      WHERE r.id = e.id AND r.status = 'RUNNING'
      RETURNING r.id, r.workflow_id, r.status, r.error`;
    if (ended.length === 0) return result;
    result.finished = ended.map((r) => ({
      runId: r.id,
      workflowId: r.workflow_id,
      status: r.status,
      error: r.error,
    }));
    const causes = endings.flatMap((e) => (e.cause ? [e.cause] : []));
    // FOR UPDATE in the subquery: a row a worker moves to a terminal state concurrently is re-checked
    // against the status list after its lock is granted, and `old.status` is the state we cancelled from.
    const swept = await tx<{ id: string; run_id: string; previous_status: string }[]>`
      UPDATE task_runs t
      SET status = 'CANCELLED', finished_at = now()
      FROM (
        SELECT id, status FROM task_runs
        WHERE run_id = ANY(${ended.map((r) => r.id)}::text[])
          AND (status = ANY(${NON_TERMINAL}::text[])
               OR (status = 'FAILED' AND retryable IS TRUE AND attempt < max_attempts
                   AND id <> ALL(${causes}::text[])))
        ORDER BY id
        FOR UPDATE
      ) AS old
      WHERE t.id = old.id
      RETURNING t.id, t.run_id, old.status AS previous_status`;
    for (const row of swept) {
      if (row.previous_status !== 'RUNNING') continue;
      const list = result.abortedRunning.get(row.run_id) ?? [];
      list.push(row.id);
      result.abortedRunning.set(row.run_id, list);
    }
    return result;
  }

  return {
    /** The workflows with a schedule, by id. Read only. */
    async listScheduledWorkflows(): Promise<ScheduledWorkflow[]> {
      const rows = await sql<
        { id: string; schedule: string; since_ms: number; last_tick_ms: number | null }[]
      >`
        SELECT w.id, w.definition -> 'on' ->> 'schedule' AS schedule,
               (extract(epoch FROM coalesce(v.created_at, w.updated_at)) * 1000)::float8 AS since_ms,
               (SELECT extract(epoch FROM max(t.tick_at)) * 1000 FROM schedule_ticks t
                WHERE t.workflow_id = w.id)::float8 AS last_tick_ms
        FROM workflows w
        LEFT JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
        WHERE w.definition -> 'on' ->> 'schedule' IS NOT NULL
        ORDER BY w.id`;
      return rows.map((r) => ({
        workflowId: r.id,
        schedule: r.schedule,
        sinceMs: r.since_ms,
        lastTickMs: r.last_tick_ms,
      }));
    },

    /**
     * Claims a workflow's tick and starts its run, in one statement: nothing when another scheduler
     * claimed the tick first, or when the workflow no longer has this schedule. The run pins the current
     * version; its input is `{"scheduledAt": tick}`. Returns the run started, or null.
     */
    async fireScheduledRun(tick: {
      workflowId: string;
      schedule: string;
      tickAtMs: number;
      runId: string;
    }): Promise<{ runId: string; workflowId: string; workflowVersion: number } | null> {
      const tickAt = new Date(tick.tickAtMs);
      const [row] = await sql<{ id: string; workflow_id: string; workflow_version: number }[]>`
        WITH w AS (
          SELECT id, version FROM workflows
          WHERE id = ${tick.workflowId} AND definition -> 'on' ->> 'schedule' = ${tick.schedule}
        ), claim AS (
          INSERT INTO schedule_ticks (workflow_id, tick_at, run_id)
          SELECT w.id, ${tickAt}, ${tick.runId} FROM w
          ON CONFLICT (workflow_id, tick_at) DO NOTHING
          RETURNING run_id
        )
        INSERT INTO runs (id, workflow_id, status, input, workflow_version)
        SELECT claim.run_id, w.id, 'RUNNING', jsonb_build_object('scheduledAt', ${tickAt.toISOString()}::text), w.version
        FROM claim, w
        RETURNING id, workflow_id, workflow_version`;
      return row
        ? { runId: row.id, workflowId: row.workflow_id, workflowVersion: row.workflow_version }
        : null;
    },

    /**
     * Reads the definitions of the given pinned versions as the scheduler holds them (SchedulerTask:
     * no `with`, `type` or `timeoutMs`); missing rows are left out. Read only. Postgres leaves out of each
     * task the fields at their defaults (and empty `needs`), which are put back here (shared, not copied):
     * a 100,000-task no-op fan-out comes over as about 5 MB of JSON instead of 20.
     */
    async loadDefinitions(
      keys: readonly { workflowId: string; version: number }[],
    ): Promise<{ workflowId: string; version: number; definition: SchedulerDefinition }[]> {
      if (keys.length === 0) return [];
      const d = TASK_DEFAULTS;
      const rows = await sql<{ workflow_id: string; version: number; tasks: SlimTask[] }[]>`
        SELECT v.workflow_id, v.version,
               (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                         'id', t -> 'id',
                         'needs', CASE WHEN jsonb_array_length(t -> 'needs') > 0 THEN t -> 'needs' END,
                         'queue', nullif(t -> 'queue', to_jsonb(${d.queue}::text)),
                         'retries', nullif(t -> 'retries', to_jsonb(${d.retries}::int)),
                         'backoff', nullif(t -> 'backoff', ${JSON.stringify(d.backoff)}::jsonb),
                         'requiresApproval', nullif(t -> 'requiresApproval', to_jsonb(${d.requiresApproval}::boolean))
                       )) ORDER BY n), '[]'::jsonb)
                FROM jsonb_array_elements(v.definition -> 'tasks') WITH ORDINALITY AS e(t, n)) AS tasks
        FROM workflow_versions v
        JOIN unnest(
          ${keys.map((k) => k.workflowId)}::text[],
          ${keys.map((k) => k.version)}::int[]
        ) AS k(workflow_id, version) ON v.workflow_id = k.workflow_id AND v.version = k.version`;
      return rows.map((r) => ({
        workflowId: r.workflow_id,
        version: r.version,
        definition: { tasks: r.tasks.map(withDefaults) },
      }));
    },

    /** Reads runs by id (missing ids are left out). Read only. */
    async loadRuns(runIds: readonly string[]): Promise<RunRow[]> {
      const rows = await sql<
        {
          id: string;
          workflow_id: string;
          workflow_version: number | null;
          status: string;
          cancel_requested: boolean;
        }[]
      >`
        SELECT id, workflow_id, workflow_version, status, cancel_requested_at IS NOT NULL AS cancel_requested
        FROM runs WHERE id = ANY(${[...runIds]}::text[])`;
      return rows.map((r) => ({
        id: r.id,
        workflowId: r.workflow_id,
        workflowVersion: r.workflow_version,
        status: r.status,
        cancelRequested: r.cancel_requested,
      }));
    },

    /**
     * One transaction: locks the runs (so a concurrent cancel sweep sees every row created here), sets
     * `remaining_tasks` once, and inserts the task_runs of runs still RUNNING and not cancelled.
     * Idempotent: existing (run_id, task_id) rows are kept as they are. Returns the ids of the runs it
     * found live.
     */
    async createTaskRuns(
      taskRuns: readonly NewTaskRun[],
      taskCounts: readonly { runId: string; count: number }[],
    ): Promise<string[]> {
      return sql.begin(async (tx) => {
        const live = await tx<{ id: string }[]>`
          SELECT id FROM runs
          WHERE id = ANY(${taskCounts.map((c) => c.runId)}::text[])
            AND status = 'RUNNING' AND cancel_requested_at IS NULL
          ORDER BY id
          FOR UPDATE`;
        const liveIds = new Set(live.map((r) => r.id));
        if (liveIds.size === 0) return [];
        const counts = taskCounts.filter((c) => liveIds.has(c.runId));
        await tx`
          UPDATE runs r SET remaining_tasks = c.n
          FROM unnest(
            ${counts.map((c) => c.runId)}::text[],
            ${counts.map((c) => c.count)}::int[]
          ) AS c(id, n)
          WHERE r.id = c.id AND r.remaining_tasks IS NULL`;
        // 100,000 rows go in one statement as seven arrays; the live filter is in SQL, not a copy.
        const rows = taskRuns;
        // Each inserted row fires the run_id foreign key's check, a query of its own that the session's
        // force_custom_plan would plan again for every row: 185 of the 350 ms a 10,002-row run took.
        // With `auto` for the rest of this transaction that check runs on its cached plan, as it does on
        // a default session; the insert itself has no plan to choose (a function scan into an insert).
        await tx`SET LOCAL plan_cache_mode = auto`;
        await tx`
          INSERT INTO task_runs (id, run_id, workflow_id, task_id, attempt, queue, max_attempts, pending_needs, status,
                                 ready_at)
          SELECT d.run_id || ':' || d.task_id, d.run_id, d.workflow_id, d.task_id, 0, d.queue, d.max_attempts,
                 d.pending_needs, d.status, CASE WHEN d.status = 'READY' THEN now() END
          FROM unnest(
            ${rows.map((t) => t.runId)}::text[],
            ${rows.map((t) => t.workflowId)}::text[],
            ${rows.map((t) => t.taskId)}::text[],
            ${rows.map((t) => t.queue)}::text[],
            ${rows.map((t) => t.maxAttempts)}::int[],
            ${rows.map((t) => t.pendingNeeds)}::int[],
            ${rows.map((t) => t.status)}::text[]
          ) AS d(run_id, workflow_id, task_id, queue, max_attempts, pending_needs, status)
          WHERE d.run_id = ANY(${[...liveIds]}::text[])
          ON CONFLICT (run_id, task_id) DO NOTHING`;
        return [...liveIds];
      });
    },

    /**
     * One page of the READY task_runs of the given runs, in (run_id, task_id) order, starting after
     * `after` (the last row of the previous page); at most `chunkRows` rows. Read only.
     */
    async listReadyTaskRunsOfRuns(
      runIds: readonly string[],
      after: { runId: string; taskId: string } | null = null,
    ): Promise<ReadyTaskRun[]> {
      if (runIds.length === 0) return [];
      const rows = after
        ? await sql<ReadyRowRaw[]>`
            SELECT id, run_id, task_id, queue, CASE WHEN ready_at > now() THEN ready_at END AS ready_at FROM task_runs
            WHERE run_id = ANY(${[...runIds]}::text[]) AND status = 'READY'
              AND (run_id, task_id) > (${after.runId}::text, ${after.taskId}::text)
            ORDER BY run_id, task_id LIMIT ${chunkRows}`
        : await sql<ReadyRowRaw[]>`
            SELECT id, run_id, task_id, queue, CASE WHEN ready_at > now() THEN ready_at END AS ready_at FROM task_runs
            WHERE run_id = ANY(${[...runIds]}::text[]) AND status = 'READY'
            ORDER BY run_id, task_id LIMIT ${chunkRows}`;
      return rows.map(toReady);
    },

    /** Rows per page of {@link listReadyTaskRunsOfRuns} and per statement of the chunked writes. */
    chunkRows,

    /** The task_runs among `ids` that are READY. Read only. */
    async listReadyTaskRuns(ids: readonly string[]): Promise<ReadyTaskRun[]> {
      if (ids.length === 0) return [];
      const rows = await sql<ReadyRowRaw[]>`
        SELECT id, run_id, task_id, queue, CASE WHEN ready_at > now() THEN ready_at END AS ready_at FROM task_runs
        WHERE id = ANY(${[...ids]}::text[]) AND status = 'READY'`;
      return rows.map(toReady);
    },

    /** The runs among `runIds` that have finished (status other than RUNNING). Read only. */
    async listFinishedRuns(runIds: readonly string[]): Promise<FinishedRun[]> {
      if (runIds.length === 0) return [];
      const rows = await sql<
        { id: string; workflow_id: string; status: FinishedRun['status']; error: string | null }[]
      >`
        SELECT id, workflow_id, status, error FROM runs
        WHERE id = ANY(${[...runIds]}::text[]) AND status <> 'RUNNING'`;
      return rows.map((r) => ({ runId: r.id, workflowId: r.workflow_id, status: r.status, error: r.error }));
    },

    /** Task_runs by id with their run's pinned version and status. Read only. */
    async loadTaskRunContexts(ids: readonly string[]): Promise<TaskRunContext[]> {
      if (ids.length === 0) return [];
      const rows = await sql<
        {
          id: string;
          run_id: string;
          task_id: string;
          workflow_id: string;
          workflow_version: number | null;
          attempt: number;
          status: string;
          max_attempts: number;
          queue: string;
          error: string | null;
          run_status: string;
        }[]
      >`
        SELECT t.id, t.run_id, t.task_id, t.workflow_id, r.workflow_version, t.attempt, t.status,
               t.max_attempts, t.queue, t.error, r.status AS run_status
        FROM task_runs t JOIN runs r ON r.id = t.run_id
        WHERE t.id = ANY(${[...ids]}::text[])`;
      return rows.map((r) => ({
        id: r.id,
        runId: r.run_id,
        taskId: r.task_id,
        workflowId: r.workflow_id,
        workflowVersion: r.workflow_version,
        attempt: r.attempt,
        status: r.status,
        maxAttempts: r.max_attempts,
        queue: r.queue,
        error: r.error,
        runStatus: r.run_status,
      }));
    },

    /**
     * One transaction applying successes exactly once: marks SUCCESS rows not yet propagated
     * (`propagated_at`; duplicates match nothing), lets `plan` count the needs met and tasks done, then
     * moves dependents PENDING -> READY/BLOCKED when their count reaches 0 (row locks make that happen
     * once), decrements `remaining_tasks`, and ends RUNNING runs that reach 0 as SUCCESS.
     * Returns the task_runs it made READY or BLOCKED and the runs it finished.
     */
    async propagateSuccesses(
      taskRunIds: readonly string[],
      plan: (marked: MarkedSuccess[]) => Promise<PropagationPlan>,
    ): Promise<{
      marked: MarkedSuccess[];
      promoted: PromotedTaskRun[];
      finished: FinishedRun[];
    }> {
      return sql.begin(async (tx) => {
        // `status || ''`: keeps the planner on the primary key. With the plain predicate the generic plan
        // walks idx_task_runs_unpropagated (believed tiny) and filters on id, i.e. reads every SUCCESS row
        // not yet propagated per batch: 237 ms per 500 ids with a 30k backlog, 12 ms by primary key.
        const markedRows = await tx<
          { run_id: string; task_id: string; workflow_id: string; workflow_version: number | null }[]
        >`
          UPDATE task_runs t SET propagated_at = now()
          FROM runs r
          WHERE t.id = ANY(${[...taskRunIds].sort()}::text[])
            AND t.status || '' = 'SUCCESS' AND t.propagated_at IS NULL AND r.id = t.run_id
          RETURNING t.run_id, t.task_id, t.workflow_id, r.workflow_version`;
        const marked = markedRows.map((r) => ({
          runId: r.run_id,
          taskId: r.task_id,
          workflowId: r.workflow_id,
          workflowVersion: r.workflow_version,
        }));
        if (marked.length === 0) return { marked, promoted: [], finished: [] };
        const { dependents, runs } = await plan(marked);
        // In chunks of `chunkRows`, in id order (the lock order every writer of task_runs follows), all in
        // this transaction: a crash anywhere before COMMIT applies nothing, so the redelivered event does it
        // all again. Only the rows that left PENDING come back, and they reuse the plan's strings.
        const promoted: PromotedTaskRun[] = [];
        const sorted = [...dependents].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        for (let i = 0; i < sorted.length; i += chunkRows) {
          const chunk = sorted.slice(i, i + chunkRows);
          const rows = await tx<{ i: number; queue: string; status: string }[]>`
            WITH moved AS (
              UPDATE task_runs t
              SET ${promoteDependent()}
              FROM unnest(
                ${chunk.map((d) => d.id)}::text[],
                ${chunk.map((d) => d.met)}::int[],
                ${chunk.map((d) => (d.requiresApproval ? 1 : 0))}::int[]
              ) WITH ORDINALITY AS d(id, met, requires_approval, i)
              WHERE t.id = d.id AND t.status = 'PENDING'
              RETURNING d.i::int AS i, t.queue, t.status
            )
            SELECT i, queue, status FROM moved WHERE status <> 'PENDING'`;
          for (const row of rows) {
            const d = chunk[row.i - 1] as PlannedDependent;
            promoted.push({
              id: d.id,
              runId: d.runId,
              taskId: d.taskId,
              queue: row.queue,
              readyAt: null,
              status: row.status,
            });
          }
        }
        const sortedRuns = [...runs].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
        const finishedRows = await tx<
          { id: string; workflow_id: string; status: FinishedRun['status']; remaining_tasks: number }[]
        >`
          UPDATE runs r
          SET ${countDownRun()}
          FROM unnest(
            ${sortedRuns.map((c) => c.runId)}::text[],
            ${sortedRuns.map((c) => c.done)}::int[]
          ) AS c(id, n)
          WHERE r.id = c.id
          RETURNING r.id, r.workflow_id, r.status, r.remaining_tasks`;
        // remaining_tasks reaches 0 in exactly one transaction (each task is counted once), so a SUCCESS
        // row at 0 was finished here.
        const finished = finishedRows
          .filter((r) => r.status === 'SUCCESS' && r.remaining_tasks === 0)
          .map((r) => ({ runId: r.id, workflowId: r.workflow_id, status: r.status, error: null }));
        return { marked, promoted, finished };
      });
    },

    /**
     * The one-statement form of {@link propagateSuccesses}, for successes whose pinned version the event
     * named, so the plan could be made before touching the database. One round trip instead of five: a
     * chain step pays it on its critical path. Marks each success once (only when the run really pinned
     * `version`; a mismatch stays unmarked for the general path), then applies the `edges` of the marked
     * ones to their dependents and counts them off their runs, all in the same statement and snapshot.
     * Returns the marked ids, the dependents that left PENDING, and the runs that reached SUCCESS here.
     */
    async propagatePlanned(
      successes: readonly { id: string; version: number }[],
      edges: readonly PlannedEdge[],
    ): Promise<{
      marked: { id: string; runId: string }[];
      promoted: MovedTaskRun[];
      finished: FinishedRun[];
    }> {
      const sorted = [...successes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const ids = sorted.map((s) => s.id);
      const rows = await keyed<{ k: 'M' | 'P' | 'F'; id: string; a: string; b: string | null }[]>`
        WITH marked AS (
          UPDATE task_runs t SET propagated_at = now()
          FROM unnest(${ids}::text[], ${sorted.map((s) => s.version)}::int[]) AS e(id, version),
               runs r
          -- \`t.id = ANY\` as well as the join: it drives the primary key. With the join alone the planner,
          -- believing few rows unpropagated, scanned task_runs once per batch (850 ms at 10k rows).
          WHERE t.id = ANY(${ids}::text[]) AND t.id = e.id
            AND t.status || '' = 'SUCCESS' AND t.propagated_at IS NULL
            AND r.id = t.run_id AND r.workflow_version = e.version
          RETURNING t.id, t.run_id
        ), d AS (
          SELECT p.dep AS id, count(*)::int AS met, max(p.approval) AS requires_approval
          FROM unnest(
            ${edges.map((e) => e.src)}::text[],
            ${edges.map((e) => e.dep)}::text[],
            ${edges.map((e) => (e.requiresApproval ? 1 : 0))}::int[]
          ) AS p(src, dep, approval)
          JOIN marked m ON m.id = p.src
          GROUP BY p.dep
          ORDER BY p.dep
        ), moved AS (
          UPDATE task_runs t
          SET ${promoteDependent()}
          FROM d
          WHERE t.id = ANY(${[...new Set(edges.map((e) => e.dep))]}::text[]) AND t.id = d.id
            AND t.status = 'PENDING'
          RETURNING t.id, t.queue, t.status
        ), c AS (
          SELECT run_id AS id, count(*)::int AS n FROM marked GROUP BY run_id ORDER BY run_id
        ), finished AS (
          UPDATE runs r
          SET ${countDownRun()}
          FROM c
          WHERE r.id = c.id
          RETURNING r.id, r.workflow_id, r.status, r.remaining_tasks
        )
        SELECT 'M' AS k, id, run_id AS a, NULL AS b FROM marked
        UNION ALL
        SELECT 'P', id, queue, status FROM moved WHERE status <> 'PENDING'
        UNION ALL
        -- remaining_tasks reaches 0 in exactly one statement (each task is counted once).
        SELECT 'F', id, workflow_id, status FROM finished WHERE status = 'SUCCESS' AND remaining_tasks = 0`;
      const result = {
        marked: [] as { id: string; runId: string }[],
        promoted: [] as MovedTaskRun[],
        finished: [] as FinishedRun[],
      };
      for (const r of rows) {
        if (r.k === 'M') result.marked.push({ id: r.id, runId: r.a });
        else if (r.k === 'P') result.promoted.push({ id: r.id, queue: r.a, status: r.b as string });
        else result.finished.push({ runId: r.id, workflowId: r.a, status: 'SUCCESS', error: null });
      }
      return result;
    },

    /**
     * FAILED -> READY with `ready_at = now() + delay`, fenced on the failed attempt and on the run still
     * RUNNING. Returns the rows it moved (a duplicate matches nothing).
     */
    async scheduleRetries(retries: readonly RetryRequest[]): Promise<ReadyTaskRun[]> {
      if (retries.length === 0) return [];
      const rows = await sql<ReadyRowRaw[]>`
        UPDATE task_runs t
        SET status = 'READY', ready_at = now() + d.delay_ms * interval '1 millisecond', finished_at = NULL
        FROM unnest(
          ${retries.map((r) => r.id)}::text[],
          ${retries.map((r) => r.attempt)}::int[],
          ${retries.map((r) => r.delayMs)}::float8[]
        ) AS d(id, attempt, delay_ms), runs r
        WHERE t.id = d.id AND t.attempt = d.attempt AND t.status = 'FAILED'
          AND r.id = t.run_id AND r.status = 'RUNNING'
        RETURNING t.id, t.run_id, t.task_id, t.queue, t.ready_at`;
      return rows.map(toReady);
    },

    /** One transaction: RUNNING runs -> FAILED/CANCELLED and their non-terminal task_runs -> CANCELLED. Idempotent. */
    async endRuns(endings: readonly RunEnding[]): Promise<SweepResult> {
      if (endings.length === 0) return { finished: [], abortedRunning: new Map() };
      return sql.begin((tx) => endRunsIn(tx, endings));
    },

    /**
     * One transaction: BLOCKED -> FAILED for each rejection (error, decided_by, finished_at), then the runs
     * of the rejected tasks fail as {@link endRuns} does. A duplicate rejection matches nothing.
     */
    async rejectTasks(
      rejections: readonly Rejection[],
      runError: (rejection: Rejection) => string,
    ): Promise<SweepResult & { rejected: Rejection[] }> {
      return sql.begin(async (tx) => {
        const rows = await tx<{ run_id: string; task_id: string }[]>`
          UPDATE task_runs t
          SET status = 'FAILED', error = d.error, decided_by = NULLIF(d.by, ''), finished_at = now()
          FROM unnest(
            ${rejections.map((r) => r.runId)}::text[],
            ${rejections.map((r) => r.taskId)}::text[],
            ${rejections.map((r) => r.by ?? '')}::text[],
            ${rejections.map((r) => r.error)}::text[]
          ) AS d(run_id, task_id, by, error), runs r
          WHERE t.run_id = d.run_id AND t.task_id = d.task_id AND t.status = 'BLOCKED'
            AND r.id = t.run_id AND r.status = 'RUNNING'
          RETURNING t.run_id, t.task_id`;
        const matched = new Set(rows.map((r) => `${r.run_id}:${r.task_id}`));
        const rejected = rejections.filter((r) => matched.has(`${r.runId}:${r.taskId}`));
        const sweep = await endRunsIn(
          tx,
          rejected.map((r) => ({ runId: r.runId, status: 'FAILED', error: runError(r) })),
        );
        return { ...sweep, rejected };
      });
    },

    /** BLOCKED -> READY (decided_by) for tasks of RUNNING runs. Returns the rows it moved; duplicates match nothing. */
    async approveTasks(approvals: readonly Decision[]): Promise<ReadyTaskRun[]> {
      if (approvals.length === 0) return [];
      const rows = await sql<ReadyRowRaw[]>`
        UPDATE task_runs t
        SET status = 'READY', decided_by = NULLIF(d.by, ''), ready_at = now()
        FROM unnest(
          ${approvals.map((a) => a.runId)}::text[],
          ${approvals.map((a) => a.taskId)}::text[],
          ${approvals.map((a) => a.by ?? '')}::text[]
        ) AS d(run_id, task_id, by), runs r
        WHERE t.run_id = d.run_id AND t.task_id = d.task_id AND t.status = 'BLOCKED'
          AND r.id = t.run_id AND r.status = 'RUNNING'
        RETURNING t.id, t.run_id, t.task_id, t.queue, NULL::timestamptz AS ready_at`;
      return rows.map(toReady);
    },
  };
}
