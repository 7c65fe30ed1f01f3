import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFreshDatabase, type FreshDatabase } from '../test/fresh-database.js';
import { createSql } from './client.js';
import { MigrationChecksumMismatchError, MigrationFailedError, PartialSchemaError } from './errors.js';
import { migrate, SEED_TABLES } from './migrate.js';
import { defaultMigrationsDir, readMigrationFiles } from './migration-files.js';

const dir = defaultMigrationsDir();
const databases: FreshDatabase[] = [];
const tmpDirs: string[] = [];

async function freshDatabase(): Promise<FreshDatabase> {
  const db = await createFreshDatabase();
  databases.push(db);
  return db;
}

/** A temporary copy of the repository migrations plus `extra` files. */
async function migrationsDirWith(extra: Record<string, string> = {}): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'relay-migrate-'));
  tmpDirs.push(copy);
  for (const file of await readMigrationFiles(dir)) await copyFile(file.path, join(copy, file.name));
  for (const [name, text] of Object.entries(extra)) await writeFile(join(copy, name), text);
  return copy;
}

async function tableNames(db: FreshDatabase): Promise<string[]> {
  const rows = await db.sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
  return rows.map((row) => row.table_name);
}

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  await Promise.all(tmpDirs.map((path) => rm(path, { recursive: true, force: true })));
});

describe('migrate', () => {
  it('applies every migration once, then nothing on a second run', async () => {
    const db = await freshDatabase();
    const names = (await readMigrationFiles(dir)).map((file) => file.name);
    const lines: string[] = [];
    const logger = {
      info: (fields: Record<string, unknown>, msg: string) => lines.push(`${msg} ${fields.migration}`),
    };

    const first = await migrate(db.sql, { dir, logger });
    expect(first).toEqual({ applied: names, skipped: [], baselined: [] });
    expect(lines).toEqual(names.map((name) => `migration applied ${name}`));

    const second = await migrate(db.sql, { dir });
    expect(second).toEqual({ applied: [], skipped: names, baselined: [] });

    const recorded = await db.sql<{ name: string; checksum: string }[]>`
      SELECT name, checksum FROM relay_migrations ORDER BY name`;
    expect(recorded).toEqual(
      (await readMigrationFiles(dir)).map((file) => ({ name: file.name, checksum: file.checksum })),
    );
    expect(await tableNames(db)).toEqual(expect.arrayContaining([...SEED_TABLES, 'relay_migrations']));
  });

  it('serialises concurrent runs: each migration is applied exactly once, without error', async () => {
    const db = await freshDatabase();
    const names = (await readMigrationFiles(dir)).map((file) => file.name);
    // Two separate pools, as two replicas starting together would have.
    const clients = [createSql(db.url, { max: 2 }), createSql(db.url, { max: 2 })];
    try {
      const results = await Promise.all(clients.map((sql) => migrate(sql, { dir })));
      expect(results.flatMap((result) => result.applied).sort()).toEqual([...names].sort());
      // Whoever got the lock second found everything recorded.
      expect(
        results.some((result) => result.applied.length === 0 && result.skipped.length === names.length),
      ).toBe(true);
    } finally {
      await Promise.all(clients.map((sql) => sql.end()));
    }
    const [{ count }] = await db.sql<
      [{ count: number }]
    >`SELECT count(*)::int AS count FROM relay_migrations`;
    expect(count).toBe(names.length);
  });

  it('refuses, before applying anything, when a recorded migration changed', async () => {
    const db = await freshDatabase();
    const copy = await migrationsDirWith();
    await migrate(db.sql, { dir: copy });
    await writeFile(join(copy, '002_pipeline.sql'), '-- edited after it landed\nSELECT 1;\n');
    await writeFile(join(copy, '900_later.sql'), 'CREATE TABLE later_table (id INT);');

    const error = await migrate(db.sql, { dir: copy }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationChecksumMismatchError);
    expect((error as MigrationChecksumMismatchError).migration).toBe('002_pipeline.sql');
    expect((error as Error).message).toMatch(
      /migration 002_pipeline\.sql was applied with checksum [0-9a-f]{64}/,
    );
    expect(await tableNames(db)).not.toContain('later_table');
  });

  it('rolls a failing migration back entirely and names its file and line', async () => {
    const db = await freshDatabase();
    const copy = await migrationsDirWith({
      '900_broken.sql':
        'CREATE TABLE made_before_failure (id INT);\n\nSELECT no_such_column FROM made_before_failure;\n',
    });
    const error = await migrate(db.sql, { dir: copy }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as MigrationFailedError).migration).toBe('900_broken.sql');
    expect((error as MigrationFailedError).line).toBe(3);
    expect((error as Error).message).toMatch(
      /migration 900_broken\.sql failed at line 3: column "no_such_column"/,
    );
    expect(await tableNames(db)).not.toContain('made_before_failure');
    const recorded = await db.sql<{ name: string }[]>`SELECT name FROM relay_migrations ORDER BY name`;
    // Every real migration was recorded; the broken one was not.
    expect(recorded.map((row) => row.name)).toEqual(
      (await readMigrationFiles(defaultMigrationsDir())).map((file) => file.name),
    );

    // The lock was released and the connection returned: fixing the file lets the next run finish.
    await writeFile(join(copy, '900_broken.sql'), 'CREATE TABLE made_before_failure (id INT);\n');
    expect((await migrate(db.sql, { dir: copy })).applied).toEqual(['900_broken.sql']);
  });

  it('fails clearly on a database holding only some of the seed tables', async () => {
    const db = await freshDatabase();
    await db.sql`CREATE TABLE workflows (id TEXT PRIMARY KEY)`;
    await db.sql`CREATE TABLE runs (id TEXT PRIMARY KEY)`;
    const error = await migrate(db.sql, { dir }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PartialSchemaError);
    expect((error as Error).message).toBe(
      'cannot record 001_init.sql as already applied: the database has the tables workflows, runs but not ' +
        'tasks, dependencies, task_runs, artifacts; migrate an empty database or one fully initialised by 001_init.sql',
    );
  });
});
