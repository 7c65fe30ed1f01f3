import type { EventData } from '@relay/contracts';
import { withDeadline } from './deadline.js';
import type { AppDeps } from './deps.js';
import { DependencyUnavailableError } from './errors.js';
import { createGroupCommit } from './group-commit.js';
import type { NewRun } from './repository.js';

/** Most runs one INSERT (and one RunStarted pipeline) carries. */
export const MAX_RUNS_PER_BATCH = 500;
/**
 * Most characters of input JSON one INSERT carries: postgres.js sends the batch's inputs as one text[]
 * parameter, one string. A run whose input alone is larger still goes, by itself.
 */
export const MAX_INPUT_CHARS_PER_BATCH = 8 * 1024 * 1024;

/** Run creation for POST /workflows/:id/runs, group-committed across concurrent requests. */
export interface RunStarts {
  /**
   * Inserts the run; resolves with the workflow version it pinned, or null when the workflow does not
   * exist. A run still queued at `expiresAt` (the request's deadline) is never inserted.
   */
  insert(run: NewRun, expiresAt?: number): Promise<number | null>;
  /** Publishes the run's RunStarted. */
  announce(data: EventData<'RunStarted'>): Promise<void>;
}

/**
 * Runs that arrive while an INSERT is in flight go out together in the next one (one set-based statement),
 * and their RunStarted events in one pipelined publish. Each request awaits its own run: the batch's
 * result is split per run, and a failed batch fails only its own requests. An error other than an
 * unreachable or silent dependency (a row the statement rejects) re-runs that batch run by run, so it
 * fails only the request that sent it.
 */
export function createRunStarts({ repo, bus, config }: Pick<AppDeps, 'repo' | 'bus' | 'config'>): RunStarts {
  const inserts = createGroupCommit<NewRun, number | null>({
    flush: async (runs) => {
      const versions = await repo.insertRuns(runs);
      return runs.map((run) => versions.get(run.id) ?? null);
    },
    maxItems: MAX_RUNS_PER_BATCH,
    maxWeight: MAX_INPUT_CHARS_PER_BATCH,
    weightOf: (run) => run.inputJson.length,
    isolate: (err) => !(err instanceof DependencyUnavailableError),
  });
  // Not isolated: XADD fails for the connection or the server, never for one event's content (the bus
  // validated every event), and an entry already appended must not be appended twice.
  const announcements = createGroupCommit<EventData<'RunStarted'>, unknown>({
    flush: (events) =>
      withDeadline('redis', config.requestTimeoutMs, () =>
        bus.publish(events.map((data) => ({ type: 'RunStarted' as const, data }))),
      ),
    maxItems: MAX_RUNS_PER_BATCH,
  });
  return {
    insert: (run, expiresAt) => inserts.add(run, expiresAt),
    announce: async (data) => {
      await announcements.add(data);
    },
  };
}
