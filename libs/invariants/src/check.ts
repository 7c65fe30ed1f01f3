import type { Sql } from '@relay/db';
import { InvalidInvariantOptionError } from './errors.js';
import type { CheckOptions, InvariantRule, Violation } from './types.js';

interface Row {
  rule: InvariantRule;
  run_id: string;
  task_id: string | null;
  detail: string;
}

const OPEN = ['PENDING', 'READY', 'QUEUED', 'BLOCKED', 'RUNNING'];

function checkMs(option: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidInvariantOptionError(option, `expected a non-negative number of ms, got ${value}`);
  }
  return value;
}

/**
 * Checks Relay's invariants over the database, set-based (one statement per rule; fine on 100k
 * task_runs). Read only. Returns every violation found, ordered by rule, run and task:
 * - need_not_succeeded: a task SUCCESS or started while a need (from the run's pinned
 *   workflow_versions definition) had not succeeded, or succeeded only after it started;
 * - finished_run_has_open_task: a finished run with a non-terminal task;
 * - success_run_incomplete: a SUCCESS run with a task not SUCCESS, or fewer task runs than tasks;
 * - remaining_tasks_mismatch: remaining_tasks differs from tasks - propagated successes;
 * - attempt_skipped / attempt_from_future: the attempt history (task_attempts, one row per ended
 *   attempt: its key makes "one terminal transition per attempt" hold) misses an earlier attempt, or
 *   holds one after task_runs.attempt;
 * - success_without_history: a SUCCESS task whose current attempt has no SUCCESS history row;
 * - running_without_owner: a RUNNING task whose heartbeat (or start) is older than timeout + margin.
 * @throws InvalidInvariantOptionError for a negative or non-finite timeout or margin.
 */
export async function checkInvariants(sql: Sql, opts: CheckOptions = {}): Promise<Violation[]> {
  const timeoutMs = checkMs('heartbeatTimeoutMs', opts.heartbeatTimeoutMs ?? 10_000);
  const marginMs = checkMs('heartbeatMarginMs', opts.heartbeatMarginMs ?? 5000);
  const ids = opts.runIds ? [...opts.runIds] : null;
  const runScope = (column: string) => (ids ? sql`${sql(column)} = ANY(${ids}::text[])` : sql`true`);

  const rows = await sql<Row[]>`
    WITH scoped_runs AS (
      SELECT r.* FROM runs r WHERE ${runScope('r.id')}
    ), def_tasks AS (
      SELECT r.id AS run_id, task->>'id' AS task_id, task->'needs' AS needs
      FROM scoped_runs r
      JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version,
           jsonb_array_elements(v.definition->'tasks') AS task
    ), def_counts AS (
      SELECT run_id, count(*)::int AS tasks FROM def_tasks GROUP BY run_id
    ), scoped_tasks AS (
      SELECT t.* FROM task_runs t WHERE ${runScope('t.run_id')}
    ), task_counts AS (
      SELECT run_id, count(*)::int AS task_runs,
             count(*) FILTER (WHERE status = 'SUCCESS')::int AS succeeded,
             count(*) FILTER (WHERE propagated_at IS NOT NULL)::int AS propagated
      FROM scoped_tasks GROUP BY run_id
    )
    SELECT 'need_not_succeeded' AS rule, t.run_id, t.task_id,
           'task ' || t.status || ' (started ' || coalesce(t.started_at::text, 'never') || ') but need '
             || need.id || ' is ' || coalesce(n.status, 'missing')
             || coalesce(' (finished ' || n.finished_at::text || ')', '') AS detail
    FROM def_tasks d
    CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(d.needs, '[]'::jsonb)) AS need(id)
    JOIN scoped_tasks t ON t.run_id = d.run_id AND t.task_id = d.task_id
    LEFT JOIN scoped_tasks n ON n.run_id = d.run_id AND n.task_id = need.id
    WHERE (t.status = 'SUCCESS' OR t.started_at IS NOT NULL)
      AND (n.status IS DISTINCT FROM 'SUCCESS' OR n.finished_at > t.started_at)

    UNION ALL
    SELECT 'finished_run_has_open_task', r.id, t.task_id,
           'run ' || r.status || ' but task is ' || t.status
    FROM scoped_runs r JOIN scoped_tasks t ON t.run_id = r.id
    WHERE r.status <> 'RUNNING' AND t.status = ANY(${OPEN}::text[])

    UNION ALL
    SELECT 'success_run_incomplete', r.id, NULL,
           coalesce(c.succeeded, 0) || ' of ' || coalesce(d.tasks, c.task_runs, 0) || ' tasks SUCCESS'
    FROM scoped_runs r
    LEFT JOIN task_counts c ON c.run_id = r.id
    LEFT JOIN def_counts d ON d.run_id = r.id
    WHERE r.status = 'SUCCESS'
      AND (coalesce(c.succeeded, 0) <> coalesce(c.task_runs, 0)
           OR coalesce(c.task_runs, 0) < coalesce(d.tasks, 0)
           OR coalesce(c.task_runs, 0) = 0)

    UNION ALL
    SELECT 'remaining_tasks_mismatch', r.id, NULL,
           'remaining_tasks ' || r.remaining_tasks || ', expected ' || d.tasks || ' tasks - '
             || coalesce(c.propagated, 0) || ' propagated successes'
    FROM scoped_runs r
    JOIN def_counts d ON d.run_id = r.id
    LEFT JOIN task_counts c ON c.run_id = r.id
    WHERE r.remaining_tasks IS NOT NULL AND r.remaining_tasks <> d.tasks - coalesce(c.propagated, 0)

    UNION ALL
    SELECT 'attempt_skipped', t.run_id, t.task_id,
           'attempt ' || t.attempt || ' but only ' || count(a.attempt) || ' of the '
             || (t.attempt - 1) || ' earlier attempts ended on record'
    FROM scoped_tasks t
    LEFT JOIN task_attempts a ON a.task_run_id = t.id AND a.attempt < t.attempt
    WHERE t.attempt >= 2
    GROUP BY t.id, t.run_id, t.task_id, t.attempt
    HAVING count(a.attempt) <> t.attempt - 1

    UNION ALL
    SELECT 'attempt_from_future', t.run_id, t.task_id,
           'history has attempt ' || a.attempt || ' (' || a.status || ') but the task is at attempt ' || t.attempt
    FROM scoped_tasks t JOIN task_attempts a ON a.task_run_id = t.id
    WHERE a.attempt > t.attempt

    UNION ALL
    SELECT 'success_without_history', t.run_id, t.task_id,
           'SUCCESS at attempt ' || t.attempt || ' but its history row is '
             || coalesce(a.status, 'missing')
    FROM scoped_tasks t
    LEFT JOIN task_attempts a ON a.task_run_id = t.id AND a.attempt = t.attempt
    WHERE t.status = 'SUCCESS' AND a.status IS DISTINCT FROM 'SUCCESS'

    UNION ALL
    SELECT 'running_without_owner', t.run_id, t.task_id,
           'RUNNING (attempt ' || t.attempt || ', worker ' || coalesce(t.worker_id, 'none')
             || ') with no heartbeat since ' || coalesce(t.heartbeat_at, t.started_at)::text
    FROM scoped_tasks t
    WHERE t.status = 'RUNNING'
      AND coalesce(t.heartbeat_at, t.started_at, t.queued_at, t.created_at)
          < now() - make_interval(secs => ${(timeoutMs + marginMs) / 1000})

    ORDER BY 1, 2, 3`;
  return rows.map((r) => ({
    rule: r.rule,
    runId: r.run_id,
    ...(r.task_id === null ? {} : { taskId: r.task_id }),
    detail: r.detail,
  }));
}
