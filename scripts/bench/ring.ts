import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createSql } from '@relay/db';
import { createTestRedis, deleteRedisPrefix } from '@relay/testing';
import { BenchError, BenchTimeoutError } from './errors.js';
import { databaseUrl, withAdmin } from './fleet.js';

/** A floor ring up (see startRing). */
export interface RingSession {
  hops: number;
  /** `cycles` measured cycles after `warmup` unmeasured ones; the cycle times (ms). */
  cycles(cycles: number, warmup: number): Promise<number[]>;
  /** Stops the hops, deletes the prefix and drops the database. */
  stop(): Promise<void>;
}

/**
 * The floor under a chain step on this machine's Postgres and Redis: `hops` processes in a ring
 * (ring-hop.ts), each doing only what one of Relay's hops must: XREADGROUP BLOCK, one single-row UPDATE
 * with a durable commit, XADD to the next stream. One cycle = the bench XADDs to the first stream and
 * reads the last hop's entry (XREAD BLOCK): `hops` commits and `hops + 1` stream hops, no Relay code.
 * On a fresh database and prefix; it stays up between passes, so that dropping its database (a forced
 * checkpoint, which slows every commit for a while) happens once, at `stop`.
 */
export async function startRing(opts: { hops: number; timeoutMs: number }): Promise<RingSession> {
  const database = `relay_bench_ring_${randomBytes(5).toString('hex')}`;
  const prefix = `relaybench-ring:${randomBytes(6).toString('hex')}`;
  const stream = (i: number) => `${prefix}:${i}`;
  await withAdmin((admin) => admin`CREATE DATABASE ${admin(database)}`);
  const url = databaseUrl(database);
  const redis = createTestRedis();
  const driver = createTestRedis();
  const hops: ChildProcess[] = [];
  const stop = async () => {
    for (const child of hops) child.kill('SIGTERM');
    await Promise.all(
      hops.map((child) =>
        child.exitCode === null && child.signalCode === null
          ? new Promise((resolve) => child.once('exit', resolve))
          : undefined,
      ),
    );
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
    driver.disconnect();
    await withAdmin((admin) => admin`DROP DATABASE IF EXISTS ${admin(database)} WITH (FORCE)`);
  };
  try {
    const sql = createSql(url, { max: 1, applicationName: 'relay-bench' });
    await sql`CREATE TABLE ring (id int PRIMARY KEY, n bigint NOT NULL)`;
    await sql`INSERT INTO ring SELECT g, 0 FROM generate_series(0, ${opts.hops - 1}) g`;
    await sql.end({ timeout: 5 });
    for (let i = 0; i < opts.hops; i += 1) await redis.xgroup('CREATE', stream(i), 'ring', '$', 'MKSTREAM');
    const entry = fileURLToPath(new URL('./ring-hop.ts', import.meta.url));
    await Promise.all(
      Array.from({ length: opts.hops }, (_, i) => {
        const child = fork(entry, [], {
          // The bench runs under tsx: the hops inherit its loader flags (process.execArgv).
          execArgv: process.execArgv,
          env: {
            ...process.env,
            RING_DATABASE_URL: url,
            RING_IN: stream(i),
            RING_OUT: stream(i + 1),
            RING_ROW: String(i),
          },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        hops.push(child);
        return new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new BenchError(`ring hop ${i} exited with ${code} at start`)));
        });
      }),
    );
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const last = stream(opts.hops);
  let lastId = '0-0';
  const cycle = async (): Promise<number> => {
    const t0 = performance.now();
    await driver.xadd(stream(0), '*', 'c', '1');
    const reply = (await driver.xread('BLOCK', opts.timeoutMs, 'STREAMS', last, lastId)) as
      | [string, [string, string[]][]][]
      | null;
    const entries = reply?.[0]?.[1];
    if (!entries || entries.length === 0)
      throw new BenchTimeoutError(`ring: no cycle back within ${opts.timeoutMs} ms`);
    lastId = (entries.at(-1) as [string, string[]])[0];
    return performance.now() - t0;
  };
  return {
    hops: opts.hops,
    cycles: async (cycles, warmup) => {
      for (let i = 0; i < warmup; i += 1) await cycle();
      const times: number[] = [];
      for (let i = 0; i < cycles; i += 1) times.push(await cycle());
      return times;
    },
    stop,
  };
}
