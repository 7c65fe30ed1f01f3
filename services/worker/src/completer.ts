import type { Bus, OutgoingEvent } from '@relay/bus';
import { MAX_ERROR_LENGTH, sanitizeText } from '@relay/contracts';
import { faultPoint, type Logger } from '@relay/runtime';
import type { FailureWrite, SuccessWrite, WorkerRepository } from './repository.js';
import type { ClaimedTask } from './types.js';

/** A finished attempt waiting to be written. */
export type Completion =
  | { claim: ClaimedTask; ok: true; output: string; input: string | null }
  | { claim: ClaimedTask; ok: false; error: string; retryable: boolean; input: string | null };

const RETRY_AFTER_ERROR_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Coalesces the results that finish in the same tick (flushed on setImmediate, no fixed tick) into
 * one UPDATE for successes and one for failures, then publishes TaskSucceeded / TaskFailed for the
 * rows written only. A row not written belonged to a superseded or cancelled attempt: its result is
 * discarded. `add` resolves once the result is written (or discarded).
 */
export class Completer {
  private pending: { item: Completion; done: () => void }[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      repo: Pick<WorkerRepository, 'completeSucceeded' | 'completeFailed'>;
      bus: Pick<Bus, 'publish'>;
      workerId: string;
      logger: Logger;
      /** Called for each result once its statement committed: written, or discarded (matched no row). */
      onOutcome?: (claim: ClaimedTask, outcome: 'success' | 'failed' | 'discarded') => void;
    },
  ) {}

  /** Queues a result; resolves when it has been written or discarded. */
  add(item: Completion): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ item, done: resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flushing = this.flushing.then(() => this.flush());
        });
      }
    });
  }

  /** Resolves once every result added so far is written. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.scheduled) {
      await new Promise((resolve) => setImmediate(resolve));
      await this.flushing;
    }
    await this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let events: OutgoingEvent[];
    for (;;) {
      try {
        events = await this.write(batch.map((b) => b.item));
        break;
      } catch (err) {
        // The rows stay RUNNING and heartbeated while we retry, so the reaper leaves them alone.
        this.deps.logger.error({ err, results: batch.length }, 'writing task results failed');
        await sleep(RETRY_AFTER_ERROR_MS);
      }
    }
    // Committed: a retried write would match nothing, so only the publish is retried.
    if (events.length > 0) faultPoint('worker.after-commit');
    while (events.length > 0) {
      try {
        await this.deps.bus.publish(events);
        break;
      } catch (err) {
        this.deps.logger.error({ err, events: events.length }, 'publishing task results failed');
        await sleep(RETRY_AFTER_ERROR_MS);
      }
    }
    for (const b of batch) b.done();
  }

  /** Writes the batch (two statements) and returns the events of the rows written. */
  private async write(items: Completion[]): Promise<OutgoingEvent[]> {
    const successes: SuccessWrite[] = [];
    const failures: (FailureWrite & { retryable: boolean })[] = [];
    for (const c of items) {
      const key = { id: c.claim.id, attempt: c.claim.attempt, input: c.input };
      if (c.ok) successes.push({ ...key, output: c.output });
      else failures.push({ ...key, error: sanitizeText(c.error, MAX_ERROR_LENGTH), retryable: c.retryable });
    }
    const [succeeded, failed] = await Promise.all([
      this.deps.repo.completeSucceeded(this.deps.workerId, successes),
      this.deps.repo.completeFailed(this.deps.workerId, failures),
    ]);
    const written = new Set([...succeeded, ...failed]);
    const { logger } = this.deps;
    const events: OutgoingEvent[] = [];
    for (const c of items) {
      const ids = { runId: c.claim.runId, taskId: c.claim.taskId, attempt: c.claim.attempt };
      if (!written.has(c.claim.id)) {
        logger.info({ ...ids, ok: c.ok }, 'result discarded: attempt superseded or cancelled');
        this.deps.onOutcome?.(c.claim, 'discarded');
        continue;
      }
      this.deps.onOutcome?.(c.claim, c.ok ? 'success' : 'failed');
      const data = { ...ids, taskRunId: c.claim.id };
      if (c.ok) {
        const pinned = { workflowId: c.claim.workflowId, workflowVersion: c.claim.workflowVersion };
        events.push({ type: 'TaskSucceeded', data: { ...data, ...pinned } });
        logger.info(ids, 'task succeeded');
      } else {
        const error = sanitizeText(c.error, MAX_ERROR_LENGTH);
        events.push({ type: 'TaskFailed', data: { ...data, error, retryable: c.retryable } });
        logger.info({ ...ids, error, retryable: c.retryable }, 'task failed');
      }
    }
    return events;
  }
}
