import type { Bus, OutgoingEvent } from '@relay/bus';
import type { Logger } from '@relay/runtime';
import type { ReapedTaskRun, ReaperRepository } from './repository.js';

/** What one reaping pass needs. */
export interface ReapDeps {
  repo: ReaperRepository;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  timeoutMs: number;
  batchSize: number;
  /** False: reach the database, reap nothing (see {@link Steadiness}). Default true. */
  apply?: boolean;
}

/**
 * Whether the reaper may judge heartbeats. A heartbeat is only as fresh as the database let its worker
 * write it: when the database was unreachable for longer than the heartbeat timeout (a restart, a
 * failover), every RUNNING task looks stalled the moment it is back, and reaping then would fail the
 * attempts of live workers (a black-box audit lost every run of a 20 s outage so). So the reaper reaps
 * only once it has reached the database steadily, passes no further apart than `maxGapMs`, for a whole
 * `windowMs` (the heartbeat timeout): by then every live worker has heartbeated again. That also holds
 * after the reaper's own start, and after it was frozen itself. Pure; the caller passes the clock.
 */
export class Steadiness {
  private since: number | undefined;
  private lastOkAt: number | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly maxGapMs: number,
  ) {}

  /** Whether a pass starting at `now` may reap. */
  steady(now: number): boolean {
    return this.since !== undefined && this.fresh(now) && now - this.since >= this.windowMs;
  }

  /** A pass that started at `startedAt` reached the database; it ended at `now`. */
  reached(startedAt: number, now: number): void {
    if (this.since === undefined || !this.fresh(startedAt)) this.since = startedAt;
    this.lastOkAt = now;
  }

  /** A pass failed: the database (or the way to it) is not to be trusted yet. */
  failed(): void {
    this.since = undefined;
  }

  private fresh(now: number): boolean {
    return this.lastOkAt !== undefined && now - this.lastOkAt <= this.maxGapMs;
  }
}

/** HeartbeatMissed (outcome FAILED: the scheduler retries or fails) for every reaped attempt. */
export function reapedEvents(rows: readonly ReapedTaskRun[]): OutgoingEvent[] {
  return rows.map((r) => ({
    type: 'HeartbeatMissed',
    data: { runId: r.runId, taskId: r.taskId, taskRunId: r.id, attempt: r.attempt, outcome: 'FAILED' },
  }));
}

/**
 * Reaps stalled attempts in batches (one transaction each), publishing after each commit, and goes
 * on at once while a batch was full. Returns how many attempts were reaped.
 */
export async function reapOnce(deps: ReapDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await deps.repo.reapStaleTaskRuns(deps.timeoutMs, deps.batchSize, deps.apply ?? true);
    if (rows.length > 0) {
      await publishWithRetry(reapedEvents(rows), deps);
      for (const r of rows) {
        deps.logger.warn(
          { runId: r.runId, taskId: r.taskId, attempt: r.attempt, attemptsLeft: r.attemptsLeft },
          'heartbeat missed',
        );
      }
    }
    total += rows.length;
    if (rows.length < deps.batchSize) return total;
  }
}

const PUBLISH_ATTEMPTS = 10;

/** Committed rows must get their events: retry the publish a while before giving up. */
async function publishWithRetry(events: OutgoingEvent[], deps: ReapDeps): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await deps.bus.publish(events);
      return;
    } catch (err) {
      if (i >= PUBLISH_ATTEMPTS) throw err;
      deps.logger.error({ err, events: events.length, try: i }, 'publishing reaped events failed');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** i)));
    }
  }
}
