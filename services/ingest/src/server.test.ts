import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '@relay/runtime';
import {
  createTestDatabase,
  createTestRedis,
  deleteRedisPrefix,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { OPEN_API_WARNING, startIngest } from './service.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
const redis = createTestRedis();
const prefix = uniquePrefix('ingest-server');

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  await redis.quit();
  await database.drop();
});

/** Ingest on this file's database and prefix, on a free port, with `env` on top. */
function startOnAnyPort(env: Record<string, string> = {}, logger?: Logger) {
  const config = loadConfig({
    DATABASE_URL: database.url,
    RELAY_PREFIX: prefix,
    PORT: '0',
    REDIS_URL: 'redis://127.0.0.1:6379',
    ...env,
  });
  return startIngest(config, { logger: logger ?? createLogger({ service: 'ingest', level: 'silent' }) });
}

/** A logger at `info` whose lines are kept, parsed. */
function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger({
    service: 'ingest',
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as { level: string; msg: string }) },
  });
  return { logger, lines };
}

describe('ingest over real HTTP', () => {
  it('startIngest listens on port 0, answers fetch, and stops cleanly', async () => {
    const service = await startOnAnyPort();
    expect(service.port).toBeGreaterThan(0);
    const applied = await fetch(`${service.url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'id: over-http\ntasks:\n  a: {}\n',
    });
    expect(applied.status).toBe(201);
    const run = await fetch(`${service.url}/workflows/over-http/runs`, { method: 'POST' });
    expect(run.status).toBe(201);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    await service.stop();
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
  });

  it('reads bodies straight from the Node request: UTF-8 across chunks, a BOM, 413 with or without a length', async () => {
    const service = await startOnAnyPort({ RELAY_MAX_BODY_BYTES: String(256 * 1024) });
    try {
      const applied = await fetch(`${service.url}/workflows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'bodies', tasks: { a: {} } }),
      });
      expect(applied.status).toBe(201);
      const runs = `${service.url}/workflows/bodies/runs`;
      const json = { 'content-type': 'application/json' };

      // ~150 KB of multi-byte characters: several socket chunks, characters split between them.
      const input = { text: 'café ✓ 😀 '.repeat(10_000) };
      const started = await fetch(runs, { method: 'POST', headers: json, body: JSON.stringify({ input }) });
      expect(started.status).toBe(201);
      const { id } = (await started.json()) as { id: string };
      const [row] = await database.sql<{ input: unknown }[]>`SELECT input FROM runs WHERE id = ${id}`;
      expect(row?.input).toEqual(input);

      const bom = await fetch(runs, { method: 'POST', headers: json, body: '\uFEFF{"input":{"a":1}}' });
      expect(bom.status).toBe(201);
      const malformed = await fetch(runs, { method: 'POST', headers: json, body: '{"input":' });
      expect(malformed.status).toBe(400);

      const notUtf8 = await fetch(runs, {
        method: 'POST',
        headers: json,
        body: Uint8Array.from([...Buffer.from('{"input":{"a":"'), 0xff, ...Buffer.from('"}}')]),
      });
      expect(notUtf8.status).toBe(400);
      expect(await notUtf8.json()).toMatchObject({
        error: { message: 'body is not valid UTF-8 (at byte 15); send the body as UTF-8' },
      });

      const tooBig = JSON.stringify({ input: { text: 'x'.repeat(300 * 1024) } });
      const sized = await fetch(runs, { method: 'POST', headers: json, body: tooBig });
      expect(sized.status).toBe(413);
      expect(await sized.json()).toMatchObject({ error: { code: 'payload_too_large' } });
      const streamed = await fetch(runs, {
        method: 'POST',
        headers: json,
        body: new Blob([tooBig]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(await streamed.json()).toMatchObject({ error: { code: 'payload_too_large' } });

      // Concurrent requests over real connections: each its own run.
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fetch(runs, { method: 'POST', headers: json, body: JSON.stringify({ input: { i } }) }).then(
            async (res) => ({ status: res.status, id: ((await res.json()) as { id: string }).id }),
          ),
        ),
      );
      expect(answers.every((a) => a.status === 201)).toBe(true);
      const inputs = await database.sql<{ i: number }[]>`
        SELECT (input->>'i')::int AS i FROM runs WHERE id = ANY(${answers.map((a) => a.id)}::text[]) ORDER BY 1`;
      expect(inputs.map((r) => r.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await service.stop();
    }
  });

  it('answers 408 and closes a connection that trickles its headers or its body', async () => {
    const config = loadConfig({
      DATABASE_URL: database.url,
      RELAY_PREFIX: prefix,
      PORT: '0',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    const service = await startIngest(config, {
      logger: createLogger({ service: 'ingest', level: 'silent' }),
      httpTimeouts: { headersMs: 400, requestMs: 1200, checkEveryMs: 50 },
    });
    /** Writes `head`, then one byte of `drip` every 100 ms; resolves with what came back and when the socket closed. */
    const slowClient = (head: string, drip: string) =>
      new Promise<{ answer: string; afterMs: number }>((resolve, reject) => {
        const startedAt = Date.now();
        const socket = connect(service.port, '127.0.0.1', () => socket.write(head));
        let answer = '';
        let i = 0;
        const timer = setInterval(() => {
          if (i < drip.length && !socket.destroyed) socket.write(drip[i++] as string);
        }, 100);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          answer += chunk;
        });
        socket.on('error', reject);
        socket.on('close', () => {
          clearInterval(timer);
          resolve({ answer, afterMs: Date.now() - startedAt });
        });
      });
    try {
      const headers = await slowClient('GET /healthz HTTP/1.1\r\n', 'Host: x\r\nX-Slow: '.padEnd(200, 'y'));
      expect(headers.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(headers.afterMs).toBeLessThan(3000);
      const body = await slowClient(
        'POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n',
        '{"type":"slow",'.padEnd(200, ' '),
      );
      expect(body.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(body.afterMs).toBeLessThan(4000);
      // A client at normal speed is not affected.
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });

  it('keeps an idle keep-alive connection open for RELAY_KEEPALIVE_TIMEOUT_MS, then closes it', async () => {
    expect(loadConfig({}).keepAliveTimeoutMs).toBe(65_000);
    const service = await startOnAnyPort({ RELAY_KEEPALIVE_TIMEOUT_MS: '1500' });
    try {
      const socket = connect(service.port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        answer += chunk;
      });
      const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
      socket.write(request);
      await waitFor(() => answer.includes('"ok"'), { timeoutMs: 5000 });
      // After 800 ms idle the same connection serves the next request, then closes 1.5 s after it
      // (Node's default would hold it 5 s).
      await new Promise((resolve) => setTimeout(resolve, 800));
      const idleFrom = Date.now();
      socket.write(request);
      await waitFor(() => (answer.match(/HTTP\/1\.1 200 /g) ?? []).length === 2, { timeoutMs: 5000 });
      const idleMs = (await closedAt) - idleFrom;
      expect(idleMs).toBeGreaterThanOrEqual(1400);
      expect(idleMs).toBeLessThan(5000);
    } finally {
      await service.stop();
    }
  });

  it('main.ts logs its address, serves, and exits 0 on SIGTERM', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=relay-source', main],
      {
        env: {
          ...process.env,
          PORT: '0',
          DATABASE_URL: database.url,
          REDIS_URL: 'redis://127.0.0.1:6379',
          RELAY_PREFIX: prefix,
          RELAY_API_TOKEN: 'tok',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await waitFor(
        () => {
          const line = output.split('\n').find((l) => l.includes('"ingest listening"'));
          return line ? (JSON.parse(line) as { url: string }).url : undefined;
        },
        { timeoutMs: 20_000, message: 'ingest did not log its address' },
      );
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/workflows`)).status).toBe(401);
      const listed = await fetch(`${url}/workflows`, { headers: { authorization: 'Bearer tok' } });
      expect(listed.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a taken port is refused naming PORT', async () => {
    const first = await startOnAnyPort();
    try {
      await expect(startOnAnyPort({ PORT: String(first.port) })).rejects.toThrow(
        new RegExp(`^PORT: port ${first.port} is already in use .*; set PORT to another port$`),
      );
    } finally {
      await first.stop();
    }
  });

  it('warns once at start that the API is open when RELAY_API_TOKEN is unset, and not when it is set', async () => {
    for (const [env, warnings] of [
      [{}, [OPEN_API_WARNING]],
      [{ RELAY_API_TOKEN: '' }, [OPEN_API_WARNING]],
      [{ RELAY_API_TOKEN: 'tok' }, []],
    ] as const) {
      const { logger, lines } = recordingLogger();
      const service = await startOnAnyPort(env, logger);
      await service.stop();
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(warnings);
    }
    expect(OPEN_API_WARNING).toMatch(
      /anyone who can reach its port.*shell commands on the workers.*set RELAY_API_TOKEN/,
    );
  });

  it('says at start, with nothing probing /readyz, that Postgres cannot be reached', async () => {
    const { logger, lines } = recordingLogger();
    // Nothing listens on port 1: the connection is refused at once.
    const service = await startOnAnyPort(
      { DATABASE_URL: 'postgres://relay:relay@127.0.0.1:1/relay' },
      logger,
    );
    try {
      await waitFor(() => lines.some((l) => l.msg === 'not ready'));
      const line = lines.find((l) => l.msg === 'not ready') as unknown as { failed: Record<string, string> };
      expect(Object.keys(line.failed)).toContain('postgres');
    } finally {
      await service.stop();
    }
  });

  it('a blank RELAY_API_TOKEN is refused rather than turning authentication off', () => {
    expect(() => loadConfig({ RELAY_API_TOKEN: '  ' })).toThrow(
      'RELAY_API_TOKEN: is blank; leave it unset (or empty) to turn authentication off',
    );
    expect(() => loadConfig({ RELAY_API_TOKEN: 'two words' })).toThrow(
      /^RELAY_API_TOKEN: expected a token without spaces/,
    );
    expect(loadConfig({ RELAY_API_TOKEN: '' }).apiToken).toBeUndefined();
    expect(loadConfig({ RELAY_API_TOKEN: 'tok' }).apiToken).toBe('tok');
  });

  it('exits with EX_CONFIG (78) and one line naming a bad variable', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=relay-source', main], {
      env: { ...process.env, PORT: '-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(78);
    expect(stderr).toContain('PORT');
  });
});
