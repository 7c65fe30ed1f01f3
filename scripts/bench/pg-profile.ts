import type { Sql } from '@relay/db';
import { readCpuMs } from './proc.js';

/** What the Postgres backends of each application_name did during a window. */
export interface BackendProfile {
  /** CPU ms of the backends (utime + stime from /proc/<backend pid>/stat). */
  cpuMs: number;
  /** Backend busy time estimate: sampled count of `state = 'active'` backends x sampling period. */
  activeMs: number;
  /** Distinct (pid, query_start) seen: statements observed (a lower bound at high rates). */
  statements: number;
}

/** The result of a {@link PgProfiler} window. */
export interface PgWindow {
  seconds: number;
  perApp: Map<string, BackendProfile>;
  /** pg_stat_database xact_commit + xact_rollback delta of the database (every client, incl. the profiler's samples). */
  xacts: number;
  samples: number;
}

interface Backend {
  app: string;
  baseCpu: number;
  lastCpu: number;
}

/**
 * Samples pg_stat_activity of one database every `intervalMs` (its own connection is excluded):
 * per application_name, backend CPU from /proc, active-state samples and distinct statements.
 */
export class PgProfiler {
  private backends = new Map<number, Backend>();
  private statements = new Map<string, Set<string>>();
  private active = new Map<string, number>();
  private baseStatements = new Map<string, number>();
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private xactStart = 0;
  private busy = false;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly database: string,
    private readonly intervalMs = 50,
    /**
     * Wait before each transaction-counter read: a backend flushes its counters to pg_stat_database
     * at most once a second while busy and within 10 s once idle, so 11 s makes the delta exact.
     */
    private readonly flushWaitMs = 0,
  ) {}

  /** Opens a window: snapshots the backends' CPU and the database's transaction counters. */
  async start(): Promise<void> {
    this.backends.clear();
    this.statements.clear();
    this.active.clear();
    this.baseStatements.clear();
    this.samples = 0;
    if (this.flushWaitMs > 0) await new Promise((r) => setTimeout(r, this.flushWaitMs));
    this.xactStart = await this.readXacts();
    await this.sample(true);
    this.startedAt = performance.now();
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sampling = this.sample(false).finally(() => {
        this.busy = false;
      });
    }, this.intervalMs);
  }

  /** Closes the window and returns what each application_name's backends did. */
  async stop(): Promise<PgWindow> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
    await this.sample(false);
    const seconds = (performance.now() - this.startedAt) / 1000;
    if (this.flushWaitMs > 0) await new Promise((r) => setTimeout(r, this.flushWaitMs));
    const xacts = (await this.readXacts()) - this.xactStart;
    const perApp = new Map<string, BackendProfile>();
    const entry = (app: string) => {
      let p = perApp.get(app);
      if (!p) {
        p = { cpuMs: 0, activeMs: 0, statements: 0 };
        perApp.set(app, p);
      }
      return p;
    };
    for (const b of this.backends.values()) entry(b.app).cpuMs += b.lastCpu - b.baseCpu;
    const period = this.samples > 0 ? (seconds * 1000) / this.samples : 0;
    for (const [app, n] of this.active) entry(app).activeMs += n * period;
    for (const [app, set] of this.statements)
      entry(app).statements += set.size - (this.baseStatements.get(app) ?? 0);
    return { seconds, perApp, xacts, samples: this.samples };
  }

  private async readXacts(): Promise<number> {
    // Flush this backend's own pending counters, then read (other backends flush at least every ~1 s).
    const [row] = await this.sql<{ n: string }[]>`
      SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = ${this.database}`;
    return Number(row?.n ?? 0);
  }

  private async sample(baseline: boolean): Promise<void> {
    const rows = await this.sql<{ pid: number; app: string; state: string | null; qs: string | null }[]>`
      SELECT pid, application_name AS app, state, query_start::text AS qs
      FROM pg_stat_activity
      WHERE datname = ${this.database} AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;
    if (!baseline) this.samples += 1;
    for (const row of rows) {
      const app = row.app || '(none)';
      const cpu = readCpuMs(row.pid);
      const known = this.backends.get(row.pid);
      if (cpu !== undefined) {
        if (known) known.lastCpu = cpu;
        else this.backends.set(row.pid, { app, baseCpu: baseline ? cpu : 0, lastCpu: cpu });
      }
      if (row.qs) this.seen(app).add(`${row.pid}:${row.qs}`);
      if (baseline) {
        this.baseStatements.set(app, (this.baseStatements.get(app) ?? 0) + (row.qs ? 1 : 0));
        continue;
      }
      if (row.state === 'active') this.active.set(app, (this.active.get(app) ?? 0) + 1);
    }
  }

  private seen(app: string): Set<string> {
    let set = this.statements.get(app);
    if (!set) {
      set = new Set();
      this.statements.set(app, set);
    }
    return set;
  }
}
