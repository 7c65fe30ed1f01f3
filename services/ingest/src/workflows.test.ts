import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, jsonRequest, openHarness, yamlRequest } from '../test/harness.js';
import { prefersYaml } from './routes/workflows.js';

const ORDERS_YAML = `
id: orders
name: Orders
defaults:
  retries: 1
tasks:
  fetch:
    type: noop
  charge:
    needs: [fetch]
    retries: 3
  ship:
    needs: [charge]
    requires_approval: true
`;

let h: Harness;
let app: Hono;

beforeAll(async () => {
  h = await openHarness('ingest-workflows');
  app = h.app();
});
afterAll(async () => {
  await h?.close();
});

async function countRows(workflowId: string) {
  const [row] = await h.sql<{ versions: number; tasks: number; dependencies: number }[]>`
    SELECT (SELECT count(*)::int FROM workflow_versions WHERE workflow_id = ${workflowId}) AS versions,
           (SELECT count(*)::int FROM tasks WHERE workflow_id = ${workflowId}) AS tasks,
           (SELECT count(*)::int FROM dependencies WHERE workflow_id = ${workflowId}) AS dependencies`;
  return row;
}

describe('POST /workflows', () => {
  it('registers a new workflow: 201, version 1, tasks and dependencies written', async () => {
    const res = await app.request('/workflows', yamlRequest(ORDERS_YAML));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      id: 'orders',
      name: 'Orders',
      version: 1,
      status: 'created',
      tasks: [
        { id: 'fetch', needs: [], type: 'noop', requires_approval: false },
        { id: 'charge', needs: ['fetch'], type: 'noop', requires_approval: false },
        { id: 'ship', needs: ['charge'], type: 'noop', requires_approval: true },
      ],
    });
    expect(await countRows('orders')).toEqual({ versions: 1, tasks: 3, dependencies: 2 });
    const tasks = await h.sql<
      { id: string; name: string; config: { retries: number }; requires_approval: boolean }[]
    >`
      SELECT id, name, config, requires_approval FROM tasks WHERE workflow_id = 'orders' ORDER BY id`;
    expect(tasks.map((t) => [t.id, t.name, t.config.retries, t.requires_approval])).toEqual([
      ['charge', 'charge', 3, false],
      ['fetch', 'fetch', 1, false],
      ['ship', 'ship', 1, true],
    ]);
  });

  it('re-applying the same YAML answers 200 unchanged and writes nothing', async () => {
    const [before] = await h.sql<{ updated_at: Date; version: number }[]>`
      SELECT updated_at, version FROM workflows WHERE id = 'orders'`;
    const res = await app.request('/workflows', yamlRequest(ORDERS_YAML));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'orders', version: 1, status: 'unchanged' });
    const [after] = await h.sql<{ updated_at: Date; version: number }[]>`
      SELECT updated_at, version FROM workflows WHERE id = 'orders'`;
    expect(after).toEqual(before);
    expect(await countRows('orders')).toEqual({ versions: 1, tasks: 3, dependencies: 2 });
  });

  it('accepts the same definition as JSON and finds it unchanged', async () => {
    const definition = {
      id: 'orders',
      name: 'Orders',
      defaults: { retries: 1 },
      tasks: {
        fetch: { type: 'noop' },
        charge: { needs: ['fetch'], retries: 3 },
        ship: { needs: ['charge'], requires_approval: true },
      },
    };
    const res = await app.request('/workflows', jsonRequest('POST', definition));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'unchanged', version: 1 });
  });

  it('a changed definition adds a version and replaces tasks and dependencies', async () => {
    const changed = `
id: orders
name: Orders v2
tasks:
  fetch: {}
  pack:
    needs: [fetch]
    type: shell
    with: { command: "echo packing" }
`;
    const res = await app.request('/workflows', yamlRequest(changed, { 'content-type': 'text/yaml' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: 'orders',
      name: 'Orders v2',
      version: 2,
      status: 'updated',
    });
    expect(await countRows('orders')).toEqual({ versions: 2, tasks: 2, dependencies: 1 });
    const deps =
      await h.sql`SELECT task_id, depends_on_task_id FROM dependencies WHERE workflow_id = 'orders'`;
    expect([...deps]).toEqual([{ task_id: 'pack', depends_on_task_id: 'fetch' }]);
    const [current] = await h.sql<{ name: string; version: number }[]>`
      SELECT name, version FROM workflows WHERE id = 'orders'`;
    expect(current).toEqual({ name: 'Orders v2', version: 2 });
  });

  it('serializes concurrent applies of one workflow into distinct versions', async () => {
    const variants = [1, 2, 3].map(
      (n) => `id: racing\ntasks:\n  only:\n    type: sleep\n    with: { duration: ${n}s }\n`,
    );
    const answers = await Promise.all(variants.map((text) => app.request('/workflows', yamlRequest(text))));
    const bodies = (await Promise.all(answers.map((res) => res.json()))) as { version: number }[];
    expect(bodies.map((b) => b.version).sort()).toEqual([1, 2, 3]);
    expect(await countRows('racing')).toEqual({ versions: 3, tasks: 1, dependencies: 0 });
  });

  const invalid: { name: string; body: string; path: string; message: RegExp; position?: boolean }[] = [
    {
      name: 'YAML syntax error with line and column',
      body: 'id: broken\ntasks:\n  a: {type: noop\n  b: [',
      path: '',
      message: /./,
      position: true,
    },
    {
      name: 'an unknown field',
      body: 'id: unknown-field\ntasks:\n  a:\n    typo: 1\n',
      path: 'tasks.a.typo',
      message: /./,
    },
    {
      name: 'a cycle, listing it',
      body: 'id: cyclic\ntasks:\n  a: { needs: [c] }\n  b: { needs: [a] }\n  c: { needs: [b] }\n',
      path: 'tasks',
      message: /(\w) -> \w -> \w -> \1/,
    },
    {
      name: 'a need naming no task',
      body: 'id: dangling\ntasks:\n  a: { needs: [ghost] }\n',
      path: 'tasks.a.needs',
      message: /ghost/,
    },
    { name: 'an invalid id', body: 'id: Not Valid\ntasks:\n  a: {}\n', path: 'id', message: /./ },
  ];
  it.each(invalid)('400 for $name, naming the path', async ({ body, path, message, position }) => {
    const res = await app.request('/workflows', yamlRequest(body));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as {
      error: {
        code: string;
        message: string;
        details: { path: string; message: string; line?: number; column?: number }[];
      };
    };
    expect(error.code).toBe('invalid_workflow');
    expect(error.details.length).toBeGreaterThan(0);
    const issue = error.details.find((d) => (path === '' ? true : d.path.startsWith(path)));
    expect(issue, JSON.stringify(error.details)).toBeDefined();
    expect(issue?.message).toMatch(message);
    if (position) {
      expect(issue?.line).toBeGreaterThan(0);
      expect(issue?.column).toBeGreaterThan(0);
    }
  });

  it.each([
    ['text/plain', 'id: x\ntasks:\n  a: {}\n'],
    ['application/x-www-form-urlencoded', 'id=x'],
  ])('415 for content type %s', async (contentType, body) => {
    const res = await app.request('/workflows', yamlRequest(body, { 'content-type': contentType }));
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('400 at once for a 280 KB pathological template expression (it held ingest for 12 s)', async () => {
    const expression = `\${{ tasks.a${'.output'.repeat(40_000)}! }}`;
    const body = {
      id: 'pathological',
      tasks: { a: {}, b: { needs: ['a'], type: 'shell', with: { command: `echo ${expression}` } } },
    };
    const started = performance.now();
    const res = await app.request('/workflows', jsonRequest('POST', body));
    const elapsed = performance.now() - started;
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { details: { path: string; message: string }[] } };
    expect(error.details).toEqual([
      expect.objectContaining({
        path: 'tasks.b.with.command',
        message: expect.stringMatching(/: longer than 1024 characters \(\d+\)$/),
      }),
    ]);
    expect(elapsed).toBeLessThan(2000);
    expect(await countRows('pathological')).toEqual({ versions: 0, tasks: 0, dependencies: 0 });
  });

  it('413 for a body over the limit, with or without Content-Length', async () => {
    const small = h.app({ maxBodyBytes: 64 });
    const body = `id: big\ntasks:\n${Array.from({ length: 20 }, (_, i) => `  t${i}: {}`).join('\n')}\n`;
    const sized = await small.request(
      '/workflows',
      yamlRequest(body, { 'content-length': String(body.length) }),
    );
    expect(sized.status).toBe(413);
    const streamed = await small.request('/workflows', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(await countRows('big')).toEqual({ versions: 0, tasks: 0, dependencies: 0 });
  });
});

describe('GET /workflows', () => {
  it('lists workflows with name and updatedAt', async () => {
    const res = await app.request('/workflows');
    expect(res.status).toBe(200);
    const { workflows } = (await res.json()) as {
      workflows: { id: string; name: string; updatedAt: string }[];
    };
    expect(workflows.map((w) => w.id)).toEqual(['orders', 'racing']);
    expect(workflows[0]).toMatchObject({ name: 'Orders v2' });
    expect(Number.isNaN(Date.parse(workflows[0]?.updatedAt ?? ''))).toBe(false);
  });

  it('GET /workflows/:id returns the current definition and task summary', async () => {
    const res = await app.request('/workflows/orders');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: 'orders',
      name: 'Orders v2',
      version: 2,
      definition: { id: 'orders', tasks: [{ id: 'fetch' }, { id: 'pack', type: 'shell' }] },
      tasks: [
        { id: 'fetch', needs: [] },
        { id: 'pack', needs: ['fetch'], type: 'shell' },
      ],
    });
  });

  it('GET /workflows/:id with Accept: application/yaml gives YAML that POST /workflows takes back unchanged', async () => {
    const yaml = `id: exported
name: Exported
defaults: { retries: 2, timeout: 90s }
tasks:
  fetch: { type: http, with: { url: "https://example.com/\${{ input.id }}", method: GET } }
  charge: { needs: [fetch], queue: payments, backoff: { initial: 500ms, max: 5s } }
  ship: { needs: [charge], requires_approval: true, type: shell, with: { command: "echo 'a: b'\\nexit 0\\n" } }
`;
    const created = await app.request('/workflows', yamlRequest(yaml));
    expect(created.status, await created.clone().text()).toBe(201);
    const res = await app.request('/workflows/exported', { headers: { accept: 'application/yaml' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
    const exported = await res.text();
    expect(exported).toContain('requires_approval: true');
    expect(exported).not.toContain('defaults');
    const again = await app.request('/workflows', yamlRequest(exported));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: 'exported', status: 'unchanged', version: 1 });
    // JSON stays the answer for JSON clients and for none in particular.
    for (const accept of ['application/json', '*/*', 'application/json, application/yaml;q=0.5']) {
      const json = await app.request('/workflows/exported', { headers: { accept } });
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });

  it('404 for an unknown workflow', async () => {
    const res = await app.request('/workflows/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: "workflow 'nope' not found", details: null },
    });
  });
});

describe('prefersYaml', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['application/json', false],
    ['application/yaml', true],
    ['text/yaml', true],
    ['Application/YAML; charset=utf-8', true],
    ['application/x-yaml', true],
    ['application/yaml, application/json', true],
    ['application/json, application/yaml', false],
    ['application/json;q=0.5, application/yaml', true],
    ['application/yaml;q=0.5, */*', false],
    ['application/yaml;q=0, application/json', false],
    ['application/yaml;q=0', false],
    ['text/html, application/yaml;q=0.9', false],
  ])('%j: %s', (accept, expected) => {
    expect(prefersYaml(accept)).toBe(expected);
  });
});
