import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cancellation, runAttempt } from '../execute.js';
import type { TaskContext } from '../types.js';
import { describeFetchError, httpHandler } from './http.js';

const ctx: Omit<TaskContext, 'signal'> = {
  runId: 'r',
  taskId: 't',
  taskRunId: 'r:t',
  attempt: 1,
  workflowId: 'wf',
  queue: 'default',
  logger: undefined as never,
};

/** One attempt of an http task, as the worker runs it. */
const attempt = (input: unknown, timeoutMs: number | null = null) =>
  runAttempt({
    handler: httpHandler,
    input: input as never,
    ctx,
    timeoutMs,
    cancel: new Cancellation(),
    maxOutputBytes: 100_000,
  });

let server: Server;
let baseUrl: string;
/** A port nothing listens on: a server's, once closed. */
let closedPort: number;

beforeAll(async () => {
  // `/status/N` answers N with a body naming it; `/long` a 404 with a long body; `/json` a JSON 200;
  // `/hang` never answers.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = /^\/status\/(\d+)$/.exec(url.pathname);
    if (status) {
      res.statusCode = Number(status[1]);
      res.end(`body of ${status[1]}`);
    } else if (url.pathname === '/long') {
      res.statusCode = 404;
      res.end(`${'a'.repeat(512)}TAIL`);
    } else if (url.pathname === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end('{"total":42}');
    } else if (url.pathname !== '/hang') {
      res.end('plain text');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise<void>((resolve) => spare.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('httpHandler', () => {
  it.each([
    [200, '/json', { total: 42 }],
    [200, '/plain', 'plain text'],
  ])('returns the body of a %d (%s), JSON-parsed when it is JSON', async (_status, path, output) => {
    expect(await attempt({ url: `${baseUrl}${path}` })).toEqual({ ok: true, output: JSON.stringify(output) });
  });

  it.each([
    [400, 'Bad Request'],
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [404, 'Not Found'],
    [408, 'Request Timeout'],
    [409, 'Conflict'],
    [410, 'Gone'],
    [422, 'Unprocessable Entity'],
    [429, 'Too Many Requests'],
    [500, 'Internal Server Error'],
    [503, 'Service Unavailable'],
  ])('fails the attempt retryably on a %d, naming status, status text and body', async (status, text) => {
    const result = await attempt({ url: `${baseUrl}/status/${status}?token=secret`, method: 'delete' });
    expect(result).toEqual({
      ok: false,
      error: `HTTP ${status} ${text} from DELETE ${baseUrl}/status/${status}: body of ${status}`,
      retryable: true,
    });
  });

  it('cuts a long error body to its first 512 characters', async () => {
    const result = await attempt({ url: `${baseUrl}/long` });
    expect(result).toEqual({
      ok: false,
      error: `HTTP 404 Not Found from GET ${baseUrl}/long: ${'a'.repeat(512)}...`,
      retryable: true,
    });
  });

  it('names the cause of a request that got no response (connection refused), retryably', async () => {
    const url = `http://127.0.0.1:${closedPort}/orders`;
    expect(await attempt({ url })).toEqual({
      ok: false,
      error: `fetch failed: connect ECONNREFUSED 127.0.0.1:${closedPort} (GET ${url})`,
      retryable: true,
    });
  });

  it('names the cause of a name that does not resolve', async () => {
    const result = await attempt({ url: 'http://relay-test.invalid/x' });
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(!result.ok && result.error).toMatch(
      /^fetch failed: getaddrinfo (ENOTFOUND|EAI_AGAIN) relay-test\.invalid \(GET http:\/\/relay-test\.invalid\/x\)$/,
    );
  });

  it('reports a timeout while waiting for the response as the timeout, not a network error', async () => {
    expect(await attempt({ url: `${baseUrl}/hang` }, 100)).toEqual({
      ok: false,
      error: 'timed out after 100ms',
      retryable: true,
    });
  });

  it.each([
    [{ url: 42 }, 'with.url: expected a URL string'],
    [{ url: 'not a url' }, 'with.url: not a valid URL: "not a url"'],
    [{ url: 'http://x', headers: [] }, 'with.headers: expected a mapping of header names to strings'],
  ])('fails %j for good: %s', async (input, error) => {
    expect(await attempt(input)).toEqual({ ok: false, error, retryable: false });
  });
});

describe('describeFetchError', () => {
  const refused = (port: number) =>
    Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
  it.each<[string, unknown, string]>([
    [
      'a cause',
      new TypeError('fetch failed', { cause: refused(1) }),
      'fetch failed: connect ECONNREFUSED 127.0.0.1:1',
    ],
    [
      'an AggregateError cause with no message (every address refused)',
      new TypeError('fetch failed', {
        cause: Object.assign(new AggregateError([refused(1), refused(2), refused(1)], ''), {
          code: 'ECONNREFUSED',
        }),
      }),
      'fetch failed: connect ECONNREFUSED 127.0.0.1:1; connect ECONNREFUSED 127.0.0.1:2',
    ],
    [
      'a cause with only a code',
      new TypeError('fetch failed', { cause: Object.assign(new Error(''), { code: 'ECONNRESET' }) }),
      'fetch failed: ECONNRESET',
    ],
    ['no cause', new TypeError('fetch failed'), 'fetch failed'],
    [
      'a cause that repeats the message',
      new Error('terminated', { cause: new Error('terminated') }),
      'terminated',
    ],
    [
      'a string cause',
      new TypeError('fetch failed', { cause: 'other side hung up' }),
      'fetch failed: other side hung up',
    ],
    ['not an Error', 'boom', 'boom'],
  ])('words %s', (_name, err, text) => {
    expect(describeFetchError(err)).toBe(text);
  });
});
