import { MAX_OPAQUE_ID_LENGTH } from '@relay/contracts';
import { Hono } from 'hono';
import * as v from 'valibot';
import { withDeadline } from '../deadline.js';
import type { AppDeps } from '../deps.js';
import { announceCommitted, ConflictError } from '../errors.js';
import { isJsonObject, readJsonBody } from '../middleware/body.js';
import type { EventRun } from '../repository.js';

const text = (what: string) =>
  v.pipe(
    v.string(`must be a string (${what})`),
    v.check((s) => s.trim().length > 0, 'must not be empty'),
    v.maxLength(MAX_OPAQUE_ID_LENGTH, `must be at most ${MAX_OPAQUE_ID_LENGTH} characters`),
  );

const EventBody = v.strictObject({
  type: v.pipe(
    text('the event type workflows subscribe to with on.event'),
    // No on.event has them (registration refuses them): such a type would silently start nothing.
    v.check((s) => s.trim() === s, 'must not start or end with whitespace'),
  ),
  id: v.optional(text("the sender's id of this event")),
  payload: v.pipe(
    v.unknown(),
    v.check(isJsonObject, 'must be a JSON object (the input of the runs it starts)'),
  ),
});

/** POST /events: starts every workflow subscribed to the event's type (`on.event`), the payload as input. */
export function eventRoutes({ repo, bus, config, logger }: AppDeps): Hono {
  const app = new Hono();
  const announce = (runs: readonly EventRun[]) =>
    runs.length === 0
      ? Promise.resolve()
      : announceCommitted(logger, () =>
          withDeadline('redis', config.requestTimeoutMs, () =>
            bus.publish(
              runs.map((r) => ({
                type: 'RunStarted' as const,
                data: { runId: r.id, workflowId: r.workflowId, workflowVersion: r.workflowVersion },
              })),
            ),
          ),
        );

  app.post('/events', async (c) => {
    const body = await readJsonBody(c, EventBody);
    const outcome = await repo.startEventRuns({
      id: body.id,
      type: body.type,
      payloadJson: JSON.stringify(body.payload),
    });
    if (outcome.kind === 'conflict') {
      throw new ConflictError(`event '${body.id}' was already received with another type or payload`, {
        id: body.id,
      });
    }
    if (outcome.kind === 'replayed') {
      // A retry of an event whose publish may have failed: runs not yet taken up are announced again
      // (the scheduler applies a RunStarted once).
      await announce(outcome.unannounced);
      logger.info({ eventId: body.id, type: body.type, runs: outcome.runIds.length }, 'event replayed');
      return c.json({ runs: outcome.runIds }, 202);
    }
    // Committed before publishing, as POST /workflows/:id/runs: a run whose RunStarted is lost here is
    // re-announced by the reaper's reconciler (or by a retry of this event's id).
    await announce(outcome.runs);
    for (const run of outcome.runs) {
      logger.info(
        { runId: run.id, workflowId: run.workflowId, eventId: body.id, type: body.type },
        'run started',
      );
    }
    if (outcome.runs.length === 0)
      logger.info({ eventId: body.id, type: body.type }, 'event matched no workflow');
    return c.json({ runs: outcome.runs.map((r) => r.id) }, 202);
  });

  return app;
}
