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
    const rows = await deps.repo.reapStaleTaskRuns(deps.timeoutMs, deps.batchSize);
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
