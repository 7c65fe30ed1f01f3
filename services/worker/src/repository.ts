import { KEYED_BATCH_MAX, type Sql, type TransactionSql } from '@relay/db';
import type { JsonValue } from '@relay/template';
import type { TaskDefinition } from '@relay/workflow';

/** What a worker needs of a task's definition to run an attempt of it. */
export type TaskSpec = Pick<TaskDefinition, 'id' | 'type' | 'with' | 'timeoutMs'>;

/** A (task run, attempt) pair: the fence of every worker write. */
export interface AttemptKey {
  id: string;
  attempt: number;
}

/** A finished attempt to write. */
export interface SuccessWrite extends AttemptKey {
  /** JSON text of the output. */
  output: string;
  /** JSON text of the resolved input, or null when resolution did not happen. */
  input: string | null;
}

/** A failed attempt to write. */
export interface FailureWrite extends AttemptKey {
  error: string;
  input: string | null;
  /** Whether the attempt may be retried (stored for the reaper's reconciler); null = unknown. */
  retryable?: boolean;
}

/** What template resolution reads for one run. */
export interface RunContext {
  input: JsonValue;
  /** Output JSON text of each SUCCESS task asked for. */
  outputs: Record<string, string>;
}

// Every write below is keyed by a batch of (id, attempt) pairs and must cost O(batch) whatever the
// backlog and whatever the statistics say (a fresh table, no autovacuum yet). So rows are found by
// `t.id = ANY(ids)` (the primary key) and each row's own values are looked up by id in one bound jsonb
// object (`k.m -> t.id`, a binary search), never by joining `unnest(...)`: with a "one row" estimate for
// the filtered task_runs the planner put task_runs outside a nested loop and re-read the whole unnest for
// every row, and it took the partial status indexes for tiny and read every QUEUED or RUNNING row, dead
// entries included (20-77 ms per 200-row batch in a 10k fan-out, auto_explain; `array_position` lookups
// still cost 4-8 ms, quadratic). `t.status || ''` keeps the planner off those partial indexes.
// `k` is MATERIALIZED: inlined, `k.m` becomes `$1::text::jsonb` in each row's filter. A custom plan folds
// that to a constant, but a generic one (the keyed pool's) parses the whole object again for every row:
// 42 ms for a 200-row success batch (auto_explain), quadratic in the batch.

/** `{id: value}` as JSON text, bound once (as text: a jsonb-typed parameter would be JSON-encoded again) as the jsonb `k.m` of a statement. */
function byId<T>(rows: readonly T[], key: (row: T) => string, value: (row: T) => unknown): string {
  // Written member by member: Object.fromEntries builds a 200-key dictionary object only to serialize it
  // (the largest item of the worker's CPU profile after envelope parsing). Ids are unique in a batch.
  let text = '{';
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i] as T;
    text += `${i === 0 ? '' : ','}${JSON.stringify(key(row))}:${JSON.stringify(value(row))}`;
  }
  return `${text}}`;
}

/**
 * Largest `k.m` one result statement binds (JSON text length). A batch of big values (a 900 KB run input
 * resolved into 100 tasks' inputs made a 90 MB object) is written as several statements in one
 * transaction: past work_mem the CTE's one row spills to a temporary file, read back for every row it is
 * joined to, and the 100 results took 40 s instead of well under one.
 */
export const MAX_KEYED_JSON_LENGTH = 1024 * 1024;

/** `rows` in order, cut where a group's values would pass `max` in total (a bigger row goes alone). */
export function groupsBySize<T>(rows: readonly T[], size: (row: T) => number, max: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const row of rows) {
    const n = size(row);
    if (current.length > 0 && total + n > max) {
      groups.push(current);
      current = [];
      total = 0;
    }
    current.push(row);
    total += n;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** A pool, or the transaction of a write cut into several statements. */
type Db = Sql | TransactionSql;

/** Size of a result write's bound values (the part of `k.m` that can be big). */
const writeSize = (w: { input: string | null }, text: string) => text.length + (w.input?.length ?? 0) + 64;

// Arrays are bound as plain JS arrays with an explicit cast: postgres.js's sql.array() mis-serializes
// them on a fresh pool (before its array types are fetched: 'malformed array literal').
const ids = (keys: readonly AttemptKey[]) => keys.map((k) => k.id);

/** The worker's slice of writes: task_runs QUEUED -> RUNNING -> SUCCESS | FAILED, RUNNING -> READY (hand-back). */
export type WorkerRepository = ReturnType<typeof createWorkerRepository>;

/** An attempt handed back on shutdown: READY again, or FAILED (`failed`) when it was the last one. */
export interface HandedBack {
  id: string;
  runId: string;
  taskId: string;
  queue: string;
  attempt: number;
  failed: { error: string } | undefined;
}

/**
 * Creates the worker's repository over a pool; `keyed` (see @relay/db's createKeyedSql) takes the small
 * batches of the claim and the result writes, which sit on a chain step's critical path.
 */
export function createWorkerRepository(sql: Sql, keyed: Sql = sql) {
  const pick = (n: number) => (n <= KEYED_BATCH_MAX ? keyed : sql);
  /** Writes `rows` in one statement, or cut by size into several statements of one transaction. */
  const inGroups = async <T>(
    rows: readonly T[],
    size: (row: T) => number,
    write: (db: Db, group: readonly T[]) => Promise<string[]>,
  ): Promise<string[]> => {
    if (rows.length === 0) return [];
    const groups = groupsBySize(rows, size, MAX_KEYED_JSON_LENGTH);
    if (groups.length === 1) return write(pick(rows.length), rows);
    return sql.begin(async (tx) => {
      const written: string[] = [];
      for (const group of groups) written.push(...(await write(tx, group)));
      return written;
    });
  };
  return {
    /**
     * QUEUED -> RUNNING for the given (id, attempt) pairs, held by `workerId`. One statement; row locks
     * make each attempt claimed once however many workers race; stale or duplicate messages match
     * nothing. Returns the claimed (id, attempt) pairs.
     */
    async claimTaskRuns(workerId: string, keys: readonly AttemptKey[]): Promise<AttemptKey[]> {
      if (keys.length === 0) return [];
      return pick(keys.length)<AttemptKey[]>`
        WITH k AS MATERIALIZED (SELECT ${byId(
          keys,
          (k) => k.id,
          (k) => k.attempt,
        )}::text::jsonb AS m)
        UPDATE task_runs t
        SET status = 'RUNNING', started_at = now(), heartbeat_at = now(), worker_id = ${workerId},
            finished_at = NULL, error = NULL, output = NULL
        FROM k
        WHERE t.id = ANY(${ids(keys)}::text[]) AND t.attempt = (k.m ->> t.id)::int
          AND t.status || '' = 'QUEUED'
        RETURNING t.id, t.attempt`;
    },

    /**
     * The tasks of the pinned definitions of the given (workflow, version) pairs, with only what a
     * worker runs them with (not `needs`: a fan-out's sink alone lists every task). Read only; a pair
     * whose version exists but has no tasks yields `tasks: []`, a missing one is absent.
     */
    async loadDefinitions(
      pairs: readonly { workflowId: string; version: number }[],
    ): Promise<{ workflowId: string; version: number; tasks: TaskSpec[] }[]> {
      if (pairs.length === 0) return [];
      const rows = await sql<
        {
          workflow_id: string;
          version: number;
          id: string | null;
          type: string;
          with: TaskSpec['with'];
          timeout_ms: number | null;
        }[]
      >`
        SELECT v.workflow_id, v.version, t.task->>'id' AS id, t.task->>'type' AS type,
               t.task->'with' AS with, t.task->'timeoutMs' AS timeout_ms
        FROM workflow_versions v
        JOIN unnest(${pairs.map((p) => p.workflowId)}::text[],
                    ${pairs.map((p) => p.version)}::int[]) AS d(workflow_id, version)
          ON v.workflow_id = d.workflow_id AND v.version = d.version
        LEFT JOIN LATERAL jsonb_array_elements(v.definition->'tasks') AS t(task) ON true`;
      const byPair = new Map<string, { workflowId: string; version: number; tasks: TaskSpec[] }>();
      for (const r of rows) {
        const key = `${r.workflow_id}@${r.version}`;
        let entry = byPair.get(key);
        if (!entry) {
          entry = { workflowId: r.workflow_id, version: r.version, tasks: [] };
          byPair.set(key, entry);
        }
        if (r.id !== null) {
          entry.tasks.push({ id: r.id, type: r.type, with: r.with ?? {}, timeoutMs: r.timeout_ms ?? null });
        }
      }
      return [...byPair.values()];
    },

    /**
     * Each run's input and the outputs of its SUCCESS tasks among `taskIds` (one query for the batch).
     * Read only; runs not found are absent from the map.
     */
    async loadRunContexts(
      runIds: readonly string[],
      taskIds: readonly string[],
    ): Promise<Map<string, RunContext>> {
      if (runIds.length === 0) return new Map();
      const rows = await sql<
        { id: string; input: JsonValue | null; outputs: Record<string, string> | null }[]
      >`
        SELECT r.id, r.input,
               (SELECT json_object_agg(t.task_id, t.output)
                FROM task_runs t
                WHERE t.run_id = r.id AND t.status = 'SUCCESS'
                  AND t.task_id = ANY(${[...taskIds]}::text[])) AS outputs
        FROM runs r
        WHERE r.id = ANY(${[...runIds]}::text[])`;
      return new Map(rows.map((r) => [r.id, { input: r.input ?? {}, outputs: r.outputs ?? {} }]));
    },

    /**
     * RUNNING -> SUCCESS with output and resolved input, fenced on attempt, status and holder. One
     * statement, or for big values (MAX_KEYED_JSON_LENGTH) several in one transaction; returns the ids
     * written (an absent id was superseded or cancelled: nothing changed).
     */
    async completeSucceeded(workerId: string, writes: readonly SuccessWrite[]): Promise<string[]> {
      return inGroups(
        writes,
        (w) => writeSize(w, w.output),
        (db, group) => writeSucceeded(db, workerId, group),
      );
    },

    /**
     * RUNNING -> FAILED with the error (and the resolved input when known), fenced like
     * completeSucceeded. One statement (see completeSucceeded for big values); returns the ids written.
     */
    async completeFailed(workerId: string, writes: readonly FailureWrite[]): Promise<string[]> {
      return inGroups(
        writes,
        (w) => writeSize(w, w.error),
        (db, group) => writeFailed(db, workerId, group),
      );
    },

    /**
     * Advances heartbeat_at of every attempt this worker still holds. One statement; returns the ids
     * still held (RUNNING, same attempt, same worker): any other was superseded or cancelled.
     *
     * A heartbeat never waits for a row lock (SKIP LOCKED): a row locked right now is being ended (this
     * worker's completion, the reaper, a cancel) and needs no heartbeat. Waiting could deadlock with this
     * worker's own completion of several rows, which locks them in another order (seen once under chaos).
     * Whether a row is still held is read from the statement's snapshot, locked or not.
     */
    async heartbeat(workerId: string, keys: readonly AttemptKey[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await sql<{ id: string }[]>`
        WITH k AS MATERIALIZED (SELECT ${byId(
          keys,
          (k) => k.id,
          (k) => k.attempt,
        )}::text::jsonb AS m),
        held AS (
          SELECT t.id FROM task_runs t, k
          WHERE t.id = ANY(${ids(keys)}::text[]) AND t.attempt = (k.m ->> t.id)::int
            AND t.status || '' = 'RUNNING' AND t.worker_id = ${workerId}
        ), beat AS (
          UPDATE task_runs t SET heartbeat_at = now()
          FROM (SELECT id FROM task_runs WHERE id IN (SELECT id FROM held) FOR UPDATE SKIP LOCKED) s, k
          WHERE t.id = s.id AND t.attempt = (k.m ->> t.id)::int
            AND t.status || '' = 'RUNNING' AND t.worker_id = ${workerId}
        )
        SELECT id FROM held`;
      return new Set(rows.map((r) => r.id));
    },

    /**
     * Hand-back on shutdown of attempts this worker holds, as the reaper treats a lost one (the attempt
     * counts): RUNNING -> READY (worker_id cleared, ready_at = now()) when attempts are left, else
     * RUNNING -> FAILED with an error saying so. One statement, the attempts' history rows with it;
     * returns what TaskReady or TaskFailed needs for the rows moved.
     */
    async handBackTaskRuns(workerId: string, keys: readonly AttemptKey[]): Promise<HandedBack[]> {
      if (keys.length === 0) return [];
      const rows = await sql<
        {
          id: string;
          run_id: string;
          task_id: string;
          queue: string;
          attempt: number;
          status: string;
          error: string | null;
        }[]
      >`
        WITH k AS MATERIALIZED (SELECT ${byId(
          keys,
          (k) => k.id,
          (k) => k.attempt,
        )}::text::jsonb AS m),
        back AS (
          UPDATE task_runs t
          SET status = CASE WHEN t.attempt < t.max_attempts THEN 'READY' ELSE 'FAILED' END,
              worker_id = CASE WHEN t.attempt < t.max_attempts THEN NULL ELSE t.worker_id END,
              ready_at = CASE WHEN t.attempt < t.max_attempts THEN now() END,
              finished_at = CASE WHEN t.attempt < t.max_attempts THEN NULL ELSE now() END,
              heartbeat_at = NULL,
              error = CASE WHEN t.attempt < t.max_attempts THEN t.error
                      ELSE 'worker stopped before the attempt finished (attempt ' || t.attempt || ' of '
                           || t.max_attempts || ', handed back at shutdown)' END,
              retryable = CASE WHEN t.attempt < t.max_attempts THEN t.retryable ELSE true END
          FROM k
          WHERE t.id = ANY(${ids(keys)}::text[]) AND t.attempt = (k.m ->> t.id)::int
            AND t.status || '' = 'RUNNING' AND t.worker_id = ${workerId}
          RETURNING t.id, t.run_id, t.task_id, t.queue, t.attempt, t.status, t.error, t.started_at, t.finished_at
        ), history AS (
          INSERT INTO task_attempts (task_run_id, attempt, status, worker_id, started_at, finished_at, error)
          SELECT id, attempt, 'HANDED_BACK', ${workerId}, started_at, coalesce(finished_at, now()),
                 CASE WHEN status = 'FAILED' THEN error END
          FROM back
          ON CONFLICT DO NOTHING
        )
        SELECT id, run_id, task_id, queue, attempt, status, error FROM back`;
      return rows.map((r) => ({
        id: r.id,
        runId: r.run_id,
        taskId: r.task_id,
        queue: r.queue,
        attempt: r.attempt,
        failed: r.status === 'FAILED' ? { error: r.error ?? 'handed back' } : undefined,
      }));
    },
  };
}

/** The success statement of completeSucceeded; the attempt history row is written by it too. */
async function writeSucceeded(db: Db, workerId: string, writes: readonly SuccessWrite[]): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    WITH k AS MATERIALIZED (SELECT ${byId(
      writes,
      (w) => w.id,
      (w) => [w.attempt, w.output, w.input],
    )}::text::jsonb AS m),
    done AS (
      UPDATE task_runs t
      SET status = 'SUCCESS', output = k.m -> t.id ->> 1, input = (k.m -> t.id ->> 2)::jsonb,
          error = NULL, finished_at = now()
      FROM k
      WHERE t.id = ANY(${ids(writes)}::text[]) AND t.attempt = (k.m -> t.id ->> 0)::int
        AND t.status || '' = 'RUNNING' AND t.worker_id = ${workerId}
      RETURNING t.id, t.attempt, t.worker_id, t.started_at, t.finished_at
    ), history AS (
      INSERT INTO task_attempts (task_run_id, attempt, status, worker_id, started_at, finished_at)
      SELECT id, attempt, 'SUCCESS', worker_id, started_at, finished_at FROM done
      ON CONFLICT DO NOTHING
    )
    SELECT id FROM done`;
  return rows.map((r) => r.id);
}

/** The failure statement of completeFailed; retryable is bound as 1/0/-1 (-1 = unknown): boolean arrays bind as scalars. */
async function writeFailed(db: Db, workerId: string, writes: readonly FailureWrite[]): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    WITH k AS MATERIALIZED (
      SELECT ${byId(
        writes,
        (w) => w.id,
        (w) => [w.attempt, w.error, w.input, w.retryable === undefined ? -1 : w.retryable ? 1 : 0],
      )}::text::jsonb AS m
    ), done AS (
      UPDATE task_runs t
      SET status = 'FAILED', error = k.m -> t.id ->> 1,
          input = coalesce((k.m -> t.id ->> 2)::jsonb, t.input), finished_at = now(),
          retryable = CASE (k.m -> t.id ->> 3)::int WHEN 1 THEN true WHEN 0 THEN false END
      FROM k
      WHERE t.id = ANY(${ids(writes)}::text[]) AND t.attempt = (k.m -> t.id ->> 0)::int
        AND t.status || '' = 'RUNNING' AND t.worker_id = ${workerId}
      RETURNING t.id, t.attempt, t.worker_id, t.started_at, t.finished_at, t.error
    ), history AS (
      INSERT INTO task_attempts (task_run_id, attempt, status, worker_id, started_at, finished_at, error)
      SELECT id, attempt, 'FAILED', worker_id, started_at, finished_at, error FROM done
      ON CONFLICT DO NOTHING
    )
    SELECT id FROM done`;
  return rows.map((r) => r.id);
}
