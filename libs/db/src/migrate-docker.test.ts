import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFreshDatabase, describeSchema, type FreshDatabase } from '../test/fresh-database.js';
import { migrate } from './migrate.js';
import { defaultMigrationsDir, readMigrationFiles } from './migration-files.js';

// docker-compose mounts infra/migrations into /docker-entrypoint-initdb.d: on a fresh volume initdb
// runs each .sql file once with psql, in name order, and records nothing. `migrate()` must then
// accept that database and leave it with the same schema as the normal path.
const dir = defaultMigrationsDir();
const databases: FreshDatabase[] = [];
let reference: Awaited<ReturnType<typeof describeSchema>>;

/** What initdb does: every file as a plain script, outside any runner. */
async function runLikeInitdb(db: FreshDatabase, files: string[]): Promise<void> {
  for (const path of files) await db.sql.unsafe(await readFile(path, 'utf8'));
}

beforeAll(async () => {
  const normal = await createFreshDatabase();
  databases.push(normal);
  await migrate(normal.sql, { dir });
  reference = await describeSchema(normal.sql);
});

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

describe('migrate on a database initialised by Docker', () => {
  it.each([
    ['every migration file (a fresh volume today)', Infinity],
    ['only 001 (a volume created before 002 existed)', 1],
  ])('records 001, re-runs the later files, ends with the normal schema: %s', async (_label, upTo) => {
    const files = await readMigrationFiles(dir);
    const db = await createFreshDatabase();
    databases.push(db);
    await runLikeInitdb(
      db,
      files.filter((file) => file.version <= upTo).map((file) => file.path),
    );

    const result = await migrate(db.sql, { dir });
    expect(result).toEqual({
      applied: files.filter((file) => file.version > 1).map((file) => file.name),
      skipped: [],
      baselined: ['001_init.sql'],
    });
    expect(await describeSchema(db.sql)).toEqual(reference);

    const again = await migrate(db.sql, { dir });
    expect(again).toEqual({ applied: [], skipped: files.map((file) => file.name), baselined: [] });
  });
});
