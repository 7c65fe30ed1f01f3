import { holdInTransaction, waitFor } from '@relay/testing';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, insertTaskRun, jsonRequest, openHarness, yamlRequest } from '../test/harness.js';

const V1 = `
id: shipping
tasks:
  pick: {}
  pack: { needs: [pick] }
  ship: { needs: [pack], requires_approval: true }
`;
const V2 = `
id: shipping
tasks:
  pick: {}
  ship: { needs: [pick] }
`;

let h: Harness;
let app: Hono;

beforeAll(async () => {
  h = await openHarness('ingest-runs');
  app = h.app();
  expect((await app.request('/workflows', yamlRequest(V1))).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

async function startRun(body?: unknown, workflowId = 'shipping'): Promise<string> {
  const res = await app.request(`/workflows/${workflowId}/runs`, jsonRequest('POST', body));
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; details?: { path: string }[] }> {
  return ((await res.json()) as { error: { code: string; message: string; details?: { path: string }[] } })
    .error;
}

describe('POST /workflows/:id/runs', () => {
  it('inserts a RUNNING run pinned to the current version and publishes RunStarted', async () => {
    const res = await app.request('/workflows/shipping/runs', jsonRequest('POST', { input: { order: 7 } }));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; workflowId: string; status: string };
    expect(body).toMatchObject({ workflowId: 'shipping', status: 'RUNNING' });
    const [run] = await h.sql`
      SELECT status, input, workflow_version, remaining_tasks, started_at FROM runs WHERE id = ${body.id}`;
    expect(run).toMatchObject({
      status: 'RUNNING',
      input: { order: 7 },
      workflow_version: 1,
      // Set by the scheduler with the task_runs: NULL marks a run whose RunStarted is not applied yet.
      remaining_tasks: null,
    });
    const started = (await h.readRunsStream()).filter((e) => e.type === 'RunStarted');
    expect(started.at(-1)).toMatchObject({
      type: 'RunStarted',
      source: 'ingest',
      data: { runId: body.id, workflowId: 'shipping', workflowVersion: 1 },
    });
  });

  it('an empty body starts a run with input {}', async () => {
    const res = await app.request('/workflows/shipping/runs', { method: 'POST' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const [run] = await h.sql`SELECT input FROM runs WHERE id = ${id}`;
    expect(run?.input).toEqual({});
  });

  it.each([
    ['an array input', { input: [1, 2] }, 'input'],
    ['a string input', { input: 'x' }, 'input'],
    ['a null input', { input: null }, 'input'],
    ['an unknown field', { inputs: {} }, 'inputs'],
  ])('400 for %s, naming the field', async (_name, body, path) => {
    const res = await app.request('/workflows/shipping/runs', jsonRequest('POST', body));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.details?.map((d) => d.path)).toContain(path);
  });

  it('400 for malformed JSON, 415 for a non-JSON body', async () => {
    const malformed = await app.request('/workflows/shipping/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"input":',
    });
    expect(malformed.status).toBe(400);
    const word = await app.request('/workflows/shipping/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{\n  "input": {"n": one}\n}',
    });
    expect(word.status).toBe(400);
    expect(await errorOf(word)).toMatchObject({
      message: expect.stringMatching(/^body is not valid JSON: .* \(line 2, column 18\)$/s),
      details: [{ path: '(body)', line: 2, column: 18 }],
    });
    const text = await app.request('/workflows/shipping/runs', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'go',
    });
    expect(text.status).toBe(415);
  });

  it('404 for an unknown workflow, and nothing is published', async () => {
    const before = (await h.readRunsStream()).length;
    const res = await app.request('/workflows/ghost/runs', jsonRequest('POST', {}));
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toContain('ghost');
    expect((await h.readRunsStream()).length).toBe(before);
  });

  it('a run keeps its pinned version after the workflow changes', async () => {
    const pinned = await startRun({});
    const res = await app.request('/workflows', yamlRequest(V2));
    expect(await res.json()).toMatchObject({ version: 2, status: 'updated' });
    const fresh = await startRun({});
    const rows = await h.sql<{ id: string; workflow_version: number }[]>`
      SELECT id, workflow_version FROM runs WHERE id IN (${pinned}, ${fresh})`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(pinned)).toMatchObject({ workflow_version: 1 });
    expect(byId.get(fresh)).toMatchObject({ workflow_version: 2 });
    // The pinned run still reports its own version's tasks.
    const detail = (await (await app.request(`/runs/${pinned}`)).json()) as { tasks: { taskId: string }[] };
    expect(detail.tasks.map((t) => t.taskId)).toEqual(['pick', 'pack', 'ship']);
    await app.request('/workflows', yamlRequest(V1));
  });
});

describe('GET /runs', () => {
  it('lists newest first and filters by workflow and status', async () => {
    await app.request('/workflows', yamlRequest('id: other\ntasks:\n  a: {}\n'));
    const first = await startRun({}, 'other');
    const second = await startRun({}, 'other');
    await h.sql`UPDATE runs SET status = 'SUCCESS', finished_at = now() WHERE id = ${first}`;
    await h.sql`UPDATE runs SET started_at = now() - interval '1 hour' WHERE id = ${first}`;

    const all = (await (await app.request('/runs?workflowId=other')).json()) as {
      runs: { id: string; status: string; finishedAt: string | null }[];
    };
    expect(all.runs.map((r) => r.id)).toEqual([second, first]);
    expect(all.runs[1]).toMatchObject({ status: 'SUCCESS' });
    expect(all.runs[0]?.finishedAt).toBeNull();

    const done = (await (await app.request('/runs?workflowId=other&status=SUCCESS')).json()) as {
      runs: { id: string }[];
    };
    expect(done.runs.map((r) => r.id)).toEqual([first]);

    const limited = (await (await app.request('/runs?limit=1')).json()) as { runs: unknown[] };
    expect(limited.runs).toHaveLength(1);
    const everything = (await (await app.request('/runs')).json()) as { runs: { startedAt: string }[] };
    const times = everything.runs.map((r) => Date.parse(r.startedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('pages through every run with nextCursor, runs started together in id order, none twice', async () => {
    await app.request('/workflows', yamlRequest('id: paged\ntasks:\n  a: {}\n'));
    // 7 runs with one started_at (as one batched INSERT gives them), 4 older ones, 3 of them also tied.
    await h.sql`
      INSERT INTO runs (id, workflow_id, status, workflow_version, started_at)
      SELECT 'paged-' || g, 'paged', 'SUCCESS', 1,
             CASE WHEN g <= 7 THEN timestamptz '2026-01-01 00:00:00.123456+00'
                  WHEN g <= 10 THEN timestamptz '2025-12-31 23:59:59.999999+00'
                  ELSE timestamptz '2025-06-01 00:00:00+00' END
      FROM generate_series(1, 11) g`;
    const expected = (
      await h.sql<{ id: string }[]>`
      SELECT id FROM runs WHERE workflow_id = 'paged' ORDER BY started_at DESC, id`
    ).map((r) => r.id);
    type Page = { runs: { id: string }[]; nextCursor: string | null };
    for (const limit of [1, 3, 7, 11, 50]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query = `workflowId=paged&status=SUCCESS&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await (await app.request(`/runs?${query}`)).json()) as Page;
        seen.push(...page.runs.map((r) => r.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 20);
      expect(seen, `limit ${limit}`).toEqual(expected);
    }
    // A page that is not full is the last one.
    const last = (await (await app.request('/runs?workflowId=paged&limit=50')).json()) as Page;
    expect(last.nextCursor).toBeNull();
  });

  it.each([
    ['status=DONE', 'status'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('12.').toString('base64url')}`, 'cursor'],
    // Out of Postgres's timestamp range: were a 500.
    [`cursor=${Buffer.from('9999999999999999999.x').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('9223372036854775807.x').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('-999999999999999999.x').toString('base64url')}`, 'cursor'],
  ])('400 for %s, naming the parameter', async (query, path) => {
    const res = await app.request(`/runs?${query}`);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
  });

  it("reads an empty parameter as no filter (SPEC's own ?workflowId=&status=&limit=)", async () => {
    const everything = (await (await app.request('/runs')).json()) as { runs: { id: string }[] };
    const blank = await app.request('/runs?workflowId=&status=&limit=&cursor=');
    expect(blank.status).toBe(200);
    expect(((await blank.json()) as { runs: { id: string }[] }).runs).toEqual(everything.runs);
  });

  it('refuses an unknown parameter, so a misspelt filter does not list every run', async () => {
    const res = await app.request('/runs?workflowID=other');
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.details).toEqual([
      { path: 'workflowID', message: 'unknown parameter (known: workflowId, status, limit, cursor)' },
    ]);
    expect(error.message).toContain('workflowID');
  });

  it('takes cursors at the edges of years 1 and 9999', async () => {
    for (const micros of ['-62135596800000000', '253402300799999999']) {
      const res = await app.request(`/runs?cursor=${Buffer.from(`${micros}.x`).toString('base64url')}`);
      expect(res.status).toBe(200);
    }
  });
});

describe('GET /runs/:id', () => {
  it('returns the run with tasks in definition order, outputs parsed, missing task runs as PENDING', async () => {
    const runId = await startRun({ input: { a: 1 } });
    await insertTaskRun(h.sql, {
      runId,
      workflowId: 'shipping',
      taskId: 'pack',
      status: 'READY',
    });
    await insertTaskRun(h.sql, {
      runId,
      workflowId: 'shipping',
      taskId: 'pick',
      status: 'SUCCESS',
      attempt: 1,
      output: '{"items":[1,2]}',
    });
    const res = await app.request(`/runs/${runId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: runId,
      workflowId: 'shipping',
      workflowVersion: 3,
      status: 'RUNNING',
      input: { a: 1 },
      error: null,
      finishedAt: null,
      tasks: [
        { taskId: 'pick', status: 'SUCCESS', attempt: 1, output: { items: [1, 2] }, error: null },
        { taskId: 'pack', status: 'READY', attempt: 0, output: null },
        { taskId: 'ship', status: 'PENDING', attempt: 0, output: null },
      ],
    });
  });

  it('lists the tasks of a run that finished before its task runs were created as CANCELLED', async () => {
    // A cancel applied before the run's RunStarted: the scheduler never creates its task runs.
    const runId = await startRun({});
    await h.sql`UPDATE runs SET status = 'CANCELLED', finished_at = now() WHERE id = ${runId}`;
    const body = (await (await app.request(`/runs/${runId}`)).json()) as { tasks: { status: string }[] };
    expect(body.tasks.map((t) => t.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
  });

  it('404 for an unknown run', async () => {
    const res = await app.request('/runs/00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
  });
});

describe('POST /runs/:id/cancel', () => {
  it('202: sets cancel_requested_at and publishes RunCancelRequested', async () => {
    const runId = await startRun({});
    const res = await app.request(`/runs/${runId}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: runId, status: 'RUNNING', cancelRequested: true });
    const [run] = await h.sql`SELECT status, cancel_requested_at FROM runs WHERE id = ${runId}`;
    expect(run?.status).toBe('RUNNING');
    expect(run?.cancel_requested_at).toBeInstanceOf(Date);
    const events = await h.readRunsStream();
    expect(events.at(-1)).toMatchObject({ type: 'RunCancelRequested', data: { runId } });
  });

  it('keeps the first reason given with the run', async () => {
    const runId = await startRun({});
    const cancel = (body: object) => app.request(`/runs/${runId}/cancel`, jsonRequest('POST', body));
    expect((await cancel({})).status).toBe(202);
    expect((await cancel({ reason: 'wrong input' })).status).toBe(202);
    expect((await cancel({ reason: 'changed my mind' })).status).toBe(202);
    const [run] = await h.sql`SELECT cancel_reason FROM runs WHERE id = ${runId}`;
    expect(run?.cancel_reason).toBe('wrong input');
    expect((await h.readRunsStream()).at(-1)).toMatchObject({
      type: 'RunCancelRequested',
      data: { runId, reason: 'changed my mind' },
    });
  });

  it('409 when the run has finished, 404 when unknown', async () => {
    const runId = await startRun({});
    await h.sql`UPDATE runs SET status = 'FAILED', finished_at = now() WHERE id = ${runId}`;
    const finished = await app.request(`/runs/${runId}/cancel`, { method: 'POST' });
    expect(finished.status).toBe(409);
    expect(await errorOf(finished)).toMatchObject({ code: 'conflict' });
    const [run] = await h.sql`SELECT cancel_requested_at FROM runs WHERE id = ${runId}`;
    expect(run?.cancel_requested_at).toBeNull();
    expect((await app.request('/runs/nope/cancel', { method: 'POST' })).status).toBe(404);
  });

  it('409 naming the committed status when the run finishes while the request waits on its row', async () => {
    const runId = await startRun({});
    // A scheduler applying a cancel holds the run's row; the request's snapshot still says RUNNING.
    const scheduler = await holdInTransaction(
      h.sql,
      (tx) => tx`UPDATE runs SET status = 'CANCELLED', finished_at = now() WHERE id = ${runId}`,
    );
    const pending = app.request(`/runs/${runId}/cancel`, { method: 'POST' });
    await waitFor(
      async () => {
        const [row] = await h.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`;
        return (row?.n ?? 0) > 0;
      },
      { intervalMs: 10, message: 'the cancel to wait on the run row' },
    );
    await scheduler.release();
    const res = await pending;
    expect(res.status).toBe(409);
    expect((await errorOf(res)).message).toBe(`run '${runId}' is CANCELLED, not RUNNING`);
  });
});

describe('approve and reject', () => {
  it('202 for a BLOCKED task: TaskApproved / TaskRejected published with by and reason', async () => {
    const runId = await startRun({});
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'ship', status: 'BLOCKED' });
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'pack', status: 'BLOCKED' });
    const approve = await app.request(
      `/runs/${runId}/tasks/ship/approve`,
      jsonRequest('POST', { by: 'ana' }),
    );
    expect(approve.status).toBe(202);
    expect((await h.readRunsStream()).at(-1)).toMatchObject({
      type: 'TaskApproved',
      data: { runId, taskId: 'ship', by: 'ana' },
    });
    const reject = await app.request(
      `/runs/${runId}/tasks/pack/reject`,
      jsonRequest('POST', { by: 'bo', reason: 'address missing' }),
    );
    expect(reject.status).toBe(202);
    expect((await h.readRunsStream()).at(-1)).toMatchObject({
      type: 'TaskRejected',
      data: { runId, taskId: 'pack', by: 'bo', reason: 'address missing' },
    });
  });

  it('records the first decision before announcing it; the same again is re-announced, the other is a 409', async () => {
    const runId = await startRun({});
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'ship', status: 'BLOCKED' });
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'pick', status: 'READY' });
    const decisionOf = async (taskId: string) =>
      (
        await h.sql`SELECT decision, decided_by, reason FROM task_decisions WHERE task_run_id = ${`${runId}:${taskId}`}`
      )[0];
    expect(
      (await app.request(`/runs/${runId}/tasks/ship/approve`, jsonRequest('POST', { by: 'ana' }))).status,
    ).toBe(202);
    expect(await decisionOf('ship')).toEqual({ decision: 'APPROVED', decided_by: 'ana', reason: null });

    // The same decision again (a client retrying after a lost answer): 202 and announced again.
    const before = (await h.readRunsStream()).length;
    expect((await app.request(`/runs/${runId}/tasks/ship/approve`, { method: 'POST' })).status).toBe(202);
    expect((await h.readRunsStream()).slice(before)).toMatchObject([
      { type: 'TaskApproved', data: { runId, taskId: 'ship' } },
    ]);
    expect(await decisionOf('ship')).toEqual({ decision: 'APPROVED', decided_by: 'ana', reason: null });

    // By someone else: announced naming the first decider, as the row does (the scheduler writes what the
    // event says; two concurrent approvals must not record two deciders).
    const third = (await h.readRunsStream()).length;
    expect(
      (await app.request(`/runs/${runId}/tasks/ship/approve`, jsonRequest('POST', { by: 'carl' }))).status,
    ).toBe(202);
    expect((await h.readRunsStream()).slice(third)).toMatchObject([
      { type: 'TaskApproved', data: { runId, taskId: 'ship', by: 'ana' } },
    ]);

    // The other decision while the first is not yet applied: refused, nothing recorded or announced.
    const published = (await h.readRunsStream()).length;
    const reject = await app.request(
      `/runs/${runId}/tasks/ship/reject`,
      jsonRequest('POST', { by: 'bo', reason: 'address missing' }),
    );
    expect(reject.status).toBe(409);
    expect(await errorOf(reject)).toMatchObject({
      message: "task 'ship' is already approved by ana; a decision cannot be changed",
      details: { decision: 'APPROVED', decidedBy: 'ana' },
    });
    expect(await decisionOf('ship')).toEqual({ decision: 'APPROVED', decided_by: 'ana', reason: null });
    expect(await h.readRunsStream()).toHaveLength(published);

    // Applied (the scheduler moved the task on): any decision is a 409 naming the one that was applied.
    await h.sql`UPDATE task_runs SET status = 'READY' WHERE id = ${`${runId}:ship`}`;
    for (const verb of ['approve', 'reject']) {
      const late = await app.request(`/runs/${runId}/tasks/ship/${verb}`, { method: 'POST' });
      expect(late.status).toBe(409);
      expect(await errorOf(late)).toMatchObject({
        message: "task 'ship' is READY, not BLOCKED (approved by ana)",
        details: { taskStatus: 'READY', decision: 'APPROVED', decidedBy: 'ana' },
      });
    }

    expect((await app.request(`/runs/${runId}/tasks/pick/approve`, { method: 'POST' })).status).toBe(409);
    expect(await decisionOf('pick')).toBeUndefined();
  });

  it('a rejection repeated by someone else is announced with the first one by and reason', async () => {
    const runId = await startRun({});
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'ship', status: 'BLOCKED' });
    const first = jsonRequest('POST', { by: 'bo', reason: 'address missing' });
    expect((await app.request(`/runs/${runId}/tasks/ship/reject`, first)).status).toBe(202);
    const before = (await h.readRunsStream()).length;
    const second = jsonRequest('POST', { by: 'carl', reason: 'not today' });
    expect((await app.request(`/runs/${runId}/tasks/ship/reject`, second)).status).toBe(202);
    const announced = (await h.readRunsStream()).slice(before);
    expect(announced).toHaveLength(1);
    expect(announced[0]?.data).toEqual({ runId, taskId: 'ship', by: 'bo', reason: 'address missing' });
  });

  it('GET /runs/:id shows who decided what, and when, on the tasks that required approval', async () => {
    const gated =
      'id: gated\ntasks:\n  build: {}\n  ship: { needs: [build], requires_approval: true }\n  hold: { requires_approval: true }\n';
    expect((await app.request('/workflows', yamlRequest(gated))).status).toBe(201);
    const runId = await startRun({}, 'gated');
    await insertTaskRun(h.sql, { runId, workflowId: 'gated', taskId: 'build', status: 'SUCCESS' });
    await insertTaskRun(h.sql, { runId, workflowId: 'gated', taskId: 'ship', status: 'BLOCKED' });
    await insertTaskRun(h.sql, { runId, workflowId: 'gated', taskId: 'hold', status: 'BLOCKED' });
    const reject = jsonRequest('POST', { by: 'bo', reason: 'freeze' });
    expect((await app.request(`/runs/${runId}/tasks/ship/reject`, reject)).status).toBe(202);
    const { tasks } = (await (await app.request(`/runs/${runId}`)).json()) as {
      tasks: { taskId: string; decision?: { decidedAt: string } }[];
    };
    expect(tasks.map((t) => [t.taskId, 'decision' in t])).toEqual([
      ['build', false],
      ['ship', true],
      ['hold', false],
    ]);
    expect(tasks[1]?.decision).toEqual({
      decision: 'rejected',
      by: 'bo',
      reason: 'freeze',
      decidedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('concurrent approve and reject: exactly one is accepted, and the row records that one', async () => {
    for (let round = 0; round < 10; round += 1) {
      const runId = await startRun({});
      await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'ship', status: 'BLOCKED' });
      const before = (await h.readRunsStream()).length;
      const [approve, reject] = await Promise.all([
        app.request(`/runs/${runId}/tasks/ship/approve`, jsonRequest('POST', { by: 'ana' })),
        app.request(`/runs/${runId}/tasks/ship/reject`, jsonRequest('POST', { by: 'bo' })),
      ]);
      expect([approve.status, reject.status].sort()).toEqual([202, 409]);
      const accepted = approve.status === 202 ? 'APPROVED' : 'REJECTED';
      const [row] = await h.sql`SELECT decision FROM task_decisions WHERE task_run_id = ${`${runId}:ship`}`;
      expect(row?.decision).toBe(accepted);
      const announced = (await h.readRunsStream()).slice(before).map((e) => e.type);
      expect(announced).toEqual([accepted === 'APPROVED' ? 'TaskApproved' : 'TaskRejected']);
    }
  });

  it('409 unless the task is BLOCKED and the run RUNNING; 404 for unknown run or task', async () => {
    const runId = await startRun({});
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'pick', status: 'READY' });
    const cases: [string, number][] = [
      [`/runs/${runId}/tasks/pick/approve`, 409],
      [`/runs/${runId}/tasks/ship/approve`, 409], // in the definition, not created yet
      [`/runs/${runId}/tasks/pick/reject`, 409],
      [`/runs/${runId}/tasks/ghost/approve`, 404],
      ['/runs/nope/tasks/pick/approve', 404],
    ];
    for (const [path, status] of cases) {
      const res = await app.request(path, { method: 'POST' });
      expect(res.status, path).toBe(status);
    }
    const finished = await startRun({});
    await insertTaskRun(h.sql, {
      runId: finished,
      workflowId: 'shipping',
      taskId: 'ship',
      status: 'BLOCKED',
    });
    await h.sql`UPDATE runs SET status = 'CANCELLED', finished_at = now() WHERE id = ${finished}`;
    expect((await app.request(`/runs/${finished}/tasks/ship/approve`, { method: 'POST' })).status).toBe(409);
  });

  it('409 while a cancel of the run is pending: the decision would be dropped', async () => {
    const runId = await startRun({});
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'ship', status: 'BLOCKED' });
    expect((await app.request(`/runs/${runId}/cancel`, { method: 'POST' })).status).toBe(202);
    for (const action of ['approve', 'reject']) {
      const res = await app.request(
        `/runs/${runId}/tasks/ship/${action}`,
        jsonRequest('POST', { by: 'ana' }),
      );
      expect(res.status, action).toBe(409);
      expect(await errorOf(res)).toMatchObject({
        message: `run '${runId}' is being cancelled`,
        details: { runStatus: 'RUNNING', cancelRequested: true },
      });
    }
    expect(await h.sql`SELECT 1 FROM task_decisions WHERE task_run_id = ${`${runId}:ship`}`).toHaveLength(0);
  });

  it.each([
    ['a non-string by', { by: 5 }, 'must be a string'],
    ['a blank by', { by: '   ' }, 'must not be blank'],
    ['a by with a line break', { by: 'ana\nrejected by bo' }, 'must not contain control characters'],
  ])('400 for %s, naming it', async (_name, body, message) => {
    for (const verb of ['approve', 'reject']) {
      const res = await app.request(`/runs/x/tasks/y/${verb}`, jsonRequest('POST', body));
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.details?.map((d) => d.path)).toEqual(['by']);
      expect(error.message).toContain(message);
    }
  });

  it('409 after the run ended names the decision applied', async () => {
    const runId = await startRun({});
    await insertTaskRun(h.sql, { runId, workflowId: 'shipping', taskId: 'ship', status: 'BLOCKED' });
    const reject = jsonRequest('POST', { by: 'bo', reason: 'address missing' });
    expect((await app.request(`/runs/${runId}/tasks/ship/reject`, reject)).status).toBe(202);
    // As the scheduler applies it: the task fails, and the run with it.
    await h.sql`UPDATE task_runs SET status = 'FAILED' WHERE id = ${`${runId}:ship`}`;
    await h.sql`UPDATE runs SET status = 'FAILED', finished_at = now() WHERE id = ${runId}`;
    const late = await app.request(`/runs/${runId}/tasks/ship/approve`, { method: 'POST' });
    expect(late.status).toBe(409);
    expect(await errorOf(late)).toMatchObject({
      message: `run '${runId}' is FAILED, not RUNNING (task 'ship' rejected by bo)`,
      details: { runStatus: 'FAILED', decision: 'REJECTED', decidedBy: 'bo' },
    });
  });
});
