import { createHash, randomBytes } from 'node:crypto';
import { createSql, defaultMigrationsDir, migrate, readMigrationFiles, type Sql } from '@relay/db';

/** Admin connection of the tests: `RELAY_TEST_ADMIN_URL`, else the local server's `postgres` database. */
export const DEFAULT_TEST_ADMIN_URL = 'postgres://relay:relay@127.0.0.1:5432/postgres';

/** A database of one test file; `drop()` it in afterAll. */
export interface TestDatabase {
  /** Database name, `relay_test_<random>`. */
  name: string;
  /** Connection URL (same server and credentials as the admin URL); hand it to service processes. */
  url: string;
  /** A pool on the database (max 5 connections). */
  sql: Sql;
  /** Closes `sql` and drops the database WITH (FORCE), disconnecting anyone still on it. Idempotent. */
  drop(): Promise<void>;
}

/** Options of {@link createTestDatabase}. */
export interface CreateTestDatabaseOptions {
  /** Migrations of the template (default: the repository's infra/migrations). */
  migrationsDir?: string;
}

// Bump when the way templates are built changes, so that old templates are not reused.
const TEMPLATE_FORMAT = 'relay-template-v1';
// Session advisory lock (in the admin database) serialising template builds across vitest workers.
const TEMPLATE_LOCK_KEY = '125779935590766';
const templates = new Map<string, Promise<string>>();

function adminUrl(): string {
  return process.env.RELAY_TEST_ADMIN_URL ?? DEFAULT_TEST_ADMIN_URL;
}

function urlOf(database: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(fn: (admin: Sql) => Promise<T>): Promise<T> {
  const admin = createSql(adminUrl(), { max: 1, applicationName: 'relay-testing' });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/**
 * A fresh, fully migrated database: a clone (`CREATE DATABASE ... TEMPLATE`) of the template
 * `relay_tpl_<hash8>`, where the hash covers the migration files, so the template is migrated once
 * per set of migrations and reused by every later test run. Cloning takes a few tens of ms.
 */
export async function createTestDatabase(opts: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const dir = opts.migrationsDir ?? defaultMigrationsDir();
  const name = `relay_test_${randomBytes(6).toString('hex')}`;
  for (let attempt = 1; ; attempt += 1) {
    const template = await ensureTemplate(dir);
    try {
      await withAdmin((admin) => admin`CREATE DATABASE ${admin(name)} TEMPLATE ${admin(template)}`);
      return openTestDatabase(name);
    } catch (err) {
      // Someone dropped the template since this process built it: build it again, once.
      if ((err as { code?: string }).code !== '3D000' || attempt > 1) throw err;
      templates.delete(dir);
    }
  }
}

/** A fresh database with nothing in it (for tests of migrations themselves); `drop()` it after. */
export async function createEmptyTestDatabase(): Promise<TestDatabase> {
  const name = `relay_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin`CREATE DATABASE ${admin(name)}`);
  return openTestDatabase(name);
}

function openTestDatabase(name: string): TestDatabase {
  const url = urlOf(name);
  const sql = createSql(url, { max: 5, applicationName: 'relay-test' });
  let dropped: Promise<void> | undefined;
  return {
    name,
    url,
    sql,
    drop() {
      dropped ??= (async () => {
        await sql.end({ timeout: 5 });
        await withAdmin((admin) => admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`);
      })();
      return dropped;
    },
  };
}

/** The template's name, building it first when missing (once per process, under a server-wide lock). */
function ensureTemplate(dir: string): Promise<string> {
  let template = templates.get(dir);
  if (!template) {
    template = buildTemplate(dir);
    templates.set(dir, template);
    template.catch(() => templates.delete(dir));
  }
  return template;
}

/** `relay_tpl_<hash8>`, the hash covering the names and checksums of the migrations of `dir`. */
export async function templateNameFor(dir: string): Promise<string> {
  const files = await readMigrationFiles(dir);
  const hash = createHash('sha256')
    .update(TEMPLATE_FORMAT)
    .update(files.map((file) => `${file.name}\0${file.checksum}`).join('\n'))
    .digest('hex')
    .slice(0, 8);
  return `relay_tpl_${hash}`;
}

/**
 * Builds the template of `dir` unless it exists, and returns its name. Safe to call concurrently from
 * any number of processes. Exported for this package's tests; use {@link createTestDatabase}.
 */
export async function buildTemplate(dir: string): Promise<string> {
  const name = await templateNameFor(dir);
  const hash = name.slice('relay_tpl_'.length);
  return withAdmin(async (admin) => {
    // One reserved connection: the session lock and every statement under it share it.
    const conn = await admin.reserve();
    try {
      await conn`SELECT pg_advisory_lock(${TEMPLATE_LOCK_KEY}::bigint)`;
      try {
        const [existing] = await conn`SELECT 1 FROM pg_database WHERE datname = ${name}`;
        if (!existing) await createTemplate(conn, name, `relay_tplb_${hash}_`, dir);
      } finally {
        await conn`SELECT pg_advisory_unlock(${TEMPLATE_LOCK_KEY}::bigint)`;
      }
    } finally {
      conn.release();
    }
    return name;
  });
}

/**
 * Migrates a build database and renames it to `name` only once complete, so a crash never leaves a
 * half-migrated template under the final name. Runs under the template lock: any database left with
 * the build prefix comes from a crashed build and is dropped.
 */
async function createTemplate(conn: Sql, name: string, buildPrefix: string, dir: string): Promise<void> {
  const stale = await conn<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE starts_with(datname, ${buildPrefix})`;
  for (const { datname } of stale) await conn`DROP DATABASE IF EXISTS ${conn(datname)} WITH (FORCE)`;

  const build = `${buildPrefix}${randomBytes(3).toString('hex')}`;
  await conn`CREATE DATABASE ${conn(build)}`;
  try {
    const sql = createSql(urlOf(build), { max: 1, applicationName: 'relay-testing-template' });
    try {
      await migrate(sql, { dir });
    } finally {
      // CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template.
      await sql.end({ timeout: 5 });
    }
    await conn`ALTER DATABASE ${conn(build)} RENAME TO ${conn(name)}`;
  } catch (err) {
    await conn`DROP DATABASE IF EXISTS ${conn(build)} WITH (FORCE)`;
    throw err;
  }
  // Nobody may connect to it from now on (a stray psql session would block every clone).
  await conn`ALTER DATABASE ${conn(name)} WITH ALLOW_CONNECTIONS false`;
}
