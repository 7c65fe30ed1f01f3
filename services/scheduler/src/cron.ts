import { randomUUID } from 'node:crypto';
import type { Bus } from '@relay/bus';
import { createSleeper, type Logger } from '@relay/runtime';
import { type CronSchedule, nextCronTick, parseCron } from '@relay/workflow';
import type { SchedulerRepository } from './repository.js';

/** Options of {@link startCronLoop}. */
export interface CronLoopOptions {
  repo: Pick<SchedulerRepository, 'listScheduledWorkflows' | 'fireScheduledRun'>;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  /** Ticks missed while no scheduler ran, up to this long ago, are still fired (each once). */
  catchUpMs: number;
  /** How often the scheduled workflows are read again (a schedule applied meanwhile waits this long at most). */
  reloadMs: number;
  now?: () => number;
}

/** A running cron loop. */
export interface CronLoop {
  /** Ends the loop after the current round. */
  stop(): Promise<void>;
}

interface Entry {
  schedule: string;
  parsed: CronSchedule;
  /** The next tick to fire (epoch ms), or null when the expression has none. */
  next: number | null;
}

const RETRY_AFTER_ERROR_MS = 1000;

/**
 * Fires `on.schedule` (cron, UTC): sleeps until the earliest tick of the scheduled workflows (or the next
 * reload), then claims each due tick and starts its run (repository `fireScheduledRun`) and publishes its
 * RunStarted. Every scheduler replica runs this loop; a tick's claim row makes one of them start one run.
 * A tick whose claim fails (Postgres away) is retried; a run whose RunStarted is lost is re-announced by
 * the reaper's reconciler, as for a run started through the API.
 */
export function startCronLoop(opts: CronLoopOptions): CronLoop {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let nextReloadAt = 0;
  let stopped = false;
  const sleeper = createSleeper(now);

  async function reload(t: number): Promise<void> {
    const listed = await opts.repo.listScheduledWorkflows();
    const seen = new Set<string>();
    for (const w of listed) {
      seen.add(w.workflowId);
      const current = entries.get(w.workflowId);
      // Kept as it is unless the schedule changed, or it had no tick within nextCronTick's horizon (five
      // years away, e.g. 29 February on a Sunday): looked for again at each reload.
      if (current?.schedule === w.schedule && current.next !== null) continue;
      let parsed: CronSchedule;
      try {
        parsed = parseCron(w.schedule);
      } catch (err) {
        // Validated when applied; a row written some other way is skipped, not fatal.
        opts.logger.error(
          { err, workflowId: w.workflowId, schedule: w.schedule },
          'invalid schedule skipped',
        );
        continue;
      }
      // Ticks from when this definition was written, not older than the catch-up window, and after the
      // newest one claimed (the retention may have deleted older claims that the window still covers).
      const from = Math.max(w.sinceMs, t - opts.catchUpMs, (w.lastTickMs ?? Number.NEGATIVE_INFINITY) + 1);
      entries.set(w.workflowId, { schedule: w.schedule, parsed, next: nextCronTick(parsed, from - 1) });
    }
    for (const id of [...entries.keys()]) if (!seen.has(id)) entries.delete(id);
    nextReloadAt = t + opts.reloadMs;
  }

  async function fire(workflowId: string, entry: Entry, tickAtMs: number): Promise<void> {
    const run = await opts.repo.fireScheduledRun({
      workflowId,
      schedule: entry.schedule,
      tickAtMs,
      runId: randomUUID(),
    });
    if (!run) return; // another scheduler's, or the schedule changed
    opts.logger.info(
      { runId: run.runId, workflowId, tick: new Date(tickAtMs).toISOString() },
      'scheduled run started',
    );
    try {
      await opts.bus.publish([{ type: 'RunStarted', data: run }]);
    } catch (err) {
      opts.logger.warn(
        { err, runId: run.runId },
        'publishing RunStarted failed; the reconciler re-announces it',
      );
    }
  }

  async function round(): Promise<void> {
    const t = now();
    if (t >= nextReloadAt) await reload(t);
    for (const [workflowId, entry] of entries) {
      // A scheduler that could not fire for a while (Postgres away, the process paused) skips what a
      // restarted one would: ticks older than the catch-up window.
      if (entry.next !== null && entry.next < t - opts.catchUpMs) {
        entry.next = nextCronTick(entry.parsed, t - opts.catchUpMs - 1);
      }
      while (entry.next !== null && entry.next <= t && !stopped) {
        await fire(workflowId, entry, entry.next);
        entry.next = nextCronTick(entry.parsed, entry.next);
      }
    }
    let wakeAt = nextReloadAt;
    for (const entry of entries.values()) if (entry.next !== null && entry.next < wakeAt) wakeAt = entry.next;
    if (!stopped) await sleeper.until(wakeAt);
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await round();
      } catch (err) {
        opts.logger.error({ err }, 'scheduled runs round failed');
        if (!stopped) await sleeper.until(now() + RETRY_AFTER_ERROR_MS);
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      sleeper.wake();
      await loop;
    },
  };
}
