import { randomUUID } from 'node:crypto';
import { MAX_OPAQUE_ID_LENGTH, MAX_TEXT_LENGTH } from '@relay/contracts';
import { unstorableText } from '@relay/workflow';
import { Hono } from 'hono';
import * as v from 'valibot';
import { withDeadline } from '../deadline.js';
import type { AppDeps } from '../deps.js';
import { announceCommitted, ConflictError, NotFoundError } from '../errors.js';
import { isJsonObject, readJsonBody, validate } from '../middleware/body.js';
import { RUN_STATUSES, type RunPosition, type TaskDecision } from '../repository.js';
import { createRunStarts } from '../run-starts.js';
import { presentRun } from '../views.js';

const StartRunBody = v.strictObject({
  input: v.optional(v.pipe(v.unknown(), v.check(isJsonObject, 'must be a JSON object'))),
});

const CancelBody = v.strictObject({
  reason: v.optional(v.pipe(v.string('must be a string'), v.maxLength(MAX_TEXT_LENGTH))),
});

const by = v.optional(
  v.pipe(
    v.string('must be a string'),
    v.minLength(1),
    v.maxLength(MAX_OPAQUE_ID_LENGTH),
    // A name, shown in errors as "rejected by <by>": blanks or a line break would garble them.
    v.check((s) => s.trim().length > 0, 'must not be blank'),
    v.check(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
      (s) => !/[\u0000-\u001f\u007f]/.test(s),
      'must not contain control characters (line breaks, tabs)',
    ),
  ),
);
const ApproveBody = v.strictObject({ by });
const RejectBody = v.strictObject({
  by,
  reason: v.optional(v.pipe(v.string('must be a string'), v.maxLength(MAX_TEXT_LENGTH))),
});

// Strict: a misspelt filter (`workflowID=x`) must not list every run.
const ListRunsQuery = v.strictObject(
  {
    workflowId: v.optional(v.string()),
    status: v.optional(v.picklist(RUN_STATUSES, `must be one of ${RUN_STATUSES.join(', ')}`)),
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d+$/, 'must be an integer from 1 to 1000'),
        v.transform(Number),
        v.minValue(1, 'must be an integer from 1 to 1000'),
        v.maxValue(1000, 'must be an integer from 1 to 1000'),
      ),
      '50',
    ),
    // The nextCursor of the previous page.
    cursor: v.optional(
      v.pipe(
        v.string(),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          const position = decodeCursor(dataset.value);
          if (position) return position;
          addIssue({ message: 'must be the nextCursor of an earlier GET /runs' });
          return NEVER;
        }),
      ),
    ),
  },
  'unknown parameter (known: workflowId, status, limit, cursor)',
);

// A page's position, opaque to clients: base64url of `<started_at in epoch µs>.<run id>`.
function encodeCursor(position: RunPosition): string {
  return Buffer.from(`${position.startedAtMicros}.${position.id}`).toString('base64url');
}

// A cursor's time lies in years 1 to 9999: past them Postgres's timestamp and interval arithmetic
// overflows (a crafted `9999999999999999999.x` was a 500, not a 400).
const MIN_CURSOR_MICROS = -62_135_596_800_000_000n;
const MAX_CURSOR_MICROS = 253_402_300_799_999_999n;

function decodeCursor(cursor: string): RunPosition | undefined {
  const text = /^[A-Za-z0-9_-]{1,1024}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const match = /^(-?\d{1,19})\.(.+)$/s.exec(text);
  if (!match?.[1] || !match[2] || unstorableText(match[2])) return undefined;
  const micros = BigInt(match[1]);
  if (micros < MIN_CURSOR_MICROS || micros > MAX_CURSOR_MICROS) return undefined;
  return { startedAtMicros: match[1], id: match[2] };
}

/** POST /workflows/:id/runs and every /runs route. */
export function runRoutes({ repo, bus, config, logger }: AppDeps): Hono {
  const app = new Hono();
  const runStarts = createRunStarts({ repo, bus, config });
  const publish = (events: Parameters<AppDeps['bus']['publish']>[0]) =>
    announceCommitted(logger, () =>
      withDeadline('redis', config.requestTimeoutMs, () => bus.publish(events)),
    );

  app.post('/workflows/:id/runs', async (c) => {
    const workflowId = c.req.param('id');
    const body = await readJsonBody(c, StartRunBody);
    const runId = randomUUID();
    // An absent input is stored as {} so templates over `input.*` always read an object.
    const inputJson = JSON.stringify(body.input ?? {});
    // Batched with the concurrent requests (see run-starts.ts); this request's wait is bounded as before,
    // and a run still queued when the request gives up (503) is dropped rather than created behind it.
    const expiresAt = Date.now() + config.requestTimeoutMs;
    const workflowVersion = await withDeadline('postgres', config.requestTimeoutMs, () =>
      runStarts.insert({ id: runId, workflowId, inputJson }, expiresAt),
    );
    if (workflowVersion === null) throw new NotFoundError(`workflow '${workflowId}' not found`);
    // Committed before publishing: the scheduler must find the row when RunStarted arrives. If this publish
    // fails the run stays RUNNING without task runs until the reaper's reconciler re-announces it.
    await announceCommitted(logger, () =>
      withDeadline('redis', config.requestTimeoutMs, () =>
        runStarts.announce({ runId, workflowId, workflowVersion }),
      ),
    );
    logger.info({ runId, workflowId, workflowVersion }, 'run started');
    return c.json({ id: runId, workflowId, workflowVersion, status: 'RUNNING' }, 201);
  });

  app.get('/runs', async (c) => {
    // An empty parameter is no filter, as SPEC's own `?workflowId=&status=&limit=` reads (a URL template
    // filled with blanks).
    const given = Object.entries(c.req.query()).filter(([, value]) => value !== '');
    const query = validate(ListRunsQuery, Object.fromEntries(given), 'query');
    const runs = await repo.listRuns({
      workflowId: query.workflowId,
      status: query.status,
      limit: query.limit,
      after: query.cursor,
    });
    // A full page may have a next one: its cursor continues after the last run listed.
    const last = runs.length === query.limit ? runs.at(-1) : undefined;
    return c.json({
      runs: runs.map((run) => ({
        id: run.id,
        workflowId: run.workflowId,
        status: run.status,
        startedAt: run.startedAt.toISOString(),
        finishedAt: run.finishedAt?.toISOString() ?? null,
      })),
      nextCursor: last ? encodeCursor(last.position) : null,
    });
  });

  app.get('/runs/:id', async (c) => {
    const found = await repo.findRun(c.req.param('id'));
    if (!found) throw new NotFoundError(`run '${c.req.param('id')}' not found`);
    return c.json(presentRun(found.run, found.tasks, found.decisions));
  });

  app.post('/runs/:id/cancel', async (c) => {
    const runId = c.req.param('id');
    const body = await readJsonBody(c, CancelBody);
    const outcome = await repo.requestCancel(runId, body.reason || undefined);
    if (outcome.kind === 'missing') throw new NotFoundError(`run '${runId}' not found`);
    if (outcome.kind === 'not-running') {
      throw new ConflictError(`run '${runId}' is ${outcome.status}, not RUNNING`, { status: outcome.status });
    }
    // Re-published on every request while RUNNING: the scheduler's cancel is idempotent.
    await publish({
      type: 'RunCancelRequested',
      data: { runId, ...(body.reason ? { reason: body.reason } : {}) },
    });
    logger.info({ runId }, 'run cancel requested');
    // The run stays RUNNING until the scheduler has cancelled its tasks (GET /runs/:id then says CANCELLED).
    return c.json({ id: runId, status: 'RUNNING', cancelRequested: true }, 202);
  });

  app.post('/runs/:id/tasks/:taskId/approve', async (c) => {
    const { id: runId, taskId } = c.req.param();
    const body = await readJsonBody(c, ApproveBody);
    const { by } = await decide({ runId, taskId, decision: 'APPROVED', by: body.by });
    await publish({ type: 'TaskApproved', data: { runId, taskId, ...(by ? { by } : {}) } });
    logger.info({ runId, taskId, by }, 'task approval requested');
    return c.json({ runId, taskId, decision: 'approved' }, 202);
  });

  app.post('/runs/:id/tasks/:taskId/reject', async (c) => {
    const { id: runId, taskId } = c.req.param();
    const body = await readJsonBody(c, RejectBody);
    const { by, reason } = await decide({
      runId,
      taskId,
      decision: 'REJECTED',
      by: body.by,
      reason: body.reason,
    });
    await publish({
      type: 'TaskRejected',
      data: { runId, taskId, ...(by ? { by } : {}), ...(reason ? { reason } : {}) },
    });
    logger.info({ runId, taskId, by }, 'task rejection requested');
    return c.json({ runId, taskId, decision: 'rejected' }, 202);
  });

  // Checks the target (see requireBlocked), then records the decision before it is announced: the
  // reconciler re-announces a recorded decision whose event was lost. The first decision stands: the same
  // one again is a 202 while the task is still BLOCKED; the other one is a 409 naming the first, as is any
  // decision once the task has moved on (SPEC: 409 unless BLOCKED). A task that left BLOCKED between the
  // check and the record gets requireBlocked's 409. Returns `by` and `reason` as recorded, which the event
  // carries: of two concurrent requests of the same decision, the first one's (the row's).
  async function decide(decision: TaskDecision): Promise<{ by: string | null; reason: string | null }> {
    await requireBlocked(decision);
    const outcome = await repo.recordDecision(decision);
    if (outcome.kind === 'recorded') return { by: outcome.by, reason: outcome.reason };
    if (outcome.kind === 'decided') throw decidedConflict(decision.taskId, outcome);
    await requireBlocked(decision);
    throw new ConflictError(`task '${decision.taskId}' is no longer BLOCKED`);
  }

  // 404 for an unknown run or a task outside the run's pinned definition; 409 unless the run is RUNNING
  // with no cancel requested (a decision then would be dropped) and the task BLOCKED (naming the
  // decision that moved it on, if any), or when the task already has the other decision. The
  // scheduler re-checks run and task when it applies the decision.
  async function requireBlocked({ runId, taskId, decision }: TaskDecision): Promise<void> {
    const target = await repo.findDecisionTarget(runId, taskId);
    if (target.kind === 'missing-run') throw new NotFoundError(`run '${runId}' not found`);
    if (target.kind === 'missing-task')
      throw new NotFoundError(`task '${taskId}' not found in run '${runId}'`);
    if (target.runStatus !== 'RUNNING') {
      const decided = target.decided ? ` (task '${taskId}' ${decidedText(target.decided)})` : '';
      throw new ConflictError(`run '${runId}' is ${target.runStatus}, not RUNNING${decided}`, {
        runStatus: target.runStatus,
        ...(target.decided ? { decision: target.decided.decision, decidedBy: target.decided.by } : {}),
      });
    }
    if (target.cancelRequested) {
      throw new ConflictError(`run '${runId}' is being cancelled`, {
        runStatus: target.runStatus,
        cancelRequested: true,
      });
    }
    if (target.taskStatus !== 'BLOCKED') {
      const status = target.taskStatus ?? 'PENDING';
      const decided = target.decided ? ` (${decidedText(target.decided)})` : '';
      throw new ConflictError(`task '${taskId}' is ${status}, not BLOCKED${decided}`, {
        taskStatus: status,
        ...(target.decided ? { decision: target.decided.decision, decidedBy: target.decided.by } : {}),
      });
    }
    if (target.decided && target.decided.decision !== decision) throw decidedConflict(taskId, target.decided);
  }

  return app;
}

type Decided = { decision: TaskDecision['decision']; by: string | null };

function decidedText(decided: Decided): string {
  return `${decided.decision === 'APPROVED' ? 'approved' : 'rejected'}${decided.by ? ` by ${decided.by}` : ''}`;
}

/** 409 for a decision that contradicts the one recorded first. */
function decidedConflict(taskId: string, decided: Decided): ConflictError {
  return new ConflictError(
    `task '${taskId}' is already ${decidedText(decided)}; a decision cannot be changed`,
    {
      decision: decided.decision,
      decidedBy: decided.by,
    },
  );
}
