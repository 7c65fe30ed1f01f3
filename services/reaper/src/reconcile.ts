import type { Bus, OutgoingEvent } from '@relay/bus';
import { GROUPS, MAX_ERROR_LENGTH, sanitizeText, streamNames } from '@relay/contracts';
import type { Logger, Redis } from '@relay/runtime';
import type { Candidate, ClaimedRow, ReconcileKind, ReconcileRepository } from './repository.js';
import { readRedisTimeMs, readStreamState } from './stream-state.js';
import { ackedWatermark, isEventGone } from './watermark.js';

/** What one reconciler sweep needs. */
export interface ReconcileDeps {
  repo: ReconcileRepository;
  bus: Pick<Bus, 'publish'>;
  redis: Redis;
  prefix: string;
  logger: Logger;
  graceMs: number;
  /** Candidates per statement (default 500); the sweep goes on while a batch was full. */
  batchSize?: number;
}

/** Rows recovered per kind in one sweep, and RUNNING runs no event can finish (reported only). */
export type ReconcileResult = Record<ReconcileKind, number> & { unfinishable: number };

/**
 * Least commit-to-publish delay tolerated before an event counts as published (ms). The sweep uses
 * the larger of this and the grace: a row's timestamp is its transaction's start (`now()`), and a
 * large transaction (a 100k-task fan-out promoted in chunks) publishes seconds after it, behind a
 * backlog that is slow, not lost.
 */
export const PUBLISH_SLACK_MS = 1000;

const DEFAULT_BATCH = 500;

interface KindSpec {
  kind: ReconcileKind;
  list(graceMs: number, limit: number): Promise<Candidate[]>;
  claim(ids: readonly string[], graceMs: number): Promise<ClaimedRow[]>;
  /** The stream and consumer group whose progress tells whether the event is gone. */
  stream(candidate: Candidate): { key: string; group: string };
  event(row: ClaimedRow): OutgoingEvent;
}

/** The event that moves a claimed row on, per kind. */
function kindSpecs(repo: ReconcileRepository, prefix: string): KindSpec[] {
  const names = streamNames(prefix);
  const runs = () => ({ key: names.runs, group: GROUPS.scheduler });
  const results = () => ({ key: names.results, group: GROUPS.scheduler });
  const task = (r: ClaimedRow) => ({ runId: r.runId, taskId: r.taskId ?? '', taskRunId: r.id });
  return [
    {
      kind: 'run_started',
      list: repo.listRunsNotStarted,
      claim: repo.claimRunsNotStarted,
      stream: runs,
      event: (r) => ({
        type: 'RunStarted',
        data: { runId: r.runId, workflowId: r.workflowId, workflowVersion: r.workflowVersion },
      }),
    },
    {
      kind: 'run_cancel_requested',
      list: repo.listRunsCancelRequested,
      claim: repo.claimRunsCancelRequested,
      stream: runs,
      event: (r) => ({ type: 'RunCancelRequested', data: { runId: r.runId } }),
    },
    {
      kind: 'task_succeeded',
      list: repo.listUnpropagatedSuccesses,
      claim: repo.claimUnpropagatedSuccesses,
      stream: results,
      event: (r) => ({
        type: 'TaskSucceeded',
        data: {
          ...task(r),
          attempt: r.attempt ?? 1,
          workflowId: r.workflowId,
          workflowVersion: r.workflowVersion,
        },
      }),
    },
    {
      kind: 'task_failed',
      list: repo.listUnhandledFailures,
      claim: repo.claimUnhandledFailures,
      stream: results,
      // retryable is what the worker decided (the reaper's "worker lost": true); unknown (a row
      // written before 003) never retries.
      event: (r) => ({
        type: 'TaskFailed',
        data: {
          ...task(r),
          attempt: r.attempt ?? 1,
          error: sanitizeText(r.error ?? 'unknown error', MAX_ERROR_LENGTH),
          retryable: r.retryable ?? false,
        },
      }),
    },
    {
      kind: 'task_ready',
      list: repo.listStaleReady,
      claim: repo.claimStaleReady,
      stream: () => ({ key: names.ready, group: GROUPS.dispatcher }),
      event: (r) => ({ type: 'TaskReady', data: { ...task(r), queue: r.queue ?? 'default' } }),
    },
    {
      kind: 'task_decided',
      list: repo.listUnappliedDecisions,
      claim: repo.claimUnappliedDecisions,
      stream: runs,
      event: (r): OutgoingEvent => {
        const by = r.decision?.by ? { by: r.decision.by } : {};
        const base = { runId: r.runId, taskId: r.taskId ?? '', ...by };
        return r.decision?.approved
          ? { type: 'TaskApproved', data: base }
          : {
              type: 'TaskRejected',
              data: { ...base, ...(r.decision?.reason ? { reason: r.decision.reason } : {}) },
            };
      },
    },
    {
      kind: 'task_queued',
      list: repo.listStaleQueued,
      claim: repo.claimStaleQueued,
      stream: (c) => ({ key: names.work(c.queue ?? 'default'), group: GROUPS.worker }),
      event: (r) => ({
        type: 'TaskQueued',
        data: {
          ...task(r),
          attempt: r.attempt ?? 1,
          queue: r.queue ?? 'default',
          workflowId: r.workflowId,
          workflowVersion: r.workflowVersion,
        },
      }),
    },
  ];
}

/**
 * One sweep: for each kind, lists stuck rows (one indexed statement; nothing else runs when it finds
 * none), keeps those whose event is gone by the consumer group's watermark (so a healthy backlog is
 * left alone), claims them (reconciled_at, SKIP LOCKED) and re-publishes their events after the commit.
 * Goes on while a batch was full and made progress. Returns the counts per kind.
 */
export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileResult> {
  const batch = deps.batchSize ?? DEFAULT_BATCH;
  const result: ReconcileResult = {
    run_started: 0,
    run_cancel_requested: 0,
    task_succeeded: 0,
    task_failed: 0,
    task_ready: 0,
    task_queued: 0,
    task_decided: 0,
    unfinishable: 0,
  };
  // Watermarks and the Redis clock are read once per sweep, and only when some row is stuck.
  const watermarks = new Map<string, Promise<number>>();
  // Redis clock - database clock, measured once, next to the first candidate statement's now().
  let offset: Promise<number> | null = null;
  const watermarkOf = (key: string, group: string): Promise<number> => {
    const cacheKey = `${key}\u0000${group}`;
    let w = watermarks.get(cacheKey);
    if (!w) {
      w = readStreamState(deps.redis, key, group).then(ackedWatermark);
      watermarks.set(cacheKey, w);
    }
    return w;
  };

  const slackMs = Math.max(PUBLISH_SLACK_MS, deps.graceMs);
  for (const spec of kindSpecs(deps.repo, deps.prefix)) {
    for (;;) {
      const candidates = await spec.list(deps.graceMs, batch);
      if (candidates.length === 0) break;
      const dbNowMs = candidates[0]?.dbNowMs ?? 0;
      offset ??= readRedisTimeMs(deps.redis).then((redisMs) => redisMs - dbNowMs);
      const offsetMs = await offset;
      const gone: string[] = [];
      for (const c of candidates) {
        const { key, group } = spec.stream(c);
        if (isEventGone(c.expectedAtMs, await watermarkOf(key, group), offsetMs, slackMs)) gone.push(c.id);
      }
      const claimed = gone.length > 0 ? await spec.claim(gone, deps.graceMs) : [];
      if (claimed.length > 0) await deps.bus.publish(claimed.map(spec.event));
      result[spec.kind] += claimed.length;
      if (candidates.length < batch || claimed.length === 0) break;
    }
  }
  const unfinishable = await deps.repo.listUnfinishableRuns(batch);
  result.unfinishable = unfinishable.length;
  for (const runId of unfinishable) {
    deps.logger.error({ runId }, 'run has no task left but is still running');
  }
  return result;
}
