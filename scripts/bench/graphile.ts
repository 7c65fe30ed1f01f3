import { randomBytes } from 'node:crypto';
import { createSql } from '@relay/db';
import { WaitForTimeoutError, waitFor } from '@relay/testing';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { BenchTimeoutError } from './errors.js';
import { databaseUrl, withAdmin } from './fleet.js';
import { type Percentiles, summarize } from './stats.js';

/** graphile-worker results: bulk no-op jobs throughput and a self-extending chain's step latency. */
export interface GraphileResult {
  jobs: { jobs: number; seconds: number; jobsPerSec: number };
  /** The warm-up pass of the same jobs (the first on this pool). */
  warmJobs: { jobsPerSec: number };
  chain: Percentiles;
}

const quiet = new Logger(() => (level: string, message: string) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});

/**
 * On a fresh database (dropped after): `jobs` no-op jobs added in one batch with the pool running
 * (jobs/s from just before the add to the moment the jobs table is empty), then a `chainLength` chain in
 * which each job adds the next (gap = successor's start - the moment its predecessor called addJob).
 * Both shapes run once first, unmeasured but for the jobs' rate, as a warm-up.
 */
export async function benchGraphile(opts: {
  jobs: number;
  chainLength: number;
  concurrency: number;
  maxPoolSize: number;
  timeoutMs: number;
  /** Runs right after the measured chain, with the pool still up and idle (the bench's floor ring). */
  afterChain?: () => Promise<unknown>;
}): Promise<GraphileResult> {
  const database = `relay_bench_gw_${randomBytes(5).toString('hex')}`;
  await withAdmin((admin) => admin`CREATE DATABASE ${admin(database)}`);
  const connectionString = databaseUrl(database);
  const sql = createSql(connectionString, { max: 1, applicationName: 'relay-bench' });
  let done = 0;
  const chainStart: number[] = [];
  const chainAdd: number[] = [];
  let chainDone = false;
  try {
    const utils = await makeWorkerUtils({ connectionString, logger: quiet });
    await utils.migrate();
    const runner = await run({
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
    try {
      const waitUntil = async (check: () => Promise<boolean> | boolean, what: string) => {
        const deadline = Date.now() + opts.timeoutMs;
        while (!(await check())) {
          if (Date.now() > deadline) throw new BenchTimeoutError(`graphile-worker ${what} timed out`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      const empty = async () => {
        const [row] = await sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM graphile_worker._private_jobs`;
        return row?.n === 0;
      };
      /** Adds the jobs with the pool running; returns the seconds until the jobs table is empty. */
      const runJobs = async (what: string): Promise<number> => {
        done = 0;
        const specs = Array.from({ length: opts.jobs }, () => ({ identifier: 'noop', payload: {} }));
        const t0 = performance.now();
        await utils.addJobs(specs);
        await waitUntil(() => done >= opts.jobs, what);
        await waitUntil(empty, `${what} drain`);
        return (performance.now() - t0) / 1000;
      };
      /** Runs the self-extending chain; returns its gaps. */
      const runChain = async (what: string): Promise<number[]> => {
        chainDone = false;
        chainStart.length = 0;
        chainAdd.length = 0;
        await utils.addJob('step', { i: 1, n: opts.chainLength });
        await waitUntil(() => chainDone, what);
        const gaps: number[] = [];
        for (let i = 2; i <= opts.chainLength; i += 1)
          gaps.push((chainStart[i] as number) - (chainAdd[i - 1] as number));
        return gaps;
      };
      // Warm-up, as Relay's: each shape once at the measured size (connections, JIT).
      const warmSeconds = await runJobs('warm-up jobs');
      await runChain('warm-up chain');
      const seconds = await runJobs('jobs');
      const gaps = await runChain('chain');
      await opts.afterChain?.();
      return {
        jobs: { jobs: opts.jobs, seconds, jobsPerSec: opts.jobs / seconds },
        warmJobs: { jobsPerSec: opts.jobs / warmSeconds },
        chain: summarize(gaps),
      };
    } finally {
      await runner.stop();
      await utils.release();
    }
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
}
