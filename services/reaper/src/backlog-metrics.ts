import { GROUPS, streamNames } from '@relay/contracts';
import type { Sql } from '@relay/db';
import type { Logger, Redis } from '@relay/runtime';
import { Gauge, type Registry } from 'prom-client';
import { readRedisTimeMs, readStreamState } from './stream-state.js';
import { entryIdMs } from './watermark.js';

/** One scrape's reading of the deployment's backlog. */
export interface Backlog {
  runsRunning: number;
  /** Task runs READY (waiting for the dispatcher), QUEUED (waiting for a worker) or RUNNING, by queue; no age for RUNNING. */
  tasks: {
    queue: string;
    status: 'READY' | 'QUEUED' | 'RUNNING';
    count: number;
    oldestSeconds: number | null;
  }[];
  /** The scheduler's and dispatcher's input streams: entries not yet delivered, and delivered but not acked. */
  streams: {
    stream: 'runs' | 'results' | 'ready';
    undelivered: number | null;
    pending: number;
    oldestPendingSeconds: number | null;
  }[];
}

/**
 * Reads the backlog: three small statements' worth of Postgres (RUNNING runs through their partial
 * index, active task runs grouped by queue and status) and XINFO of three streams. Waiting ages are
 * from READY's ready_at and QUEUED's queued_at (a task QUEUED for long on one queue: no worker takes
 * that queue); RUNNING has no age (a long task is not a stuck one: the reaper handles lost workers).
 */
export async function readBacklog(sql: Sql, redis: Redis, prefix: string): Promise<Backlog> {
  const names = streamNames(prefix);
  const inputs = [
    { stream: 'runs', key: names.runs, group: GROUPS.scheduler },
    { stream: 'results', key: names.results, group: GROUPS.scheduler },
    { stream: 'ready', key: names.ready, group: GROUPS.dispatcher },
  ] as const;
  const [[running], tasks, nowMs, streams] = await Promise.all([
    sql<{ count: number }[]>`SELECT count(*)::int AS count FROM runs WHERE status = 'RUNNING'`,
    sql<Backlog['tasks']>`
      -- One branch per status, so each reads its partial index, not the whole table (IN (...) scans it).
      SELECT queue, status, count(*)::int AS count,
             extract(epoch FROM now() - min(waiting_since))::float8 AS "oldestSeconds"
      FROM (SELECT queue, status, ready_at AS waiting_since FROM task_runs WHERE status = 'READY'
            UNION ALL SELECT queue, status, queued_at FROM task_runs WHERE status = 'QUEUED'
            UNION ALL SELECT queue, status, NULL FROM task_runs WHERE status = 'RUNNING') AS active
      GROUP BY queue, status
      ORDER BY queue, status`,
    readRedisTimeMs(redis),
    Promise.all(
      inputs.map(async (input) => ({ input, state: await readStreamState(redis, input.key, input.group) })),
    ),
  ]);
  return {
    runsRunning: running?.count ?? 0,
    tasks: [...tasks],
    streams: streams.map(({ input, state }) => {
      const group = state.group;
      const oldestMs = group?.smallestPendingId ? entryIdMs(group.smallestPendingId) : null;
      return {
        stream: input.stream,
        undelivered: group ? (group.lag ?? null) : null,
        pending: group?.pending ?? 0,
        oldestPendingSeconds: oldestMs === null ? null : Math.max(0, (nowMs - oldestMs) / 1000),
      };
    }),
  };
}

/**
 * Registers the backlog gauges, read at scrape time (one reading shared by every gauge of a scrape).
 * A failed reading is logged and leaves the gauges empty (relay_runs_running NaN) for that scrape;
 * /metrics still answers. Every reaper replica reports the same figures: aggregate them with max().
 */
export function registerBacklogMetrics(
  registry: Registry,
  deps: { sql: Sql; redis: Redis; prefix: string; logger: Logger },
): void {
  let reading: { at: number; backlog: Promise<Backlog | null> } | undefined;
  const read = (): Promise<Backlog | null> => {
    const now = Date.now();
    if (!reading || now - reading.at > 1000) {
      const backlog = readBacklog(deps.sql, deps.redis, deps.prefix).catch((err: unknown) => {
        deps.logger.warn({ err }, 'reading the backlog for /metrics failed');
        return null;
      });
      reading = { at: now, backlog };
    }
    return reading.backlog;
  };
  new Gauge({
    name: 'relay_runs_running',
    help: 'Runs in status RUNNING',
    registers: [registry],
    async collect() {
      // A series without labels is always printed: NaN says "unknown", where 0 would say "none".
      this.set((await read())?.runsRunning ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'relay_task_runs',
    help: 'Task runs READY (waiting for the dispatcher), QUEUED (waiting for a worker of the queue) or RUNNING',
    labelNames: ['queue', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await read())?.tasks ?? [])
        this.set({ queue: row.queue, status: row.status }, row.count);
    },
  });
  new Gauge({
    name: 'relay_task_runs_oldest_waiting_seconds',
    help: 'Age of the oldest READY or QUEUED task run (alert on QUEUED: no worker takes its queue, or too few)',
    labelNames: ['queue', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await read())?.tasks ?? []) {
        if (row.oldestSeconds !== null) this.set({ queue: row.queue, status: row.status }, row.oldestSeconds);
      }
    },
  });
  const streamGauge = (name: string, help: string, value: (s: Backlog['streams'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['stream'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of (await read())?.streams ?? []) {
          const v = value(s);
          if (v !== null) this.set({ stream: s.stream }, v);
        }
      },
    });
  streamGauge(
    'relay_stream_undelivered_entries',
    'Entries of an input stream not yet delivered to its consumer group (Redis 7 XINFO GROUPS lag)',
    (s) => s.undelivered,
  );
  streamGauge(
    'relay_stream_pending_entries',
    'Entries delivered to a consumer and not yet acknowledged',
    (s) => s.pending,
  );
  streamGauge(
    'relay_stream_oldest_pending_seconds',
    'Age of the oldest delivered, unacknowledged entry',
    (s) => s.oldestPendingSeconds,
  );
}
