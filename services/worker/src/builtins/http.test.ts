import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptContext } from '../../test/fixtures.js';
import { Cancellation, runAttempt } from '../execute.js';
import type { Handler } from '../types.js';
import { createHttpHandler, describeFetchError, httpHandler, readBodyHead } from './http.js';

const ctx = attemptContext;

/** The response body limit of `limited` (RELAY_MAX_OUTPUT_BYTES in the worker). */
const LIMIT = 64 * 1024;
const limited = createHttpHandler({ maxBodyBytes: LIMIT });

/** One attempt of an http task, as the worker runs it. */
const attempt = (input: unknown, timeoutMs: number | null = null, handler: Handler = httpHandler) =>
  runAttempt({
    handler,
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
/** The last streamed response: bytes written, and whether it ended or its connection closed first. */
let streamed: { written: number; closed: Promise<{ isFinished: boolean }> };
/** What `/stream` would send in all: far more than LIMIT. */
const STREAM_BYTES = 64 * 1024 * 1024;
/** What `/declared` announces, as the 400 MB response that crashed a worker. */
const DECLARED_BYTES = 400 * 1024 * 1024;

/** Writes `total` bytes of `x` in 16 KiB chunks, as the client takes them (backpressure), chunked. */
function stream(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(16 * 1024, 'x');
  const state = { written: 0, closed: new Promise<{ isFinished: boolean }>(() => {}) };
  state.closed = new Promise((resolve) =>
    res.once('close', () => resolve({ isFinished: res.writableFinished })),
  );
  streamed = state;
  const pump = () => {
    while (state.written < total && !res.destroyed) {
      state.written += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

beforeAll(async () => {
  // `/status/N` answers N with a body naming it; `/long` a 404 with a long body; `/json` a JSON 200;
  // `/hang` never answers; `/stream?status=N` streams STREAM_BYTES; `/declared` announces
  // DECLARED_BYTES and sends 1 KiB; `/bytes/N?length` sends N bytes, chunked or with a Content-Length;
  // `/utf8` splits characters across writes; `/slow-body` sends a chunk and stalls.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = /^\/status\/(\d+)$/.exec(url.pathname);
    const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
    if (url.pathname === '/stream') {
      res.statusCode = Number(url.searchParams.get('status') ?? 200);
      stream(res, STREAM_BYTES);
    } else if (url.pathname === '/declared') {
      res.setHeader('content-length', DECLARED_BYTES);
      streamed = {
        written: 1024,
        closed: new Promise((resolve) => res.once('close', () => resolve({ isFinished: false }))),
      };
      res.write(Buffer.alloc(1024, 'x'));
    } else if (bytes) {
      const n = Number(bytes[1]);
      if (url.searchParams.has('length')) res.setHeader('content-length', n);
      res.write('b'.repeat(n));
      res.end();
    } else if (url.pathname === '/utf8') {
      res.statusCode = Number(url.searchParams.get('status') ?? 200);
      const body = Buffer.from('é😀'.repeat(1000));
      for (let i = 0; i < body.length; i += 1001) res.write(body.subarray(i, i + 1001));
      res.end();
    } else if (url.pathname === '/slow-body') {
      res.write('first chunk');
    } else if (status) {
      res.statusCode = Number(status[1]);
      res.end(`body of ${status[1]}`);
    } else if (url.pathname === '/long') {
      res.statusCode = 404;
      res.end(`${'a'.repeat(512)}TAIL`);
    } else if (url.pathname === '/echo-method') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.method));
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

  it('reports a timeout while reading the body as the timeout, not a network error', async () => {
    expect(await attempt({ url: `${baseUrl}/slow-body` }, 100)).toEqual({
      ok: false,
      error: 'timed out after 100ms',
      retryable: true,
    });
  });

  it.each([
    [{ url: 42 }, 'with.url: expected a URL string'],
    [{ url: 'not a url' }, 'with.url: not a valid URL: "not a url"'],
    [{ url: 'ftp://x/file' }, 'with.url: expected an http: or https: URL, not ftp:'],
    [{ url: 'http://x', headers: [] }, 'with.headers: expected a mapping of header names to strings'],
  ])('fails %j for good: %s', async (input, error) => {
    expect(await attempt(input)).toEqual({ ok: false, error, retryable: false });
  });
});

describe('httpHandler: response size', () => {
  it.each([
    ['chunked', ''],
    ['with a Content-Length', '?length'],
  ])('returns a body of exactly the limit (%s)', async (_how, query) => {
    expect(await attempt({ url: `${baseUrl}/bytes/${LIMIT}${query}` }, null, limited)).toEqual({
      ok: true,
      output: JSON.stringify('b'.repeat(LIMIT)),
    });
  });

  it.each([
    ['streamed one byte over the limit', `/bytes/${LIMIT + 1}`, 'exceeded'],
    [
      'announced one byte over the limit',
      `/bytes/${LIMIT + 1}?length`,
      `of ${LIMIT + 1} bytes (Content-Length) exceeds`,
    ],
  ])('fails for good on a body %s', async (_how, path, size) => {
    expect(await attempt({ url: `${baseUrl}${path}` }, null, limited)).toEqual({
      ok: false,
      error: `response body ${size} the limit of ${LIMIT} bytes (RELAY_MAX_OUTPUT_BYTES) from GET ${baseUrl}${path.replace(/\?.*/, '')}; the request was aborted`,
      retryable: false,
    });
  });

  it('stops reading a chunked body as soon as it is over the limit and aborts the request', async () => {
    const result = await attempt({ url: `${baseUrl}/stream?token=secret` }, null, limited);
    expect(result).toEqual({
      ok: false,
      error: `response body exceeded the limit of ${LIMIT} bytes (RELAY_MAX_OUTPUT_BYTES) from GET ${baseUrl}/stream; the request was aborted`,
      retryable: false,
    });
    // The server's connection was closed mid-body: the rest was never sent, let alone buffered.
    expect(await streamed.closed).toEqual({ isFinished: false });
    expect(streamed.written).toBeLessThan(STREAM_BYTES / 4);
  });

  it('refuses a body whose Content-Length is over the limit before reading it', async () => {
    const result = await attempt({ url: `${baseUrl}/declared` }, null, limited);
    expect(result).toEqual({
      ok: false,
      error: `response body of ${DECLARED_BYTES} bytes (Content-Length) exceeds the limit of ${LIMIT} bytes (RELAY_MAX_OUTPUT_BYTES) from GET ${baseUrl}/declared; the request was aborted`,
      retryable: false,
    });
    expect(await streamed.closed).toEqual({ isFinished: false });
  });

  it('reads only the head of a large error body, retryably', async () => {
    const result = await attempt({ url: `${baseUrl}/stream?status=500` }, null, limited);
    expect(result).toEqual({
      ok: false,
      error: `HTTP 500 Internal Server Error from GET ${baseUrl}/stream: ${'x'.repeat(512)}...`,
      retryable: true,
    });
    expect(await streamed.closed).toEqual({ isFinished: false });
    expect(streamed.written).toBeLessThan(STREAM_BYTES / 4);
  });

  it('decodes UTF-8 split across chunks', async () => {
    expect(await attempt({ url: `${baseUrl}/utf8` }, null, limited)).toEqual({
      ok: true,
      output: JSON.stringify('é😀'.repeat(1000)),
    });
    expect(await attempt({ url: `${baseUrl}/utf8?status=404` })).toEqual({
      ok: false,
      error: `HTTP 404 Not Found from GET ${baseUrl}/utf8: ${'é😀'.repeat(1000).slice(0, 512)}...`,
      retryable: true,
    });
  });
});

describe('httpHandler: credentials in URLs', () => {
  it.each([
    ['http://admin:s3cret@[::1/x', 'http://***@[::1/x'],
    ['http://admin:s3/cret@host:80x/x', 'http://***@host:80x/x'],
    ['http:admin:s3cret@[::1/x', '***@[::1/x'],
  ])('masks the user:password of an invalid URL (%s) and fails for good', async (url, shown) => {
    expect(await attempt({ url })).toEqual({
      ok: false,
      error: `with.url: not a valid URL: ${JSON.stringify(shown)}`,
      retryable: false,
    });
  });

  it('does not name the "scheme" of a URL with no scheme, a user name there', async () => {
    expect(await attempt({ url: 'admin:s3cret@host/x' })).toEqual({
      ok: false,
      error: 'with.url: expected an http: or https: URL',
      retryable: false,
    });
  });

  it('refuses credentials in a valid URL for good, without showing them', async () => {
    const url = new URL(baseUrl);
    expect(await attempt({ url: `http://admin:s3cret@${url.host}/orders?token=t` })).toEqual({
      ok: false,
      error: `with.url: credentials in the URL are not supported, pass them in with.headers (e.g. authorization): ${baseUrl}/orders`,
      retryable: false,
    });
  });

  it.each([
    [
      undefined,
      'with.body: a GET request cannot have a body (GET is the default method); set with.method to POST, PUT, PATCH or DELETE',
    ],
    ['HEAD', 'with.body: a HEAD request cannot have a body; set with.method to POST, PUT, PATCH or DELETE'],
  ])('refuses a body with method %s for good', async (method, error) => {
    expect(await attempt({ url: `${baseUrl}/json`, method, body: { n: 1 } })).toEqual({
      ok: false,
      error,
      retryable: false,
    });
  });

  it.each([
    ['put', 'PUT'],
    [null, 'GET'],
  ])('sends method %j as %s', async (method, sent) => {
    expect(await attempt({ url: `${baseUrl}/echo-method`, method })).toEqual({
      ok: true,
      output: JSON.stringify(sent),
    });
  });

  it.each([
    ['FETCH', 'with.method: expected one of GET, POST, PUT, PATCH, DELETE, HEAD (got "FETCH")'],
    [5, 'with.method: expected one of GET, POST, PUT, PATCH, DELETE, HEAD (got 5)'],
    [
      { verb: 'GET' },
      'with.method: expected one of GET, POST, PUT, PATCH, DELETE, HEAD (got {"verb":"GET"})',
    ],
  ])('refuses method %j (a reference resolved to it) for good', async (method, error) => {
    expect(await attempt({ url: `${baseUrl}/json`, method })).toEqual({ ok: false, error, retryable: false });
  });

  it('refuses headers that resolved to something other than a mapping for good', async () => {
    expect(await attempt({ url: `${baseUrl}/json`, headers: ['x'] })).toEqual({
      ok: false,
      error: 'with.headers: expected a mapping of header names to strings',
      retryable: false,
    });
  });

  it('refuses an invalid header value for good, without showing it', async () => {
    expect(
      await attempt({ url: `${baseUrl}/json`, headers: { authorization: 'Bearer s3cret\nX-Injected: 1' } }),
    ).toEqual({
      ok: false,
      error: 'with.headers.authorization: not a valid HTTP header name or value',
      retryable: false,
    });
  });
});

describe('readBodyHead', () => {
  const body = (...chunks: number[][]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
        controller.close();
      },
    });
  // é = c3 a9; 😀 = f0 9f 98 80
  it.each<[string, ReadableStream<Uint8Array>, number, { text: string; isCut: boolean }]>([
    [
      'characters split across chunks',
      body([0x61, 0xc3], [0xa9, 0xf0, 0x9f], [0x98], [0x80]),
      100,
      { text: 'aé😀', isCut: false },
    ],
    ['a body of exactly the limit', body([0x61, 0xc3], [0xa9]), 3, { text: 'aé', isCut: false }],
    [
      'a character cut at the limit, dropped',
      body([0x61, 0xc3], [0xa9, 0x62]),
      2,
      { text: 'a', isCut: true },
    ],
    ['a malformed byte, replaced', body([0x61, 0xff, 0x62]), 100, { text: 'a\uFFFDb', isCut: false }],
    [
      'a truncated character at the end, replaced',
      body([0x61, 0xc3]),
      100,
      { text: 'a\uFFFD', isCut: false },
    ],
  ])('reads %s', async (_name, stream, maxBytes, head) => {
    expect(await readBodyHead(stream, maxBytes)).toEqual(head);
  });

  it('cancels the rest of a body over the limit', async () => {
    let cancelled = false;
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(new Uint8Array(1024).fill(0x61));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await readBodyHead(endless, 4096)).toEqual({ text: 'a'.repeat(4096), isCut: true });
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThan(10);
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
