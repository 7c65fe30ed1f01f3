// Test-only helper for @relay/db's own tests (@relay/testing depends on this package, so it cannot be used here).
import { randomBytes } from 'node:crypto';
import { createSql, type Sql } from '../src/client.js';

const ADMIN_URL = process.env.RELAY_TEST_ADMIN_URL ?? 'postgres://relay:relay@127.0.0.1:5432/postgres';

/** An empty database, created for one test file and dropped by `drop()`. */
export interface FreshDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

/** Creates an empty database `relay_dbtest_<random>` on the local server. */
export async function createFreshDatabase(): Promise<FreshDatabase> {
  const name = `relay_dbtest_${randomBytes(6).toString('hex')}`;
  const admin = createSql(ADMIN_URL, { max: 1 });
  try {
    await admin`CREATE DATABASE ${admin(name)}`;
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const sql = createSql(url.toString(), { max: 4 });
  return {
    name,
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      const dropper = createSql(ADMIN_URL, { max: 1 });
      try {
        await dropper`DROP DATABASE IF EXISTS ${dropper(name)} WITH (FORCE)`;
      } finally {
        await dropper.end();
      }
    },
  };
}

/** Columns, indexes and constraints of the public schema, as sorted comparable text. */
export async function describeSchema(
  sql: Sql,
): Promise<{ columns: string[]; indexes: string[]; constraints: string[] }> {
  const columns = await sql<{ line: string }[]>`
    SELECT concat_ws(' ', table_name, ordinal_position, column_name, data_type, is_nullable, column_default) AS line
    FROM information_schema.columns WHERE table_schema = 'public'`;
  const indexes = await sql<{ line: string }[]>`
    SELECT concat_ws(' ', tablename, indexname, indexdef) AS line FROM pg_indexes WHERE schemaname = 'public'`;
  const constraints = await sql<{ line: string }[]>`
    SELECT concat_ws(' ', conrelid::regclass::text, conname, pg_get_constraintdef(oid)) AS line
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace`;
  const sorted = (rows: { line: string }[]) => rows.map((row) => row.line).sort();
  return { columns: sorted(columns), indexes: sorted(indexes), constraints: sorted(constraints) };
}
