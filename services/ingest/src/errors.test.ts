import { createServer, type Server, type Socket } from 'node:net';
import { createBus } from '@relay/bus';
import { checkDatabase, createSql } from '@relay/db';
import { checkRedis, createLogger, createRedis } from '@relay/runtime';
import { createEmptyTestDatabase } from '@relay/testing';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, jsonRequest, openHarness, yamlRequest } from '../test/harness.js';
import { withDeadline } from './deadline.js';
import { createRepository } from './repository.js';

const TOKEN = 's3cret-token';
let h: Harness;
let app: Hono;
// A TCP server that accepts connections and never answers: a Postgres that hangs.
let silent: Server;
const sockets: Socket[] = [];
let silentPort = 0;

beforeAll(async () => {
  h = await openHarness('ingest-errors');
  app = h.app();
  await app.request('/workflows', yamlRequest('id: basic\ntasks:\n  a: {}\n'));
  silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  await h?.close();
});

describe('authentication', () => {
  const headers = (value?: string): RequestInit =>
    value === undefined ? {} : { headers: { authorization: value } };
  it.each([
    ['no Authorization header', 401, undefined],
    ['a wrong token', 401, 'Bearer nope'],
    ['a token of another length', 401, `Bearer ${TOKEN}x`],
    ['another scheme', 401, `Basic ${TOKEN}`],
    ['the right token', 200, `Bearer ${TOKEN}`],
    ['the right token, any case of the scheme', 200, `bearer ${TOKEN}`],
  ])('GET /workflows with %s -> %i', async (_name, status, authorization) => {
    const secured = h.app({ apiToken: TOKEN });
    const res = await secured.request('/workflows', headers(authorization));
    expect(res.status).toBe(status);
    if (status === 401) expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it.each([
    [undefined, 'missing bearer token (Authorization: Bearer <token>)'],
    ['  ', 'missing bearer token (Authorization: Bearer <token>)'],
    [
      `Bearer ${TOKEN} extra`,
      'malformed bearer token: expected one token without spaces (Authorization: Bearer <token>)',
    ],
    ['Bearer', 'malformed bearer token: expected one token without spaces (Authorization: Bearer <token>)'],
    [`Basic ${TOKEN}`, 'unsupported authorization scheme "Basic"; expected Authorization: Bearer <token>'],
    ['Bearer nope', 'invalid bearer token'],
  ])('401 for Authorization %j says what is wrong, never the value', async (authorization, message) => {
    const secured = h.app({ apiToken: TOKEN });
    const res = await secured.request('/workflows', headers(authorization));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized', message } });
  });

  it('leaves /healthz and /readyz open, guards /metrics and unknown routes', async () => {
    const secured = h.app({ apiToken: TOKEN });
    expect((await secured.request('/healthz')).status).toBe(200);
    expect((await secured.request('/readyz')).status).toBe(200);
    expect((await secured.request('/metrics')).status).toBe(401);
    expect((await secured.request('/nowhere')).status).toBe(401);
    expect((await secured.request('/workflows/basic/runs', { method: 'POST' })).status).toBe(401);
  });

  it('without a configured token every route is open', async () => {
    expect((await app.request('/workflows')).status).toBe(200);
  });
});

describe('routing and error shape', () => {
  it('404 with the error envelope (details null) for an unknown route', async () => {
    const res = await app.request('/nowhere');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /nowhere', details: null },
    });
  });

  it('405 with Allow for a known path asked with another method', async () => {
    for (const [path, method, allow] of [
      ['/runs', 'DELETE', 'GET, HEAD'],
      ['/workflows/x', 'DELETE', 'GET, HEAD'],
      ['/workflows', 'PUT', 'GET, POST, HEAD'],
      ['/runs/r1/cancel', 'GET', 'POST'],
    ] as const) {
      const res = await app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    }
  });

  it('500 with a generic message for a bug, not the bug itself', async () => {
    const broken = h.app(
      {},
      {
        repo: {
          ...createRepository(h.sql, { timeoutMs: 1000 }),
          listWorkflows: async () => {
            throw new TypeError('boom');
          },
        },
      },
    );
    const res = await broken.request('/workflows');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: { code: 'internal', message: 'internal server error', details: null },
    });
  });

  it('401 says which scheme to use', async () => {
    const res = await h.app({ apiToken: TOKEN }).request('/workflows');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="relay"');
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized', details: null } });
  });
});

describe('input Postgres cannot store, or too deep to walk: 400 naming the field, never 500', () => {
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const bodyIssue = async (res: Response) => {
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
    expect(body.error.code).toBe('invalid_request');
    return body.error;
  };

  it.each([
    [
      'a NUL in the input',
      JSON.stringify({ input: { a: 'x\u0000' } }),
      'invalid body: input.a: must not contain a NUL character (\\u0000)',
    ],
    [
      'a lone surrogate in the input',
      JSON.stringify({ input: { a: '\ud800' } }),
      'invalid body: input.a: must be valid Unicode (an unpaired surrogate \\ud800)',
    ],
    [
      'a NUL in a key',
      JSON.stringify({ input: { 'k\u0000': 1 } }),
      'invalid body: input.k\u0000: key must not contain a NUL character (\\u0000)',
    ],
    [
      'an input 5,000 levels deep',
      `{"input": {"a": ${deep(5000)}}}`,
      /^invalid body: input\.a(\[0\])+: nests deeper than 64 levels/,
    ],
  ])('POST /workflows/:id/runs with %s', async (_name, body, message) => {
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    const error = await bodyIssue(await app.request('/workflows/basic/runs', init));
    expect(error.message).toMatch(message);
  });

  it('an event payload with a NUL, or a NUL in its type', async () => {
    const payload = await bodyIssue(
      await app.request('/events', jsonRequest('POST', { type: 't', payload: { a: '\u0000' } })),
    );
    expect(payload.details).toEqual([
      { path: 'payload.a', message: 'must not contain a NUL character (\\u0000)' },
    ]);
    const type = await bodyIssue(
      await app.request('/events', jsonRequest('POST', { type: 't\u0000', payload: {} })),
    );
    expect(type.details).toEqual([{ path: 'type', message: 'must not contain a NUL character (\\u0000)' }]);
  });

  it('a workflow whose name holds a NUL, as JSON and as YAML', async () => {
    for (const init of [
      jsonRequest('POST', { id: 'nul', name: 'a\u0000b', tasks: { a: {} } }),
      yamlRequest('id: nul\nname: "a\\0b"\ntasks:\n  a: {}\n'),
    ]) {
      const res = await app.request('/workflows', init);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: {
          code: 'invalid_workflow',
          message: /^invalid workflow: name: must not contain a NUL character .*\(line 2, column \d+\)$/,
        },
      });
    }
  });

  it('a NUL in the path or the query', async () => {
    for (const path of ['/runs/%00', '/runs/r1/tasks/%00/approve', '/workflows/%00']) {
      const res = await app.request(path, { method: path.endsWith('approve') ? 'POST' : 'GET' });
      expect((await bodyIssue(res)).message).toBe('invalid path: must not contain a NUL character (%00)');
    }
    const res = await app.request('/runs?workflowId=%00');
    expect((await bodyIssue(res)).message).toBe(
      'invalid query: workflowId: must not contain a NUL character (\\u0000)',
    );
  });

  it('a body that is a list, a string or null where an object belongs', async () => {
    for (const [body, got] of [
      [[], 'a list'],
      ['x', 'string'],
      [null, 'null'],
    ] as const) {
      const error = await bodyIssue(await app.request('/workflows/basic/runs', jsonRequest('POST', body)));
      expect(error.message).toBe(`invalid body: must be a JSON object (got ${got})`);
    }
  });

  it('an unknown or missing field is said plainly', async () => {
    const unknown = await bodyIssue(
      await app.request('/workflows/basic/runs', jsonRequest('POST', { inpt: {} })),
    );
    expect(unknown.message).toBe('invalid body: inpt: unknown field');
    const missing = await bodyIssue(await app.request('/events', jsonRequest('POST', { type: 't' })));
    expect(missing.message).toBe('invalid body: payload: is required');
  });

  it('415 for a charset other than UTF-8, 400 saying where a body stops being UTF-8', async () => {
    for (const [path, type, body] of [
      ['/workflows/basic/runs', 'application/json; charset=ISO-8859-1', '{"input":{"name":"caf\u00e9"}}'],
      ['/workflows', 'application/yaml;charset="latin1"', 'id: basic\ntasks:\n  a: {}\n'],
    ] as const) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      expect(res.status, type).toBe(415);
      expect(await res.json()).toMatchObject({
        error: {
          code: 'unsupported_media_type',
          message: expect.stringMatching(
            /^charset '(iso-8859-1|latin1)' is not accepted; send the body as UTF-8/,
          ),
        },
      });
    }
    const accepted = await app.request(
      '/workflows/basic/runs',
      jsonRequest('POST', {}, { 'content-type': 'application/json; charset=UTF-8' }),
    );
    expect(accepted.status).toBe(201);
    // "café" in latin-1: 0xE9 then '"' is no UTF-8 sequence; a euro sign before it is fine.
    const latin1 = Uint8Array.from([
      ...new TextEncoder().encode('{"input":{"name":"€caf'),
      0xe9,
      ...new TextEncoder().encode('"}}'),
    ]);
    const bad = await app.request('/workflows/basic/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: latin1,
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: {
        code: 'invalid_request',
        message: 'body is not valid UTF-8 (at byte 24); send the body as UTF-8',
      },
    });
    const cut = await app.request('/workflows/basic/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode('{"input":{"a":"€"}}').subarray(0, 17),
    });
    expect(await cut.json()).toMatchObject({
      error: { message: 'body is not valid UTF-8 (it ends inside a character); send the body as UTF-8' },
    });
  });

  it('415 for a compressed body', async () => {
    const res = await app.request(
      '/workflows/basic/runs',
      jsonRequest('POST', {}, { 'content-encoding': 'gzip' }),
    );
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { message: /content encoding 'gzip' is not accepted/ } });
  });
});

describe('unreachable dependencies', () => {
  it('a deadline names what else it can mean than an outage', async () => {
    await expect(withDeadline('postgres', 20, () => new Promise(() => {}))).rejects.toThrow(
      'postgres unavailable: no answer within 20 ms (unreachable or slow, or every connection of this server busy with other requests)',
    );
    await expect(withDeadline('redis', 20, () => new Promise(() => {}))).rejects.toThrow(
      'redis unavailable: no answer within 20 ms (unreachable or slow)',
    );
  });

  it.each([
    ['refuses connections', () => 'postgres://relay@127.0.0.1:1/relay'],
    ['never answers', () => `postgres://relay@127.0.0.1:${silentPort}/relay`],
  ])('503 within the timeout when Postgres %s', async (_name, url) => {
    const sql = createSql(url(), { connectTimeoutS: 30 });
    try {
      const down = h.app(
        { requestTimeoutMs: 400 },
        {
          repo: createRepository(sql, { timeoutMs: 400 }),
          checks: { postgres: () => checkDatabase(sql, 400), redis: () => checkRedis(h.redis) },
        },
      );
      const requests: [string, RequestInit][] = [
        ['/workflows', {}],
        ['/workflows', yamlRequest('id: basic\ntasks:\n  a: {}\n')],
        ['/workflows/basic/runs', jsonRequest('POST', {})],
        ['/runs/some-run', {}],
      ];
      for (const [path, init] of requests) {
        const started = Date.now();
        const res = await down.request(path, init);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(res.status, path).toBe(503);
        expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
      }
      const ready = await down.request('/readyz');
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, string> };
      expect(body.checks.redis).toBe('ok');
      expect(body.checks.postgres).not.toBe('ok');
    } finally {
      await sql.end({ timeout: 0 });
    }
  });

  it('503 saying to migrate, on every route and on /readyz, when the database has no Relay tables', async () => {
    const empty = await createEmptyTestDatabase();
    try {
      const unmigrated = h.app(
        {},
        {
          repo: createRepository(empty.sql, { timeoutMs: 5000 }),
          checks: { postgres: () => checkDatabase(empty.sql) },
        },
      );
      for (const [path, init] of [
        ['/workflows', {}],
        ['/workflows', yamlRequest('id: basic\ntasks:\n  a: {}\n')],
        ['/workflows/basic/runs', jsonRequest('POST', {})],
        ['/runs', {}],
      ] as [string, RequestInit][]) {
        const res = await unmigrated.request(path, init);
        expect(res.status, path).toBe(503);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('unavailable');
        expect(error.message).toMatch(
          /^postgres unavailable: the database is not migrated \(relation "\w+" does not exist\): apply the migrations to DATABASE_URL/,
        );
      }
      const ready = await unmigrated.request('/readyz');
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.postgres).toMatch(
        /^database has no Relay tables: apply the migrations/,
      );
    } finally {
      await empty.drop();
    }
  });

  it('201 when Redis is unreachable while publishing RunStarted: the run is stored, the reconciler announces it', async () => {
    const redis = createRedis('redis://127.0.0.1:1', { logger: h.logger, name: 'ingest-test-down' });
    const bus = createBus({
      redis,
      redisUrl: 'redis://127.0.0.1:1',
      prefix: h.prefix,
      source: 'ingest',
      logger: h.logger,
    });
    try {
      const down = h.app({ requestTimeoutMs: 400 }, { bus, checks: { redis: () => checkRedis(redis) } });
      const started = Date.now();
      const res = await down.request('/workflows/basic/runs', jsonRequest('POST', {}));
      expect(Date.now() - started).toBeLessThan(2000);
      // A 503 would make the client retry, and start the run a second time.
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const [stored] = await h.sql<{ status: string }[]>`SELECT status FROM runs WHERE id = ${id}`;
      expect(stored?.status).toBe('RUNNING');
      expect((await down.request('/readyz')).status).toBe(503);
    } finally {
      await bus.close();
      redis.disconnect();
    }
  });
});

describe('health and metrics', () => {
  it('healthz 200, readyz 200 naming each check', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('logs readiness transitions only, not every failing probe', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'ingest',
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    let up = false;
    const flaky = h.app({}, { logger, checks: { redis: async () => up } });
    for (let i = 0; i < 5; i += 1) expect((await flaky.request('/readyz')).status).toBe(503);
    up = true;
    for (let i = 0; i < 3; i += 1) expect((await flaky.request('/readyz')).status).toBe(200);
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg).filter((m) => m !== 'request');
    expect(messages.filter((m) => m === 'not ready' || m === 'ready')).toEqual(['not ready', 'ready']);
  });

  it('/metrics counts requests by route pattern and status, plus default metrics', async () => {
    await app.request('/runs/unknown-run');
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/relay_http_requests_total\{[^}]*route="\/runs\/:id"[^}]*status="404"[^}]*\} 1/);
    expect(text).toContain('relay_http_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('unknown-run');
  });
});
