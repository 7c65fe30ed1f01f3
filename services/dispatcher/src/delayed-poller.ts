import { type DelayedSet, unlessAborted } from '@relay/bus';
import { createSleeper, type Logger } from '@relay/runtime';

/** Options of {@link startDelayedPoller}. */
export interface DelayedPollerOptions {
  delayed: DelayedSet;
  /** Dispatches popped task run ids; when it throws they are put back, due a second later. */
  dispatch: (ids: string[]) => Promise<unknown>;
  logger: Logger;
  /** Longest sleep between polls (another dispatcher may add earlier items). Default 1000. */
  maxSleepMs?: number;
  /** Members popped per round. Default 500. */
  batchSize?: number;
  now?: () => number;
}

/** A running poller of the delayed set. */
export interface DelayedPoller {
  /** An item due at `dueAtMs` was added here: wake now if that is earlier than the current sleep's end. */
  notify(dueAtMs: number): void;
  /** Ends the loop after the current round. */
  stop(): Promise<void>;
}

const RETRY_AFTER_ERROR_MS = 1000;

/**
 * Polls the delayed set: sleeps until the earliest due time (at most `maxSleepMs`), pops up to
 * `batchSize` due members atomically (so two dispatchers never pop the same one) and dispatches them.
 */
export function startDelayedPoller(opts: DelayedPollerOptions): DelayedPoller {
  const maxSleepMs = opts.maxSleepMs ?? 1000;
  const batchSize = opts.batchSize ?? 500;
  const now = opts.now ?? Date.now;
  let stopped = false;
  const stopping = new AbortController();
  const sleeper = createSleeper(now);

  async function round(): Promise<void> {
    // A read: abandoned on stop (with Redis unreachable it waits in the offline queue). The pop below is
    // not: a pop that landed after being abandoned would take its members out of the set unseen.
    const next = await unlessAborted(opts.delayed.nextDueAtMs(), stopping.signal);
    const t = now();
    if (next === null || next > t) {
      await sleeper.until(Math.min(t + maxSleepMs, next ?? Number.POSITIVE_INFINITY));
      return;
    }
    const ids = await opts.delayed.popDue(t, batchSize);
    if (ids.length === 0) return;
    try {
      await opts.dispatch(ids);
    } catch (err) {
      // Popped members are gone from the set: put them back so a transient failure loses none.
      await opts.delayed.add(ids.map((member) => ({ member, dueAtMs: now() + RETRY_AFTER_ERROR_MS })));
      throw err;
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await round();
      } catch (err) {
        if (stopped) break;
        opts.logger.error({ err }, 'delayed poll failed');
        if (!stopped) await sleeper.until(now() + RETRY_AFTER_ERROR_MS);
      }
    }
  })();

  return {
    notify(dueAtMs) {
      sleeper.wakeIfAfter(dueAtMs);
    },
    async stop() {
      stopped = true;
      stopping.abort();
      sleeper.wake();
      await loop;
    },
  };
}
