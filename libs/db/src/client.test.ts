import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFreshDatabase, type FreshDatabase } from '../test/fresh-database.js';
import { checkDatabase, createKeyedSql, createSql, IDLE_IN_TRANSACTION_TIMEOUT_MS } from './client.js';
import { DatabaseUnavailableError, SchemaMissingError } from './errors.js';
import { migrate } from './migrate.js';
import { defaultMigrationsDir } from './migration-files.js';

/** Where the local server's Unix socket lives (Debian's default). */
const SOCKET_DIR = process.env.RELAY_TEST_PG_SOCKET_DIR ?? '/var/run/postgresql';

let db: FreshDatabase;
beforeAll(async () => {
  db = await createFreshDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('createSql', () => {
  it('parses json and jsonb into values', async () => {
    const [row] = await db.sql<[{ doc: unknown; text: unknown }]>`
      SELECT '{"a":[1,true,null]}'::jsonb AS doc, ${'{"a":1}'}::text AS text`;
    expect(row.doc).toEqual({ a: [1, true, null] });
    expect(row.text).toBe('{"a":1}');
  });

  it('reports its application_name to the server', async () => {
    const sql = createSql(db.url, { max: 1, applicationName: 'relay-client-test' });
    try {
      const [row] = await sql<[{ name: string }]>`SELECT current_setting('application_name') AS name`;
      expect(row.name).toBe('relay-client-test');
    } finally {
      await sql.end();
    }
  });

  // createSql connects its sockets itself (to set TCP timeouts on them): every way of naming the
  // server must still reach it.
  it.each([
    ['a TCP host', (url: URL) => url.toString(), {}],
    // postgres.js asks for TLS on the socket returned while it still connects; this server says no.
    ['a TCP host, TLS preferred', (url: URL) => `${url}?sslmode=prefer`, {}],
    // postgres.js takes a Unix socket directory from PGHOST when the URL names no host.
    ['a Unix socket', (url: URL) => `postgres://${url.pathname}`, { PGHOST: SOCKET_DIR, PGUSER: 'relay' }],
    [
      'several hosts, the first refusing',
      (url: URL) =>
        url.toString().replace(`@${url.host}/`, `@127.0.0.1:1,${url.hostname}:${url.port || 5432}/`),
      {},
    ],
  ])('connects to %s', async (_, target, env: Record<string, string>) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const sql = createSql(target(new URL(db.url)), { max: 1 });
    try {
      const [row] = await sql<[{ db: string; tcp: boolean }]>`
        SELECT current_database() AS db, inet_client_addr() IS NOT NULL AS tcp`;
      expect(row).toEqual({ db: db.name, tcp: env.PGHOST === undefined });
    } finally {
      vi.unstubAllEnvs();
      await sql.end();
    }
  });

  it('lets the server end a session idle inside a transaction, so its row locks go', async () => {
    expect(IDLE_IN_TRANSACTION_TIMEOUT_MS).toBe(30_000);
    const [row] = await db.sql<[{ ms: string }]>`
      SELECT setting AS ms FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'`;
    expect(Number(row.ms)).toBe(IDLE_IN_TRANSACTION_TIMEOUT_MS);

    await db.sql`CREATE TABLE IF NOT EXISTS idle_locks (id int PRIMARY KEY, n int)`;
    await db.sql`INSERT INTO idle_locks VALUES (1, 0) ON CONFLICT DO NOTHING`;
    const frozen = createSql(db.url, { max: 1, idleInTransactionTimeoutMs: 300 });
    try {
      // A process that stops between two statements of its transaction, holding the row.
      let locked: () => void = () => {};
      const holding = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const stuck = frozen.begin(async (tx) => {
        await tx`UPDATE idle_locks SET n = n + 1 WHERE id = 1`;
        locked();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await tx`SELECT 1`;
      });
      stuck.catch(() => {});
      await holding;
      const started = Date.now();
      await db.sql`UPDATE idle_locks SET n = n + 10 WHERE id = 1`;
      expect(Date.now() - started).toBeLessThan(1300);
      await expect(stuck).rejects.toMatchObject({
        code: expect.stringMatching(/^(25P03|57P05)$|CONNECTION/),
      });
    } finally {
      await frozen.end({ timeout: 1 });
    }
  });

  it('silences server notices', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await db.sql.unsafe(`DO $$ BEGIN RAISE NOTICE 'should not be printed'; END $$`);
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});

describe('createKeyedSql', () => {
  // What a keyed statement looks like: a batch of ids against the primary key, plus a status check.
  const plan = async (sql: ReturnType<typeof createSql>) => {
    const conn = await sql.reserve();
    try {
      await conn.unsafe('DEALLOCATE ALL');
      await conn.unsafe(
        "PREPARE keyed_probe(text[]) AS SELECT id FROM keyed_rows WHERE id = ANY($1) AND status || '' = 'READY'",
      );
      const rows = await conn.unsafe<{ 'QUERY PLAN': string }[]>("EXPLAIN EXECUTE keyed_probe('{k1,k2}')");
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      conn.release();
    }
  };

  it('plans once per statement, by key, even on a table that was empty and never analyzed', async () => {
    await db.sql`CREATE TABLE keyed_rows (id text PRIMARY KEY, status text NOT NULL)`;
    const keyed = createKeyedSql(db.url, { applicationName: 'relay-client-test', max: 1 });
    const custom = createSql(db.url, { max: 1 });
    try {
      const [mode] = await keyed<[{ plans: string; seqscan: string; jit: string }]>`
        SELECT current_setting('plan_cache_mode') AS plans, current_setting('enable_seqscan') AS seqscan,
               current_setting('jit') AS jit`;
      expect(mode).toEqual({ plans: 'force_generic_plan', seqscan: 'off', jit: 'off' });
      // A generic plan keeps `$1`: it was made without the values, once, and is reused as the table grows.
      const empty = await plan(keyed);
      expect(empty).toContain('$1');
      expect(empty).toContain('keyed_rows_pkey');
      expect(empty).not.toContain('Seq Scan');
      await db.sql`INSERT INTO keyed_rows SELECT 'k' || g, 'READY' FROM generate_series(1, 20000) g`;
      expect(await plan(keyed)).toContain('keyed_rows_pkey');
      // The main pool plans each execution with its values.
      expect(await plan(custom)).not.toContain('$1');
    } finally {
      await Promise.all([keyed.end(), custom.end()]);
    }
  });
});

describe('checkDatabase', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP connections and never answers: a hung server.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('names the missing tables of an unmigrated or partly migrated database, then resolves once migrated', async () => {
    const fresh = await createFreshDatabase();
    try {
      const unmigrated = await checkDatabase(fresh.sql).catch((err: unknown) => err);
      expect(unmigrated).toBeInstanceOf(SchemaMissingError);
      expect((unmigrated as Error).message).toBe(
        `database has no Relay tables: apply the migrations to DATABASE_URL (npx relay migrate, or the image's "migrate" command)`,
      );
      await migrate(fresh.sql, { dir: defaultMigrationsDir() });
      await expect(checkDatabase(fresh.sql)).resolves.toBeUndefined();
      await fresh.sql`DROP TABLE task_decisions, schedule_ticks`;
      const partial = await checkDatabase(fresh.sql).catch((err: unknown) => err);
      expect((partial as SchemaMissingError).missingTables).toEqual(['schedule_ticks', 'task_decisions']);
      expect((partial as Error).message).toMatch(
        /^database lacks Relay tables schedule_ticks, task_decisions: apply/,
      );
    } finally {
      await fresh.drop();
    }
  });

  it('times out against a server that never answers', async () => {
    const { port } = silent.address() as { port: number };
    const sql = createSql(`postgres://relay:relay@127.0.0.1:${port}/relay`, { max: 1 });
    try {
      const started = Date.now();
      const error = await checkDatabase(sql, 200).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).message).toBe('database did not answer within 200ms');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await sql.end({ timeout: 0 });
    }
  });

  it('names the cause when the connection is refused', async () => {
    const sql = createSql('postgres://relay:relay@127.0.0.1:1/relay', { max: 1 });
    try {
      const error = await checkDatabase(sql, 2000).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).message).toMatch(/^database is not reachable: .*ECONNREFUSED/);
      expect((error as Error).cause).toBeInstanceOf(Error);
    } finally {
      await sql.end({ timeout: 0 });
    }
  });
});
