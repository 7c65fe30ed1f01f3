import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSql, defaultMigrationsDir, readMigrationFiles, SEED_TABLES } from '@relay/db';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildTemplate,
  createEmptyTestDatabase,
  createTestDatabase,
  DEFAULT_TEST_ADMIN_URL,
  type TestDatabase,
  templateNameFor,
} from './database.js';

const admin = createSql(process.env.RELAY_TEST_ADMIN_URL ?? DEFAULT_TEST_ADMIN_URL, { max: 2 });
const databases: TestDatabase[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

async function databaseNames(pattern: string): Promise<string[]> {
  const rows = await admin<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE starts_with(datname, ${pattern}) ORDER BY datname`;
  return rows.map((row) => row.datname);
}

/** A copy of the repository migrations whose template nobody has built yet (a unique extra file). */
async function uniqueMigrationsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-tpl-'));
  for (const file of await readMigrationFiles(defaultMigrationsDir()))
    await copyFile(file.path, join(dir, file.name));
  await writeFile(join(dir, '900_marker.sql'), `-- ${dir}\nCREATE TABLE IF NOT EXISTS marker (id INT);\n`);
  const template = await templateNameFor(dir);
  cleanups.push(async () => {
    await admin`DROP DATABASE IF EXISTS ${admin(template)} WITH (FORCE)`;
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  for (const cleanup of cleanups) await cleanup();
  await admin.end();
});

describe('createTestDatabase', () => {
  it('returns a migrated database cloned from the template', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    expect(db.name).toMatch(/^relay_test_[0-9a-f]{12}$/);
    expect(new URL(db.url).pathname).toBe(`/${db.name}`);
    const recorded = await db.sql<{ name: string }[]>`SELECT name FROM relay_migrations ORDER BY name`;
    const files = await readMigrationFiles(defaultMigrationsDir());
    expect(recorded.map((row) => row.name)).toEqual(files.map((file) => file.name));
    const tables = await db.sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`;
    expect(tables.map((row) => row.table_name)).toEqual(expect.arrayContaining([...SEED_TABLES]));

    const template = await templateNameFor(defaultMigrationsDir());
    const [info] = await admin<[{ datallowconn: boolean }]>`
      SELECT datallowconn FROM pg_database WHERE datname = ${template}`;
    expect(info.datallowconn).toBe(false);
  });

  it('gives every call its own database', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    databases.push(a, b);
    expect(a.name).not.toBe(b.name);
    await a.sql`INSERT INTO workflows (id, name, definition) VALUES ('only-in-a', 'A', '{}')`;
    const [{ count }] = await b.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM workflows`;
    expect(count).toBe(0);
  });

  it('drops the database, even with clients still connected, and drop() is idempotent', async () => {
    const db = await createTestDatabase();
    const straggler = createSql(db.url, { max: 1 });
    await straggler`SELECT 1`;
    await db.drop();
    await db.drop();
    expect(await databaseNames(db.name)).toEqual([]);
    await straggler.end({ timeout: 0 });
  });

  it('builds a template once under concurrent callers and leaves no build database behind', async () => {
    const dir = await uniqueMigrationsDir();
    const template = await templateNameFor(dir);
    const buildPrefix = `relay_tplb_${template.slice('relay_tpl_'.length)}_`;
    // What a crashed build leaves: it must be cleared by the next build.
    await admin`CREATE DATABASE ${admin(`${buildPrefix}dead00`)}`;

    const names = await Promise.all([buildTemplate(dir), buildTemplate(dir), buildTemplate(dir)]);
    expect(names).toEqual([template, template, template]);
    expect(await databaseNames(template)).toEqual([template]);
    expect(await databaseNames(buildPrefix)).toEqual([]);

    const db = await createTestDatabase({ migrationsDir: dir });
    databases.push(db);
    const [{ marker }] = await db.sql<
      [{ marker: string | null }]
    >`SELECT to_regclass('marker')::text AS marker`;
    expect(marker).toBe('marker');
  });
});

describe('createEmptyTestDatabase', () => {
  it('returns a database with no tables', async () => {
    const db = await createEmptyTestDatabase();
    databases.push(db);
    const tables = await db.sql`SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'`;
    expect(tables).toHaveLength(0);
  });
});
