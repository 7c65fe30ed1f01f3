import type { Bus } from '@relay/bus';
import type { Envelope } from '@relay/contracts';
import type { Logger } from '@relay/runtime';
import { type DefinitionCache, type PreparedTask, prepareTasks } from '../prepare.js';
import type { WorkerRepository } from '../repository.js';
import type { ClaimedTask } from '../types.js';

/** What handling TaskQueued needs from the worker. */
export interface TaskQueuedDeps {
  repo: Pick<WorkerRepository, 'claimTaskRuns' | 'loadRunContexts'>;
  bus: Pick<Bus, 'publish'>;
  definitions: DefinitionCache;
  workerId: string;
  logger: Logger;
  /** Registers claimed attempts as held (heartbeats start covering them) before anything can fail. */
  hold: (claims: ClaimedTask[]) => void;
  /** Starts running a prepared attempt (not awaited). */
  launch: (task: PreparedTask) => void;
}

/** The latest attempt per task run among the messages (duplicates collapse to one). */
export function claimsFrom(events: readonly Envelope<'TaskQueued'>[]): ClaimedTask[] {
  const byId = new Map<string, ClaimedTask>();
  for (const { data } of events) {
    const prev = byId.get(data.taskRunId);
    if (prev && prev.attempt >= data.attempt) continue;
    byId.set(data.taskRunId, {
      id: data.taskRunId,
      runId: data.runId,
      taskId: data.taskId,
      attempt: data.attempt,
      queue: data.queue,
      workflowId: data.workflowId,
      workflowVersion: data.workflowVersion,
    });
  }
  return [...byId.values()];
}

/**
 * TaskQueued batch: claims every attempt in one statement (QUEUED -> RUNNING, fenced on attempt);
 * messages whose row did not match are stale or duplicates and are dropped. Publishes TaskStarted for
 * the claimed ones while resolving their inputs, then launches them. Resolves once the claim is
 * committed (and TaskStarted published or its failure logged), so the bus acks only work that
 * Postgres already shows RUNNING.
 */
export async function handleTaskQueued(
  events: readonly Envelope<'TaskQueued'>[],
  deps: TaskQueuedDeps,
): Promise<void> {
  const wanted = claimsFrom(events);
  if (wanted.length === 0) return;
  const claimedKeys = await deps.repo.claimTaskRuns(deps.workerId, wanted);
  const claimedIds = new Set(claimedKeys.map((k) => `${k.id}#${k.attempt}`));
  const claims = wanted.filter((c) => claimedIds.has(`${c.id}#${c.attempt}`));
  const dropped = wanted.length - claims.length;
  if (dropped > 0) deps.logger.debug({ dropped }, 'stale or duplicate work messages dropped');
  if (claims.length === 0) return;
  deps.hold(claims);

  // TaskStarted (observers only) goes out while the inputs load: its XADDs are queued on the shared
  // connection now, before any result of these attempts can be, so it still precedes TaskSucceeded.
  const started = publishStarted(claims, deps);

  let prepared: PreparedTask[];
  try {
    prepared = await prepareTasks(claims, { repo: deps.repo, definitions: deps.definitions });
  } catch (err) {
    // The claims are committed: fail the attempts (retryably) rather than leave them held by nothing.
    deps.logger.error({ err, tasks: claims.length }, 'loading task context failed');
    const error = `could not load the task's definition or inputs: ${(err as Error).message}`;
    prepared = claims.map((claim) => ({ ok: false, claim, task: undefined, error, retryable: true }));
  }
  for (const p of prepared) deps.launch(p);
  await started;
}

/** Publishes TaskStarted for the claimed attempts; a failure is logged (the claims stand, the tasks run). */
async function publishStarted(claims: readonly ClaimedTask[], deps: TaskQueuedDeps): Promise<void> {
  try {
    await deps.bus.publish(
      claims.map((c) => ({
        type: 'TaskStarted' as const,
        data: {
          runId: c.runId,
          taskId: c.taskId,
          taskRunId: c.id,
          attempt: c.attempt,
          workerId: deps.workerId,
        },
      })),
    );
  } catch (err) {
    deps.logger.warn({ err, tasks: claims.length }, 'publishing task started failed');
  }
}
