import type { Bus } from '@relay/bus';
import type { Envelope } from '@relay/contracts';
import { isConnectionLoss, type Logger } from '@relay/runtime';
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
  /** While true, a load that failed because the database is away is retried (default: never). */
  running?: () => boolean;
  /** First delay between such retries (doubling up to 5 s); default 250 ms. */
  retryDelayMs?: number;
}

const MAX_RETRY_DELAY_MS = 5000;

/**
 * Whether `err` says the database is away for now (a lost or refused connection, a server shutting
 * down or starting, too many connections, a database closed to connections), not that the query is wrong.
 */
export function isDatabaseAway(err: unknown): boolean {
  if (isConnectionLoss(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === '53300' || (code === '55000' && /not currently accepting connections/.test(String(err)));
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

  const prepared = await prepareHeld(claims, deps);
  for (const p of prepared) deps.launch(p);
  await started;
}

/**
 * Loads the claimed attempts' definitions and inputs. While the database is away and the worker runs,
 * the load is retried: the attempts are held and heartbeated, and failing them would spend an attempt
 * (the run's last, often) on an outage the task never saw. Any other error, or one while stopping,
 * fails them retryably rather than leave them held by nothing.
 */
async function prepareHeld(claims: ClaimedTask[], deps: TaskQueuedDeps): Promise<PreparedTask[]> {
  for (let delayMs = deps.retryDelayMs ?? 250; ; delayMs = Math.min(2 * delayMs, MAX_RETRY_DELAY_MS)) {
    try {
      return await prepareTasks(claims, { repo: deps.repo, definitions: deps.definitions });
    } catch (err) {
      if (isDatabaseAway(err) && deps.running?.()) {
        deps.logger.warn(
          { err, tasks: claims.length, retryInMs: delayMs },
          'loading task context failed, retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        continue;
      }
      deps.logger.error({ err, tasks: claims.length }, 'loading task context failed');
      const error = `could not load the task's definition or inputs: ${(err as Error).message}`;
      return claims.map((claim) => ({ ok: false, claim, task: undefined, error, retryable: true }));
    }
  }
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
