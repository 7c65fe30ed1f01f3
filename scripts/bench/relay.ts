import { STREAM_FIELD, streamNames } from '@relay/contracts';
import { waitFor } from '@relay/testing';
import { BenchTimeoutError } from './errors.js';
import type { BenchFleet } from './fleet.js';
import { PgProfiler, type PgWindow } from './pg-profile.js';
import { cpuSnapshot, diffMaps, RssSampler } from './proc.js';
import { diffCalls, readCommandCalls } from './redis-profile.js';
import { stepGaps } from './stats.js';
import { chainWorkflow, fanoutWorkflow, TREE_TASKS, treeWorkflow } from './workflows.js';

/** Where a Relay scenario's time went: per service CPU, Postgres backends, Redis commands. */
export interface Profile {
  tasks: number;
  seconds: number;
  /** CPU ms per service label (process utime + stime delta). */
  cpuMs: Map<string, number>;
  pg: PgWindow;
  /** Redis command call deltas (server-wide: other clients of the shared Redis included). */
  redis: [string, number][];
}

/** Throughput result of a run (or a set of runs). */
export interface Throughput {
  tasks: number;
  seconds: number;
  tasksPerSec: number;
  msPerTask: number;
  /** Peak RSS (MB) per service label during the scenario. */
  peakRssMb: Map<string, number>;
  /** Time to register the workflow (s). */
  registerSeconds: number;
  profile?: Profile;
}

/** Mean time (ms) of each leg of a chain gap, SUCCESS -> successor RUNNING (see RelayBench.chainLegs). */
export interface ChainLegs {
  /** Gaps whose three stream entries were all found. */
  steps: number;
  /** The worker: its result transaction from `now()` through COMMIT, then the TaskSucceeded XADD. */
  result: number;
  /** The scheduler: TaskSucceeded entry -> TaskReady entry (read, promote and commit, publish). */
  scheduler: number;
  /** The dispatcher: TaskReady entry -> work entry (read, queue and commit, publish). */
  dispatcher: number;
  /** A worker: work entry -> the claim transaction's `now()`. */
  claim: number;
}

/** One chain pass's figures (raw, so that passes can be pooled). */
export interface ChainResult {
  /** Per step: successor's started_at - predecessor's finished_at (ms). */
  gaps: number[];
  /** Per step: its own finished_at - started_at (ms), the no-op inside the worker. */
  inTask: number[];
  runSeconds: number;
  legs?: ChainLegs;
}

/** The bench's view of the fleet: sampling tools bound to it. */
export class RelayBench {
  readonly rss: RssSampler;
  private seq = 0;

  constructor(readonly fleet: BenchFleet) {
    this.rss = new RssSampler(() => fleet.processes.map((p) => ({ label: p.label, pid: p.pid })));
    this.rss.start();
  }

  private procs() {
    return this.fleet.processes.map((p) => ({ label: p.label, pid: p.pid }));
  }

  private nextId(kind: string): string {
    this.seq += 1;
    return `bench-${kind}-${this.seq}`;
  }

  private async register(doc: object): Promise<number> {
    const t0 = performance.now();
    await this.fleet.api('POST', '/workflows', doc, [200, 201]);
    return (performance.now() - t0) / 1000;
  }

  private async startRun(workflowId: string): Promise<string> {
    const run = await this.fleet.api<{ id: string }>('POST', `/workflows/${workflowId}/runs`, {}, [201]);
    return run.id;
  }

  /** Waits until no run of `workflowId` is RUNNING; returns DB timestamps (epoch ms) of first start and last finish. */
  private async waitRuns(workflowId: string, expected: number, timeoutMs: number) {
    type Row = { total: number; running: number; bad: number; first: number; last: number | null };
    const read = async () => {
      const [row] = await this.fleet.sql<Row[]>`
        SELECT count(*)::int AS total,
               count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
               count(*) FILTER (WHERE status NOT IN ('RUNNING', 'SUCCESS'))::int AS bad,
               (extract(epoch FROM min(started_at)) * 1000)::float8 AS first,
               (extract(epoch FROM max(finished_at)) * 1000)::float8 AS last
        FROM runs WHERE workflow_id = ${workflowId}`;
      return row as Row;
    };
    try {
      return await waitFor(
        async () => {
          const row = await read();
          return row.total === expected && row.running === 0 ? row : undefined;
        },
        { timeoutMs, intervalMs: 50, message: `runs of ${workflowId} did not finish` },
      );
    } catch (err) {
      const states = await this.fleet.sql<{ status: string; n: number }[]>`
        SELECT t.status, count(*)::int AS n FROM task_runs t JOIN runs r ON r.id = t.run_id
        WHERE r.workflow_id = ${workflowId} GROUP BY t.status ORDER BY t.status`;
      const row = await read();
      throw new BenchTimeoutError(
        `${workflowId}: ${row.running}/${row.total} runs still RUNNING after ${timeoutMs} ms (${(err as Error).message}); task_runs: ${states.map((s) => `${s.status}=${s.n}`).join(', ')}`,
      );
    }
  }

  /**
   * Opens a profile window for a scenario about to start: Postgres sampling (after its counter-flush
   * wait, so that wait is outside the window), then the services' CPU and Redis's command counts. `close`
   * reads CPU and Redis first, so the window is the scenario's own, not the 11 s waits around it.
   */
  private async openProfile(): Promise<{ close(tasks: number): Promise<Profile> }> {
    const pg = new PgProfiler(this.fleet.sql, this.fleet.database, 50, 11_000);
    await pg.start();
    const cpuBefore = cpuSnapshot(this.procs());
    const redisBefore = await readCommandCalls(this.fleet.redis);
    return {
      close: async (tasks) => {
        const cpuMs = diffMaps(cpuBefore, cpuSnapshot(this.procs()));
        const redis = diffCalls(redisBefore, await readCommandCalls(this.fleet.redis));
        const window = await pg.stop();
        return { tasks, seconds: window.seconds, cpuMs, pg: window, redis };
      },
    };
  }

  /** One run of root -> `width` no-op tasks -> sink; with `profile`, measures where the time goes. */
  async fanout(width: number, opts: { profile?: boolean; timeoutMs: number }): Promise<Throughput> {
    const id = this.nextId(`fanout-${width}`);
    const registerSeconds = await this.register(fanoutWorkflow(id, width));
    const profile = opts.profile ? await this.openProfile() : undefined;
    this.rss.reset();
    await this.startRun(id);
    const row = await this.waitRuns(id, 1, opts.timeoutMs);
    const peakRssMb = this.rss.peaksMb();
    const tasks = width + 2;
    const seconds = ((row.last as number) - row.first) / 1000;
    const result: Throughput = {
      tasks,
      seconds,
      tasksPerSec: tasks / seconds,
      msPerTask: (seconds * 1000) / tasks,
      peakRssMb,
      registerSeconds,
    };
    if (profile) result.profile = await profile.close(tasks);
    return result;
  }

  /** `runs` runs of the 10-task tree, all started at once through the API; with `profile`, as fanout. */
  async manyRuns(
    runs: number,
    opts: { profile?: boolean; timeoutMs: number },
  ): Promise<Throughput & { startSeconds: number }> {
    const id = this.nextId('tree');
    const registerSeconds = await this.register(treeWorkflow(id));
    const profile = opts.profile ? await this.openProfile() : undefined;
    this.rss.reset();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: runs }, () => this.startRun(id)));
    const startSeconds = (performance.now() - t0) / 1000;
    const row = await this.waitRuns(id, runs, opts.timeoutMs);
    const tasks = runs * TREE_TASKS;
    const seconds = ((row.last as number) - row.first) / 1000;
    return {
      tasks,
      seconds,
      tasksPerSec: tasks / seconds,
      msPerTask: (seconds * 1000) / tasks,
      peakRssMb: this.rss.peaksMb(),
      registerSeconds,
      startSeconds,
      ...(profile ? { profile: await profile.close(tasks) } : {}),
    };
  }

  /** A `length`-step chain: per step, successor's started_at minus predecessor's finished_at (ms). */
  async chain(length: number, timeoutMs: number): Promise<ChainResult> {
    const id = this.nextId('chain');
    await this.register(chainWorkflow(id, length));
    const since = Date.now();
    const runId = await this.startRun(id);
    const row = await this.waitRuns(id, 1, timeoutMs);
    const steps = await this.fleet.sql<{ id: string; s: number; f: number }[]>`
      SELECT id, (extract(epoch FROM started_at) * 1000)::float8 AS s,
             (extract(epoch FROM finished_at) * 1000)::float8 AS f
      FROM task_runs WHERE run_id = ${runId} ORDER BY task_id`;
    return {
      gaps: stepGaps(
        steps.map((r) => r.f),
        steps.map((r) => r.s),
      ),
      inTask: steps.map((r) => r.f - r.s),
      runSeconds: ((row.last as number) - row.first) / 1000,
      legs: await this.chainLegs(steps, since),
    };
  }

  /**
   * Splits each chain gap at the three stream entries between a step's SUCCESS and its successor's RUNNING
   * (TaskSucceeded on results, TaskReady on ready, the work entry), by entry id. Ids are whole ms of the
   * Redis clock (this host's, as Postgres's), so each is taken at its midpoint (+0.5 ms) and only means
   * are given: per-step values are off by up to a millisecond.
   */
  private async chainLegs(
    steps: readonly { id: string; s: number; f: number }[],
    sinceMs: number,
  ): Promise<ChainLegs | undefined> {
    const names = streamNames(this.fleet.prefix);
    const at = async (stream: string): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      const entries = (await this.fleet.redis.xrange(stream, String(sinceMs), '+')) as [string, string[]][];
      for (const [entryId, fields] of entries) {
        const field = fields.indexOf(STREAM_FIELD);
        if (field < 0 || field % 2 !== 0) continue;
        let taskRunId: unknown;
        try {
          taskRunId = (JSON.parse(fields[field + 1] ?? '') as { data?: { taskRunId?: unknown } }).data
            ?.taskRunId;
        } catch {
          continue; // not an envelope: not one of the chain's entries
        }
        if (typeof taskRunId === 'string' && !out.has(taskRunId))
          out.set(taskRunId, Number(entryId.split('-')[0]) + 0.5);
      }
      return out;
    };
    const [succeeded, ready, work] = [
      await at(names.results),
      await at(names.ready),
      await at(names.work('default')),
    ];
    const sums = { result: 0, scheduler: 0, dispatcher: 0, claim: 0 };
    let n = 0;
    for (let i = 1; i < steps.length; i += 1) {
      const prev = steps[i - 1] as (typeof steps)[number];
      const next = steps[i] as (typeof steps)[number];
      const a = succeeded.get(prev.id);
      const b = ready.get(next.id);
      const c = work.get(next.id);
      if (a === undefined || b === undefined || c === undefined) continue;
      sums.result += a - prev.f;
      sums.scheduler += b - a;
      sums.dispatcher += c - b;
      sums.claim += next.s - c;
      n += 1;
    }
    if (n === 0) return undefined;
    return {
      steps: n,
      result: sums.result / n,
      scheduler: sums.scheduler / n,
      dispatcher: sums.dispatcher / n,
      claim: sums.claim / n,
    };
  }

  /**
   * Stores `runs` finished runs of a 10-task tree (SQL, with their task_runs), lets the fleet settle,
   * then measures each service's CPU and statements over `seconds`.
   */
  async idle(runs: number, seconds: number): Promise<IdleResult> {
    const id = this.nextId('idle');
    await this.register(treeWorkflow(id));
    const sql = this.fleet.sql;
    await sql`
      INSERT INTO runs (id, workflow_id, status, workflow_version, remaining_tasks, started_at, finished_at)
      SELECT 'idle-' || g, ${id}, 'SUCCESS', 1, 0, now() - interval '1 hour', now() - interval '59 minutes'
      FROM generate_series(1, ${runs}) g`;
    await sql`
      INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, output, started_at, finished_at,
                             propagated_at, queued_at)
      SELECT 'idle-' || g || ':' || t, 'idle-' || g, t, ${id}, 'SUCCESS', 1, 'null',
             now() - interval '1 hour', now() - interval '59 minutes', now() - interval '59 minutes',
             now() - interval '1 hour'
      FROM generate_series(1, ${runs}) g, unnest(${['a', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']}::text[]) t`;
    await sql`ANALYZE runs`;
    await sql`ANALYZE task_runs`;
    await new Promise((r) => setTimeout(r, 3000));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Phase 1: process CPU and database-wide transactions, nothing else touching the database.
    const xacts = async () => {
      const [row] = await sql<{ n: string }[]>`
        SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = ${this.fleet.database}`;
      return Number(row?.n ?? 0);
    };
    const before = cpuSnapshot(this.procs());
    const x0 = await xacts();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpuMs = diffMaps(before, cpuSnapshot(this.procs()));
    const elapsed = (performance.now() - t0) / 1000;
    const serviceXacts = (await xacts()) - x0 - 1;
    // Phase 2: statements per application_name from pg_stat_activity sampling.
    const pg = new PgProfiler(sql, this.fleet.database, 20);
    await pg.start();
    await sleep(seconds * 1000);
    const window = await pg.stop();
    return { seconds: elapsed, cpuMs, pg: window, runs, xactsPerSec: serviceXacts / elapsed };
  }
}

/** Idle measurement: CPU per service label and Postgres activity per application_name. */
export interface IdleResult {
  seconds: number;
  runs: number;
  cpuMs: Map<string, number>;
  pg: PgWindow;
  /** pg_stat_database transactions/s of every client but the bench during the CPU window (counters flush with up to 10 s lag). */
  xactsPerSec: number;
}
