import { randomBytes } from 'node:crypto';
import { createSql } from '@relay/db';
import { WaitForTimeoutError, waitFor } from '@relay/testing';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { BenchTimeoutError } from './errors.js';
import { databaseUrl, withAdmin } from './fleet.js';

/** graphile-worker's bulk no-op jobs: one measured pass. */
export interface GraphileJobs {
  jobs: number;
  seconds: number;
  jobsPerSec: number;
}

/** A graphile-worker pool up on a database of its own, for passes of either shape (see startGraphile). */
export interface GraphileSession {
  /** Adds the jobs in one batch with the pool running; jobs/s until the jobs table is empty. */
  jobs(): Promise<GraphileJobs>;
  /** Runs the self-extending chain; gaps (ms) = successor's start - the moment its predecessor called addJob. */
  chain(): Promise<number[]>;
  /** Stops the pool and drops the database. */
  stop(): Promise<void>;
}

const quiet = new Logger(() => (level: string, message: string) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});

/**
 * Starts a graphile-worker pool on a fresh database (dropped by `stop`) for `jobs` no-op jobs and a
 * `chainLength` chain in which each job adds the next, and warms it up: each shape once at the measured
 * size (connections, JIT). Returns the session and the warm-up pass's jobs figure.
 */
export async function startGraphile(opts: {
  jobs: number;
  chainLength: number;
  concurrency: number;
  maxPoolSize: number;
  timeoutMs: number;
}): Promise<{ session: GraphileSession; warmJobs: GraphileJobs }> {
  const database = `relay_bench_gw_${randomBytes(5).toString('hex')}`;
  await withAdmin((admin) => admin`CREATE DATABASE ${admin(database)}`);
  const connectionString = databaseUrl(database);
  const sql = createSql(connectionString, { max: 1, applicationName: 'relay-bench' });
  let done = 0;
  const chainStart: number[] = [];
  const chainAdd: number[] = [];
  let chainDone = false;
  let utils: Awaited<ReturnType<typeof makeWorkerUtils>> | undefined;
  let runner: Awaited<ReturnType<typeof run>> | undefined;

  const stop = async () => {
    try {
      await runner?.stop();
      await utils?.release();
    } finally {
      await sql.end({ timeout: 5 });
      await withAdmin(async (admin) => {
        // runner.stop() can return before graphile-worker's own pool has closed its connections; a forced
        // drop then terminates them and the pool emits an 'error' nobody listens to, which ends this
        // process. So wait (up to 15 s: pg.Pool closes idle clients after 10 s) for them to close first,
        // and drop anyway after that.
        await waitFor(
          async () => {
            const [row] = await admin<{ n: number }[]>`
              SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${database}`;
            return row?.n === 0;
          },
          { timeoutMs: 15_000 },
        ).catch((err: unknown) => {
          if (!(err instanceof WaitForTimeoutError)) throw err;
        });
        await admin`DROP DATABASE IF EXISTS ${admin(database)} WITH (FORCE)`;
      });
    }
  };

  try {
    const workerUtils = await makeWorkerUtils({ connectionString, logger: quiet });
    utils = workerUtils;
    await workerUtils.migrate();
    runner = await run({
      connectionString,
      maxPoolSize: opts.maxPoolSize,
      concurrency: opts.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: quiet,
      taskList: {
        noop: async () => {
          done += 1;
        },
        step: async (payload, helpers) => {
          const { i, n } = payload as { i: number; n: number };
          chainStart[i] = performance.now();
          if (i < n) {
            chainAdd[i] = performance.now();
            await helpers.addJob('step', { i: i + 1, n });
          } else chainDone = true;
        },
      },
    });
    const waitUntil = async (check: () => Promise<boolean> | boolean, what: string) => {
      const deadline = Date.now() + opts.timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new BenchTimeoutError(`graphile-worker ${what} timed out`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const empty = async () => {
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM graphile_worker._private_jobs`;
      return row?.n === 0;
    };
    const session: GraphileSession = {
      jobs: async () => {
        done = 0;
        const specs = Array.from({ length: opts.jobs }, () => ({ identifier: 'noop', payload: {} }));
        const t0 = performance.now();
        await workerUtils.addJobs(specs);
        await waitUntil(() => done >= opts.jobs, 'jobs');
        await waitUntil(empty, 'jobs drain');
        const seconds = (performance.now() - t0) / 1000;
        return { jobs: opts.jobs, seconds, jobsPerSec: opts.jobs / seconds };
      },
      chain: async () => {
        chainDone = false;
        chainStart.length = 0;
        chainAdd.length = 0;
        await workerUtils.addJob('step', { i: 1, n: opts.chainLength });
        await waitUntil(() => chainDone, 'chain');
        const gaps: number[] = [];
        for (let i = 2; i <= opts.chainLength; i += 1)
          gaps.push((chainStart[i] as number) - (chainAdd[i - 1] as number));
        return gaps;
      },
      stop,
    };
    const warmJobs = await session.jobs();
    await session.chain();
    return { session, warmJobs };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
