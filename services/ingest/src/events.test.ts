import { MAX_OPAQUE_ID_LENGTH } from '@relay/contracts';
import { MAX_EVENT_TYPE_LENGTH } from '@relay/workflow';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, jsonRequest, openHarness, yamlRequest } from '../test/harness.js';

const subscriber = (id: string, event: string) => `
id: ${id}
on: { event: ${event} }
tasks:
  fetch: { type: noop }
`;

let h: Harness;
let app: Hono;

beforeAll(async () => {
  h = await openHarness('ingest-events');
  app = h.app();
  for (const doc of [
    subscriber('ship-order', 'order.created'),
    subscriber('bill-order', 'order.created'),
    subscriber('refund', 'order.refunded'),
    `id: manual\ntasks:\n  a: {}\n`,
  ]) {
    expect((await app.request('/workflows', yamlRequest(doc))).status).toBe(201);
  }
});
afterAll(async () => {
  await h?.close();
});

async function send(body: unknown): Promise<{ status: number; body: { runs?: string[]; error?: ApiError } }> {
  const res = await app.request('/events', jsonRequest('POST', body));
  return { status: res.status, body: (await res.json()) as { runs?: string[]; error?: ApiError } };
}

interface ApiError {
  code: string;
  message: string;
  details?: { path: string; message: string }[];
}

async function runsOf(ids: readonly string[]) {
  return h.sql<
    { id: string; workflow_id: string; status: string; input: unknown; workflow_version: number }[]
  >`
    SELECT id, workflow_id, status, input, workflow_version FROM runs
    WHERE id = ANY(${[...ids]}::text[]) ORDER BY workflow_id`;
}

async function runStartedFor(ids: readonly string[]) {
  return (await h.readRunsStream()).filter(
    (e) => e.type === 'RunStarted' && ids.includes((e.data as { runId: string }).runId),
  );
}

describe('POST /events', () => {
  it('starts every workflow subscribed to the type, with the payload as input, and announces each run', async () => {
    const { status, body } = await send({ type: 'order.created', payload: { orderId: 42 } });
    expect(status).toBe(202);
    expect(body.runs).toHaveLength(2);
    const runs = await runsOf(body.runs ?? []);
    expect(runs.map((r) => [r.workflow_id, r.status, r.input, r.workflow_version])).toEqual([
      ['bill-order', 'RUNNING', { orderId: 42 }, 1],
      ['ship-order', 'RUNNING', { orderId: 42 }, 1],
    ]);
    // In the answer as in the database: by workflow id.
    expect(body.runs).toEqual(runs.map((r) => r.id));
    const started = await runStartedFor(body.runs ?? []);
    expect(started.map((e) => e.data)).toEqual(
      expect.arrayContaining(
        runs.map((r) => ({ runId: r.id, workflowId: r.workflow_id, workflowVersion: 1 })),
      ),
    );
    expect(started).toHaveLength(2);
  });

  it('answers 202 with no runs for a type nobody subscribes to', async () => {
    const before = (await h.readRunsStream()).length;
    const { status, body } = await send({ type: 'order.shipped', id: 'evt-none', payload: {} });
    expect({ status, body }).toEqual({ status: 202, body: { runs: [] } });
    expect((await h.readRunsStream()).length).toBe(before);
  });

  it('starts nothing twice for the same id: a retry is answered with the first runs', async () => {
    const first = await send({ type: 'order.refunded', id: 'evt-1', payload: { orderId: 7 } });
    const again = await send({ type: 'order.refunded', id: 'evt-1', payload: { orderId: 7 } });
    expect(first).toMatchObject({ status: 202 });
    expect(again).toEqual(first);
    const [row] = await h.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM runs WHERE workflow_id = 'refund' AND input = '{"orderId": 7}'::jsonb`;
    expect(row?.n).toBe(1);
    const [event] = await h.sql`SELECT type, payload, run_ids FROM events WHERE id = 'evt-1'`;
    expect(event).toEqual({ type: 'order.refunded', payload: { orderId: 7 }, run_ids: first.body.runs });
  });

  it('starts one set of runs for concurrent requests with the same id', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => send({ type: 'order.created', id: 'evt-race', payload: { n: 1 } })),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body.runs)))).toHaveProperty('size', 1);
    const [row] = await h.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM runs WHERE input = '{"n": 1}'::jsonb`;
    expect(row?.n).toBe(2);
  });

  it('409 for an id received before with another type or payload, and nothing is started', async () => {
    await send({ type: 'order.refunded', id: 'evt-2', payload: { orderId: 8 } });
    const before = (await h.readRunsStream()).length;
    for (const body of [
      { type: 'order.refunded', id: 'evt-2', payload: { orderId: 9 } },
      { type: 'order.created', id: 'evt-2', payload: { orderId: 8 } },
    ]) {
      const res = await send(body);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'conflict' });
      expect(res.body.error?.message).toContain("event 'evt-2'");
    }
    expect((await h.readRunsStream()).length).toBe(before);
  });

  it('a retry announces again the runs whose RunStarted did not go out', async () => {
    const failing = h.app(
      {},
      {
        bus: {
          publish: async () => {
            throw new Error('redis is down');
          },
        } as never,
      },
    );
    const res = await failing.request(
      '/events',
      jsonRequest('POST', { type: 'order.refunded', id: 'evt-3', payload: { orderId: 10 } }),
    );
    expect(res.status).toBe(500);
    const [event] = await h.sql<{ run_ids: string[] }[]>`SELECT run_ids FROM events WHERE id = 'evt-3'`;
    expect(event?.run_ids).toHaveLength(1);
    expect(await runStartedFor(event?.run_ids ?? [])).toEqual([]);
    const retry = await send({ type: 'order.refunded', id: 'evt-3', payload: { orderId: 10 } });
    expect(retry).toEqual({ status: 202, body: { runs: event?.run_ids } });
    expect(await runStartedFor(event?.run_ids ?? [])).toHaveLength(1);
  });

  it('starts the current version, and only workflows still subscribed', async () => {
    expect(
      (await app.request('/workflows', yamlRequest(subscriber('bill-order', 'invoice.due')))).status,
    ).toBe(200);
    expect(
      (await app.request('/workflows', yamlRequest(`${subscriber('manual', 'order.created')}  b: {}\n`)))
        .status,
    ).toBe(200);
    const { body } = await send({ type: 'order.created', payload: {} });
    const runs = await runsOf(body.runs ?? []);
    expect(runs.map((r) => [r.workflow_id, r.workflow_version])).toEqual([
      ['manual', 2],
      ['ship-order', 1],
    ]);
  });

  it.each([
    ['no type', { payload: {} }, 'type'],
    ['an empty type', { type: ' ', payload: {} }, 'type'],
    // No on.event can hold one: it would start nothing, silently.
    ['a type with surrounding spaces', { type: ' order.created', payload: {} }, 'type'],
    ['a numeric type', { type: 5, payload: {} }, 'type'],
    ['a numeric id', { type: 'order.created', id: 5, payload: {} }, 'id'],
    ['an empty id', { type: 'order.created', id: '', payload: {} }, 'id'],
    ['no payload', { type: 'order.created' }, 'payload'],
    ['an array payload', { type: 'order.created', payload: [1] }, 'payload'],
    ['an unknown field', { type: 'order.created', payload: {}, data: {} }, 'data'],
  ])('400 for %s, naming the field, and nothing is started', async (_name, body, path) => {
    const [before] = await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM runs`;
    const res = await send(body);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_request');
    expect(res.body.error?.details?.map((d) => d.path)).toContain(path);
    const [after] = await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM runs`;
    expect(after?.n).toBe(before?.n);
  });

  it('takes event types as long as the longest on.event registration allows', () => {
    expect(MAX_EVENT_TYPE_LENGTH).toBe(MAX_OPAQUE_ID_LENGTH);
  });

  it('415 for a body that is not JSON, 401 without the token when one is set', async () => {
    const text = await app.request('/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'order.created',
    });
    expect(text.status).toBe(415);
    const guarded = h.app({ apiToken: 'secret' });
    const denied = await guarded.request('/events', jsonRequest('POST', { type: 'x', payload: {} }));
    expect(denied.status).toBe(401);
    const allowed = await guarded.request(
      '/events',
      jsonRequest('POST', { type: 'x', payload: {} }, { authorization: 'Bearer secret' }),
    );
    expect(allowed.status).toBe(202);
  });
});
