import { waitFor } from '@relay/testing';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, jsonRequest, openHarness, yamlRequest } from '../test/harness.js';
import { DependencyUnavailableError } from './errors.js';
import { createRepository, type NewRun, type Repository } from './repository.js';
import { MAX_RUNS_PER_BATCH } from './run-starts.js';

// Concurrent POST /workflows/:id/runs share set-based INSERTs and pipelined publishes (run-starts.ts);
// these tests check that every request still gets its own answer.

let h: Harness;

beforeAll(async () => {
  h = await openHarness('ingest-run-batching');
  const app = h.app();
  const apply = async (yaml: string) =>
    expect((await app.request('/workflows', yamlRequest(yaml))).status).toBe(201);
  await apply('id: two\ntasks:\n  a: {}\n  b: { needs: [a] }\n');
  await apply('id: three\ntasks:\n  a: {}\n  b: {}\n  c: {}\n');
  await apply('id: many\ntasks:\n  a: {}\n');
});
afterAll(async () => {
  await h?.close();
});

// An input the API accepts that this file's repository turns into one Postgres refuses (jsonb has no
// \u0000; the API itself answers 400 for one), to get a row the INSERT rejects.
const POISON = 'poison';

/** The real repository, recording the runs of every insertRuns call; `before` may fail or hold a call. */
function recordingRepo(before?: (call: number) => Promise<void>): { repo: Repository; batches: NewRun[][] } {
  const real = createRepository(h.sql, { timeoutMs: 5000 });
  const batches: NewRun[][] = [];
  return {
    batches,
    repo: {
      ...real,
      insertRuns: async (runs) => {
        batches.push([...runs]);
        await before?.(batches.length);
        return real.insertRuns(
          runs.map((run) => ({ ...run, inputJson: run.inputJson.replace(POISON, '\\u0000') })),
        );
      },
    },
  };
}

type Created = { id: string; workflowId: string; workflowVersion: number; status: string };

async function post(
  app: Hono,
  workflowId: string,
  input: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await app.request(`/workflows/${workflowId}/runs`, jsonRequest('POST', { input }));
  return { status: res.status, body: await res.json() };
}

describe('concurrent POST /workflows/:id/runs', () => {
  it('runs of several workflows and an unknown one, in one batch: each request gets its own answer', async () => {
    const { repo, batches } = recordingRepo();
    const app = h.app({}, { repo });
    const targets = Array.from({ length: 30 }, (_, i) => ['two', 'three', 'ghost'][i % 3] as string);
    const answers = await Promise.all(targets.map((workflowId, i) => post(app, workflowId, { i })));

    expect(batches.length).toBeLessThan(targets.length);
    expect(new Set(batches[0]?.map((run) => run.workflowId))).toEqual(new Set(['two', 'three', 'ghost']));
    const created = new Map<string, { i: number; workflowId: string }>();
    answers.forEach(({ status, body }, i) => {
      const workflowId = targets[i] as string;
      if (workflowId === 'ghost') {
        expect(status).toBe(404);
        expect(body).toEqual({
          error: { code: 'not_found', message: "workflow 'ghost' not found", details: null },
        });
        return;
      }
      expect(status).toBe(201);
      expect(body).toMatchObject({ workflowId, workflowVersion: 1, status: 'RUNNING' });
      created.set((body as Created).id, { i, workflowId });
    });
    expect(created.size).toBe(20);

    const rows = await h.sql<
      { id: string; workflow_id: string; input: { i: number }; remaining_tasks: number | null }[]
    >`
      SELECT id, workflow_id, input, remaining_tasks FROM runs WHERE id = ANY(${[...created.keys()]}::text[])`;
    expect(rows).toHaveLength(20);
    for (const row of rows) {
      const expected = created.get(row.id);
      expect(row.workflow_id).toBe(expected?.workflowId);
      expect(row.input).toEqual({ i: expected?.i });
      expect(row.remaining_tasks).toBeNull(); // the scheduler's, set with the task_runs
    }
    const [ghosts] = await h.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM runs WHERE workflow_id = 'ghost'`;
    expect(ghosts?.n).toBe(0);

    // Exactly one RunStarted per created run, with its own workflow and version.
    const started = (await h.readRunsStream()).filter(
      (e) => e.type === 'RunStarted' && created.has((e.data as { runId: string }).runId),
    );
    expect(started).toHaveLength(20);
    for (const event of started) {
      const data = event.data as { runId: string; workflowId: string; workflowVersion: number };
      expect(data.workflowId).toBe(created.get(data.runId)?.workflowId);
      expect(data.workflowVersion).toBe(1);
    }
  });

  it(`splits more than ${MAX_RUNS_PER_BATCH} concurrent runs into batches of at most ${MAX_RUNS_PER_BATCH}`, async () => {
    const { repo, batches } = recordingRepo();
    const app = h.app({}, { repo });
    const count = 2 * MAX_RUNS_PER_BATCH + 100;
    const answers = await Promise.all(Array.from({ length: count }, (_, i) => post(app, 'many', { i })));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...batches.map((b) => b.length))).toBe(MAX_RUNS_PER_BATCH);
    expect(batches.reduce((sum, b) => sum + b.length, 0)).toBe(count);
    const ids = answers.map((a) => (a.body as Created).id);
    expect(new Set(ids).size).toBe(count);
    const [stored] = await h.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM runs WHERE id = ANY(${ids}::text[])`;
    expect(stored?.n).toBe(count);
  });

  it('a run whose input the database rejects fails alone; its batch neighbours are created', async () => {
    const { repo, batches } = recordingRepo();
    const app = h.app({}, { repo });
    // Postgres rejects this input (a 500, as before batching).
    const inputs = [{ n: 1 }, { n: 2, bad: POISON }, { n: 3 }];
    const answers = await Promise.all(inputs.map((input) => post(app, 'two', input)));
    expect(answers.map((a) => a.status)).toEqual([201, 500, 201]);
    expect(answers[1]?.body).toEqual({
      error: { code: 'internal', message: 'internal server error', details: null },
    });
    expect(batches.map((b) => b.length)).toEqual([3, 1, 1, 1]);
  });

  it('a batch that fails answers its own requests with the error; the next batch goes on', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { repo, batches } = recordingRepo(async (call) => {
      if (call !== 1) return;
      await held;
      throw new DependencyUnavailableError('postgres', 'connection lost');
    });
    const app = h.app({}, { repo });
    const first = post(app, 'two', { n: 'first' });
    await waitFor(() => (batches.length === 1 ? true : undefined), { timeoutMs: 2000 });
    const later = ['two', 'three'].map((workflowId) => post(app, workflowId, { n: 'later' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect(await first).toEqual({
      status: 503,
      body: {
        error: { code: 'unavailable', message: 'postgres unavailable: connection lost', details: null },
      },
    });
    expect((await Promise.all(later)).map((a) => a.status)).toEqual([201, 201]);
    expect(batches.map((b) => b.length)).toEqual([1, 2]);
  });

  it('a failed publish still answers 201: the runs stay stored for the reconciler', async () => {
    const published: number[] = [];
    const app = h.app(
      {},
      {
        bus: {
          publish: async (events) => {
            published.push(Array.isArray(events) ? events.length : 1);
            throw new Error('Connection is closed.');
          },
        },
      },
    );
    const answers = await Promise.all([1, 2, 3].map((n) => post(app, 'three', { n })));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(published).toEqual([3]);
    const [stored] = await h.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM runs
      WHERE workflow_id = 'three' AND status = 'RUNNING' AND input->>'n' IN ('1', '2', '3')`;
    expect(stored?.n).toBe(3);
  });
});
