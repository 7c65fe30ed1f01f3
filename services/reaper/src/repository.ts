import type { Sql } from '@relay/db';

/** A stalled attempt the reaper handled. */
export interface ReapedTaskRun {
  id: string;
  runId: string;
  taskId: string;
  attempt: number;
  /** Attempts still allowed after this one (the scheduler retries it after its backoff when > 0). */
  attemptsLeft: number;
}

/** The reaper's slice of writes: stalled RUNNING -> FAILED ('worker lost', retryable). */
export type ReaperRepository = ReturnType<typeof createReaperRepository>;

/** Creates the reaper's repository over a pool. */
export function createReaperRepository(sql: Sql) {
  return {
    /**
     * One transaction: locks up to `limit` RUNNING task_runs whose heartbeat (or, never heartbeated,
     * start) is older than `timeoutMs` by the database clock, oldest first, FOR UPDATE SKIP LOCKED (so
     * concurrent reapers take disjoint rows), then fails each attempt with a retryable 'worker lost'
     * error, and records it as LOST in task_attempts in the same statement. The attempt is a failed
     * one like any other: on HeartbeatMissed the scheduler retries it after the task's backoff when
     * attempts are left (a task that crashes its worker does not take the next one down at once),
     * else fails the run. The status guard in the UPDATE keeps an attempt from being handled twice.
     * Returns the rows failed. With `apply` false the statement takes no row (the reaper still learns
     * that the database answers; see {@link Steadiness}).
     */
    async reapStaleTaskRuns(timeoutMs: number, limit: number, apply = true): Promise<ReapedTaskRun[]> {
      const seconds = Math.round(timeoutMs / 100) / 10;
      const rows = await sql<
        { id: string; run_id: string; task_id: string; attempt: number; attempts_left: number }[]
      >`
        WITH stale AS (
          SELECT id, attempt, worker_id, started_at
          FROM task_runs
          WHERE ${apply}::boolean AND status = 'RUNNING'
            AND (heartbeat_at < now() - make_interval(secs => ${timeoutMs / 1000})
                 OR (heartbeat_at IS NULL AND started_at < now() - make_interval(secs => ${timeoutMs / 1000})))
          ORDER BY heartbeat_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ), reaped AS (
          UPDATE task_runs t
          SET status = 'FAILED', finished_at = now(), retryable = true,
              error = 'worker lost: no heartbeat for ' || ${String(seconds)} || 's (attempt ' || t.attempt || ')'
          FROM stale
          WHERE t.id = stale.id AND t.attempt = stale.attempt AND t.status = 'RUNNING'
          RETURNING t.id, t.run_id, t.task_id, t.attempt, t.max_attempts, t.error,
                    stale.worker_id, stale.started_at
        ), history AS (
          -- The lost attempt's end, in the same statement (one round trip; the key makes it once).
          INSERT INTO task_attempts (task_run_id, attempt, status, worker_id, started_at, error)
          SELECT id, attempt, 'LOST', worker_id, started_at, error FROM reaped
          ON CONFLICT DO NOTHING
        )
        SELECT id, run_id, task_id, attempt, greatest(max_attempts - attempt, 0)::int AS attempts_left
        FROM reaped`;
      return rows.map((r) => ({
        id: r.id,
        runId: r.run_id,
        taskId: r.task_id,
        attempt: r.attempt,
        attemptsLeft: r.attempts_left,
      }));
    },
  };
}

/** A row whose event may be gone: when its event was (last) published, by the database clock. */
export interface Candidate {
  id: string;
  /** The work queue (task_queued only): selects the work stream to look at. */
  queue: string | null;
  /** max(base time, reconciled_at) in epoch ms. */
  expectedAtMs: number;
  /** The database clock when the candidate was read, epoch ms. */
  dbNowMs: number;
}

interface CandidateRaw {
  id: string;
  queue: string | null;
  expected_ms: number;
  now_ms: number;
}

const toCandidate = (r: CandidateRaw): Candidate => ({
  id: r.id,
  queue: r.queue,
  expectedAtMs: Number(r.expected_ms),
  dbNowMs: Number(r.now_ms),
});

/** The event data a claimed row re-publishes (the fields every kind may need). */
export interface ClaimedRow {
  id: string;
  runId: string;
  taskId: string | null;
  attempt: number | null;
  queue: string | null;
  workflowId: string;
  workflowVersion: number;
  error: string | null;
  retryable: boolean | null;
  /** task_decided: the recorded decision, by whom, and why. */
  decision?: { approved: boolean; by: string | null; reason: string | null };
}

interface ClaimedRaw {
  id: string;
  run_id: string;
  task_id: string | null;
  attempt: number | null;
  queue: string | null;
  workflow_id: string;
  workflow_version: number;
  error: string | null;
  retryable: boolean | null;
  decision?: string | null;
  decided_by?: string | null;
  reason?: string | null;
}

const toClaimed = (r: ClaimedRaw): ClaimedRow => ({
  id: r.id,
  runId: r.run_id,
  taskId: r.task_id,
  attempt: r.attempt,
  queue: r.queue,
  workflowId: r.workflow_id,
  workflowVersion: r.workflow_version,
  error: r.error,
  retryable: r.retryable,
  ...(r.decision
    ? {
        decision: { approved: r.decision === 'APPROVED', by: r.decided_by ?? null, reason: r.reason ?? null },
      }
    : {}),
});

/** The kinds of lost event the reconciler re-publishes. */
export type ReconcileKind =
  | 'run_started'
  | 'run_cancel_requested'
  | 'task_succeeded'
  | 'task_failed'
  | 'task_ready'
  | 'task_queued'
  | 'task_decided';

/** The reconciler's reads and its one write (`reconciled_at`, on the rows whose event it re-publishes). */
export type ReconcileRepository = ReturnType<typeof createReconcileRepository>;

/**
 * Creates the reconciler's repository. Each `list*` is one read-only statement over a partial index
 * (empty at rest), returning at most `limit` candidates oldest first: rows stuck longer than `graceMs`
 * and not re-published within `graceMs`. Each `claim*` is one statement: it locks the given rows that
 * are still stuck FOR UPDATE SKIP LOCKED (a concurrent reconciler, or the service moving the row on,
 * holds the others) and sets `reconciled_at = now()`, so each row is re-published at most once per
 * grace period however many reapers run; it returns what the event needs.
 */
export function createReconcileRepository(sql: Sql) {
  const grace = (ms: number) => sql`make_interval(secs => ${ms / 1000})`;
  const notRecent = (ms: number) => sql`(reconciled_at IS NULL OR reconciled_at < now() - ${grace(ms)})`;
  const expected = (base: string) =>
    sql`extract(epoch FROM greatest(${sql(base)}, reconciled_at)) * 1000 AS expected_ms,
        extract(epoch FROM now()) * 1000 AS now_ms`;

  return {
    /** RUNNING runs with no task_runs (remaining_tasks is set with them) started before the grace: RunStarted lost. */
    async listRunsNotStarted(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT id, NULL AS queue, ${expected('started_at')}
        FROM runs
        WHERE status = 'RUNNING' AND remaining_tasks IS NULL AND started_at < now() - ${grace(graceMs)}
          AND ${notRecent(graceMs)}
          AND NOT EXISTS (SELECT 1 FROM task_runs t WHERE t.run_id = runs.id)
        ORDER BY started_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims runs of {@link listRunsNotStarted} still in that state; returns RunStarted's data. */
    async claimRunsNotStarted(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE runs r SET reconciled_at = now()
        FROM (SELECT id FROM runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'RUNNING' AND remaining_tasks IS NULL
                AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s
        WHERE r.id = s.id
        RETURNING r.id, r.id AS run_id, NULL AS task_id, NULL::int AS attempt, NULL AS queue, r.workflow_id,
                  coalesce(r.workflow_version, 1) AS workflow_version, NULL AS error, NULL::boolean AS retryable`;
      return rows.map(toClaimed);
    },

    /** RUNNING runs whose cancellation was requested before the grace: RunCancelRequested lost. */
    async listRunsCancelRequested(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT id, NULL AS queue, ${expected('cancel_requested_at')}
        FROM runs
        WHERE status = 'RUNNING' AND cancel_requested_at IS NOT NULL
          AND cancel_requested_at < now() - ${grace(graceMs)} AND ${notRecent(graceMs)}
        ORDER BY cancel_requested_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims runs of {@link listRunsCancelRequested} still in that state; returns RunCancelRequested's data. */
    async claimRunsCancelRequested(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE runs r SET reconciled_at = now()
        FROM (SELECT id FROM runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'RUNNING' AND cancel_requested_at IS NOT NULL
                AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s
        WHERE r.id = s.id
        RETURNING r.id, r.id AS run_id, NULL AS task_id, NULL::int AS attempt, NULL AS queue, r.workflow_id,
                  coalesce(r.workflow_version, 1) AS workflow_version, NULL AS error, NULL::boolean AS retryable`;
      return rows.map(toClaimed);
    },

    /**
     * RUNNING runs with no task left to succeed (remaining_tasks <= 0). Unreachable by the scheduler's
     * statements (the count reaches 0 in the transaction that ends the run); reported, never written.
     */
    async listUnfinishableRuns(limit: number): Promise<string[]> {
      const rows = await sql<{ id: string }[]>`
        SELECT id FROM runs WHERE status = 'RUNNING' AND remaining_tasks <= 0 ORDER BY id LIMIT ${limit}`;
      return rows.map((r) => r.id);
    },

    /** SUCCESS task_runs never propagated, finished before the grace: TaskSucceeded lost. */
    async listUnpropagatedSuccesses(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT id, NULL AS queue, ${expected('finished_at')}
        FROM task_runs
        WHERE status = 'SUCCESS' AND propagated_at IS NULL AND finished_at < now() - ${grace(graceMs)}
          AND ${notRecent(graceMs)}
        ORDER BY finished_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims rows of {@link listUnpropagatedSuccesses} still unpropagated; returns TaskSucceeded's data. */
    async claimUnpropagatedSuccesses(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE task_runs t SET reconciled_at = now()
        FROM (SELECT id FROM task_runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'SUCCESS' AND propagated_at IS NULL
                AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s
        WHERE t.id = s.id
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
                  (SELECT coalesce(r.workflow_version, 1) FROM runs r WHERE r.id = t.run_id) AS workflow_version,
                  t.error, t.retryable`;
      return rows.map(toClaimed);
    },

    /**
     * FAILED task_runs (a dispatched attempt) of RUNNING runs, finished before the grace: the scheduler
     * acts on a failure by moving the row to READY (retry) or ending the run, so one still FAILED in a
     * RUNNING run means TaskFailed (or HeartbeatMissed FAILED) was lost. Driven by the RUNNING runs.
     */
    async listUnhandledFailures(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT t.id, NULL AS queue,
               extract(epoch FROM greatest(t.finished_at, t.reconciled_at)) * 1000 AS expected_ms,
               extract(epoch FROM now()) * 1000 AS now_ms
        FROM runs r JOIN task_runs t ON t.run_id = r.id AND t.status = 'FAILED'
        WHERE r.status = 'RUNNING' AND t.attempt >= 1 AND t.finished_at < now() - ${grace(graceMs)}
          AND (t.reconciled_at IS NULL OR t.reconciled_at < now() - ${grace(graceMs)})
        ORDER BY t.finished_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims rows of {@link listUnhandledFailures} still FAILED in a RUNNING run; returns TaskFailed's data. */
    async claimUnhandledFailures(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE task_runs t SET reconciled_at = now()
        FROM (SELECT id FROM task_runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'FAILED' AND attempt >= 1 AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s, runs r
        WHERE t.id = s.id AND r.id = t.run_id AND r.status = 'RUNNING'
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
                  coalesce(r.workflow_version, 1) AS workflow_version, t.error, t.retryable`;
      return rows.map(toClaimed);
    },

    /** READY task_runs due (ready_at) before the grace: TaskReady (or its delayed-set entry) lost. */
    async listStaleReady(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT id, queue, ${expected('ready_at')}
        FROM task_runs
        WHERE status = 'READY' AND ready_at < now() - ${grace(graceMs)} AND ${notRecent(graceMs)}
        ORDER BY ready_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims rows of {@link listStaleReady} still READY; returns TaskReady's data. */
    async claimStaleReady(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE task_runs t SET reconciled_at = now()
        FROM (SELECT id FROM task_runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'READY' AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s
        WHERE t.id = s.id
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
                  (SELECT coalesce(r.workflow_version, 1) FROM runs r WHERE r.id = t.run_id) AS workflow_version,
                  t.error, t.retryable`;
      return rows.map(toClaimed);
    },

    /**
     * BLOCKED task_runs whose approval or rejection ingest recorded before the grace: TaskApproved or
     * TaskRejected lost (the scheduler moves a decided task out of BLOCKED). Driven by the BLOCKED rows.
     */
    async listUnappliedDecisions(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT t.id, NULL AS queue,
               extract(epoch FROM greatest(d.decided_at, t.reconciled_at)) * 1000 AS expected_ms,
               extract(epoch FROM now()) * 1000 AS now_ms
        FROM task_runs t JOIN task_decisions d ON d.task_run_id = t.id
        WHERE t.status = 'BLOCKED' AND d.decided_at < now() - ${grace(graceMs)}
          AND (t.reconciled_at IS NULL OR t.reconciled_at < now() - ${grace(graceMs)})
        ORDER BY d.decided_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims rows of {@link listUnappliedDecisions} still BLOCKED; returns the decision's event data. */
    async claimUnappliedDecisions(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE task_runs t SET reconciled_at = now()
        FROM (SELECT id FROM task_runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'BLOCKED' AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s, task_decisions d
        WHERE t.id = s.id AND d.task_run_id = t.id
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
                  (SELECT coalesce(r.workflow_version, 1) FROM runs r WHERE r.id = t.run_id) AS workflow_version,
                  t.error, t.retryable, d.decision, d.decided_by, d.reason`;
      return rows.map(toClaimed);
    },

    /** QUEUED task_runs queued before the grace (their work message may be gone). */
    async listStaleQueued(graceMs: number, limit: number): Promise<Candidate[]> {
      const rows = await sql<CandidateRaw[]>`
        SELECT id, queue, ${expected('queued_at')}
        FROM task_runs
        WHERE status = 'QUEUED' AND queued_at < now() - ${grace(graceMs)} AND ${notRecent(graceMs)}
        ORDER BY queued_at LIMIT ${limit}`;
      return rows.map(toCandidate);
    },

    /** Claims rows of {@link listStaleQueued} still QUEUED; returns TaskQueued's data with the SAME attempt. */
    async claimStaleQueued(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]> {
      const rows = await sql<ClaimedRaw[]>`
        UPDATE task_runs t SET reconciled_at = now()
        FROM (SELECT id FROM task_runs
              WHERE id = ANY(${[...ids]}::text[]) AND status = 'QUEUED' AND ${notRecent(graceMs)}
              ORDER BY id FOR UPDATE SKIP LOCKED) s, runs r
        WHERE t.id = s.id AND r.id = t.run_id
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
                  coalesce(r.workflow_version, 1) AS workflow_version, t.error, t.retryable`;
      return rows.map(toClaimed);
    },
  };
}
