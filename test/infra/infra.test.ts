// What infra/test_infra.sh checks through Docker, checked against the local servers instead.

import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, SEED_TABLES, type Sql } from '@relay/db';
import {
  createEmptyTestDatabase,
  createTestDatabase,
  createTestRedis,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
} from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const migrationsDir = join(repoRoot, 'infra/migrations');
/**
 * sha256 of the seed's infra/migrations/001_init.sql, the schema every later migration builds on: ours
 * must stay byte for byte the same. Embedded so the check runs in any clone, without the seed beside it.
 */
const SEED_001_INIT_SHA256 = '33808f4d1d14275c8540b5bb7a6be2578bce32258a34cc5e8918212510dcbd07';

/** Column counts of the seed's schema, as 001_init.sql creates it (and test_infra.sh prints them). */
const COLUMNS_001: Record<(typeof SEED_TABLES)[number], number> = {
  workflows: 5,
  runs: 6,
  tasks: 5,
  dependencies: 4,
  task_runs: 13,
  artifacts: 5,
};

/**
 * After 002_pipeline.sql, which adds what the running pipeline needs:
 * - workflows +1: `version` (the current definition's version; runs pin one).
 * - runs +4: `workflow_version` (the pinned definition), `remaining_tasks` (the run succeeds when it
 *   reaches 0), `cancel_requested_at`, `error` (why the run failed).
 * - task_runs +8: `queue` (which worker pool), `max_attempts` (retries + 1), `pending_needs` (the task
 *   becomes READY at 0), `ready_at` (retry backoff), `queued_at`, `worker_id` (who holds the attempt),
 *   `propagated_at` (its SUCCESS was applied exactly once), `decided_by` (approver).
 * tasks, dependencies and artifacts are unchanged; a new table, workflow_versions, has 4 columns.
 */
const COLUMNS_002: Record<string, number> = {
  ...COLUMNS_001,
  workflows: 6,
  runs: 10,
  task_runs: 21,
  workflow_versions: 4,
};

/**
 * After 003_recovery.sql, which adds what recovery and the invariant checker need:
 * - runs +1: `reconciled_at` (the reconciler re-announced it; at most once per grace period).
 * - task_runs +2: `retryable` (the worker's verdict on a failed attempt, so a lost TaskFailed can be
 *   re-announced exactly), `reconciled_at`.
 * - a new table, task_attempts (7 columns): one row per ended attempt, the attempt history.
 */
const COLUMNS_CURRENT: Record<string, number> = {
  ...COLUMNS_002,
  // 003's reconciled_at, 013's cancel_reason (the reason given with POST /runs/:id/cancel).
  runs: 12,
  task_runs: 23,
  task_attempts: 7,
  events: 5,
  schedule_ticks: 4,
  task_decisions: 5,
};

/**
 * The indexes of task_runs after 005: every row version of a task (six per task) goes into each full
 * one, so only the primary key and (run_id, task_id) are full; each partial one serves one statement
 * (see 003, 004 and 005 for which) and gets an entry only while a row matches its predicate.
 */
const TASK_RUNS_INDEXES = [
  "idx_task_runs_blocked (id) WHERE (status = 'BLOCKED'::text)",
  "idx_task_runs_failed (run_id) WHERE (status = 'FAILED'::text)",
  "idx_task_runs_heartbeat (heartbeat_at) WHERE (status = 'RUNNING'::text)",
  "idx_task_runs_pending (id) WHERE (status = 'PENDING'::text)",
  "idx_task_runs_queued_since (queued_at) WHERE (status = 'QUEUED'::text)",
  "idx_task_runs_ready_since (ready_at) WHERE (status = 'READY'::text)",
  'idx_task_runs_run_task UNIQUE (run_id, task_id)',
  "idx_task_runs_unpropagated (finished_at) WHERE ((status = 'SUCCESS'::text) AND (propagated_at IS NULL))",
  'task_runs_pkey UNIQUE (id)',
];

/** task_runs' indexes as `name [UNIQUE] (columns) [WHERE predicate]`, by name. */
async function taskRunsIndexes(sql: Sql): Promise<string[]> {
  const rows = await sql<{ line: string }[]>`
    SELECT concat_ws(' ', c.relname, CASE WHEN i.indisunique THEN 'UNIQUE' END,
                     substring(pg_get_indexdef(i.indexrelid) FROM 'USING btree (.*)$')) AS line
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'task_runs'::regclass
    ORDER BY c.relname`;
  return rows.map((row) => row.line);
}

async function columnCounts(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ table_name: string; count: number }[]>`
    SELECT table_name, count(*)::int AS count FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> 'relay_migrations'
    GROUP BY table_name`;
  return Object.fromEntries(rows.map((row) => [row.table_name, row.count]));
}

async function seedTablesPresent(sql: Sql): Promise<string[]> {
  const rows = await sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name = ANY(${[...SEED_TABLES]})
    ORDER BY table_name`;
  return rows.map((row) => row.table_name);
}

describe('postgres schema', () => {
  const databases: TestDatabase[] = [];
  let only001Dir: string;
  beforeAll(async () => {
    only001Dir = await mkdtemp(join(tmpdir(), 'relay-infra-001-'));
    await copyFile(join(migrationsDir, '001_init.sql'), join(only001Dir, '001_init.sql'));
  });
  afterAll(async () => {
    await Promise.all(databases.map((db) => db.drop()));
    await rm(only001Dir, { recursive: true, force: true });
  });

  it('has the 6 seed tables with the seed column counts after 001 alone', async () => {
    const db = await createEmptyTestDatabase();
    databases.push(db);
    expect(await migrate(db.sql, { dir: only001Dir })).toMatchObject({ applied: ['001_init.sql'] });
    expect(await seedTablesPresent(db.sql)).toEqual([...SEED_TABLES].sort());
    expect(await columnCounts(db.sql)).toEqual(COLUMNS_001);

    // The same database moved forward by the later migrations reaches the current schema.
    const result = await migrate(db.sql, { dir: migrationsDir });
    expect(result.skipped).toEqual(['001_init.sql']);
    expect(result.applied).toContain('002_pipeline.sql');
    expect(await columnCounts(db.sql)).toEqual(COLUMNS_CURRENT);
  });

  it('has the current column counts on a freshly migrated test database', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    expect(await seedTablesPresent(db.sql)).toEqual([...SEED_TABLES].sort());
    expect(await columnCounts(db.sql)).toEqual(COLUMNS_CURRENT);
  });

  it('keeps two full indexes on task_runs, the rest partial on one status each', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    expect(await taskRunsIndexes(db.sql)).toEqual(TASK_RUNS_INDEXES);
  });

  it('keeps one foreign key on task_runs, to its run (006 drops the redundant one to workflows)', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const rows = await db.sql<{ def: string }[]>`
      SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = 'task_runs'::regclass AND contype = 'f' ORDER BY conname`;
    expect(rows.map((r) => r.def)).toEqual(['FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE']);
  });

  it("deletes a task_run's attempts with it, by trigger rather than a foreign key (007)", async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const keys = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'task_attempts'::regclass AND contype = 'f'`;
    expect(keys[0]?.n).toBe(0);
    await db.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', '{}')`;
    await db.sql`INSERT INTO runs (id, workflow_id, status) VALUES ('r1', 'wf', 'RUNNING'), ('r2', 'wf', 'RUNNING')`;
    await db.sql`
      INSERT INTO task_runs (id, run_id, task_id, workflow_id, status)
      VALUES ('r1:a', 'r1', 'a', 'wf', 'SUCCESS'), ('r1:b', 'r1', 'b', 'wf', 'FAILED'), ('r2:a', 'r2', 'a', 'wf', 'SUCCESS')`;
    await db.sql`
      INSERT INTO task_attempts (task_run_id, attempt, status)
      VALUES ('r1:a', 1, 'SUCCESS'), ('r1:b', 1, 'FAILED'), ('r1:b', 2, 'FAILED'), ('r2:a', 1, 'SUCCESS')`;
    // runs -> task_runs cascades, and the trigger takes the attempts along.
    await db.sql`DELETE FROM runs WHERE id = 'r1'`;
    const left = await db.sql<{ task_run_id: string }[]>`SELECT task_run_id FROM task_attempts ORDER BY 1`;
    expect(left.map((r) => r.task_run_id)).toEqual(['r2:a']);
  });

  it('inserts and deletes a workflow row', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    await db.sql`
      INSERT INTO workflows (id, name, definition)
      VALUES ('test_workflow', 'Test Workflow', ${db.sql.json({ name: 'Test', tasks: [] })})`;
    const [row] = await db.sql<[{ definition: unknown; created_at: Date }]>`
      SELECT definition, created_at FROM workflows WHERE id = 'test_workflow'`;
    expect(row.definition).toEqual({ name: 'Test', tasks: [] });
    expect(row.created_at).toBeInstanceOf(Date);
    const deleted = await db.sql`DELETE FROM workflows WHERE id = 'test_workflow'`;
    expect(deleted.count).toBe(1);
    const [{ count }] = await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM workflows`;
    expect(count).toBe(0);
  });
});

describe('redis', () => {
  const redis = createTestRedis();
  const prefix = uniquePrefix('infra');
  afterAll(async () => {
    await deleteRedisPrefix(redis, prefix);
    await redis.quit();
  });

  it('answers PING', async () => {
    expect(await redis.ping()).toBe('PONG');
  });

  it('round-trips a queue item with LPUSH and RPOP', async () => {
    const queue = `${prefix}:test_queue`;
    await redis.lpush(queue, '{"test": "data"}');
    expect(await redis.rpop(queue)).toBe('{"test": "data"}');
    expect(await redis.exists(queue)).toBe(0);
  });
});

describe('infra files', () => {
  it('keeps 001_init.sql byte for byte as the seed wrote it (same sha256)', async () => {
    const ours = await readFile(join(migrationsDir, '001_init.sql'));
    expect(createHash('sha256').update(ours).digest('hex')).toBe(SEED_001_INIT_SHA256);
  });

  it('keeps test_infra.sh executable', async () => {
    const { mode } = await stat(join(repoRoot, 'infra/test_infra.sh'));
    expect(mode & 0o111).toBe(0o111);
  });
});
