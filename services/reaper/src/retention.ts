import type { Sql } from '@relay/db';
import type { Logger } from '@relay/runtime';

/** Finished runs deleted per statement: one transaction holds this many runs' rows locked at most. */
export const RETENTION_BATCH = 500;

/** What one retention sweep deleted. */
export interface Pruned {
  runs: number;
  events: number;
  ticks: number;
}

/**
 * Deletes, in batches, runs that finished (SUCCESS, FAILED, CANCELLED) more than `days` days ago with
 * everything hanging off them: task_runs and artifacts (foreign keys), task_attempts (trigger, 007),
 * task_decisions (deleted by the same statement); then received events and claimed schedule ticks
 * older than that. A RUNNING run is never touched, however old. Replicas split the work (SKIP LOCKED).
 */
export async function pruneOnce(sql: Sql, days: number, logger: Logger): Promise<Pruned> {
  const pruned: Pruned = { runs: 0, events: 0, ticks: 0 };
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      WITH doomed AS (
        SELECT id FROM runs
        WHERE status <> 'RUNNING' AND finished_at < now() - make_interval(days => ${days})
        ORDER BY finished_at
        LIMIT ${RETENTION_BATCH}
        FOR UPDATE SKIP LOCKED
      ), decisions AS (
        DELETE FROM task_decisions d USING task_runs t, doomed
        WHERE d.task_run_id = t.id AND t.run_id = doomed.id
      ), gone AS (
        DELETE FROM runs r USING doomed WHERE r.id = doomed.id RETURNING r.id
      )
      SELECT count(*)::int AS n FROM gone`;
    const n = row?.n ?? 0;
    pruned.runs += n;
    if (n < RETENTION_BATCH) break;
  }
  // An event id answers its runs for as long as the runs are kept. A tick's claim keeps a restarted
  // scheduler's catch-up from firing it again; the catch-up starts after each workflow's newest claim, so
  // that one is kept whatever its age, and older ones go with the retention (SCHEDULER_CRON_CATCHUP_MS may
  // reach further back than RELAY_RETENTION_DAYS).
  const events = await sql`DELETE FROM events WHERE received_at < now() - make_interval(days => ${days})`;
  const ticks = await sql`
    DELETE FROM schedule_ticks s
    WHERE s.tick_at < now() - make_interval(days => ${days})
      AND s.tick_at < (SELECT max(n.tick_at) FROM schedule_ticks n WHERE n.workflow_id = s.workflow_id)`;
  pruned.events = events.count;
  pruned.ticks = ticks.count;
  if (pruned.runs + pruned.events + pruned.ticks > 0) {
    logger.info({ ...pruned, retentionDays: days }, 'history past retention deleted');
  }
  return pruned;
}
