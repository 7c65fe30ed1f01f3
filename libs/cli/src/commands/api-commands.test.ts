import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../answers.js';
import { type ApiClient, createApiClient } from '../api-client.js';
import { ApiError, UnreachableError } from '../errors.js';
import {
  applyWorkflows,
  exportWorkflow,
  listRuns,
  listWorkflows,
  nextPollDelay,
  OUTAGE_POLL_MS,
  POLL_MAX_MS,
  POLL_MIN_MS,
  type PollClock,
  printable,
  showRun,
  startRun,
  table,
  WAIT_OUTAGE_MS,
} from './api-commands.js';

// The commands against a real HTTP server that answers what each test sets: Relay's error
// documents, and answers of something that is not Relay.
let server: Server;
let baseUrl: string;
let dir: string;
let answer: { status: number; body: string; contentType?: string } = { status: 200, body: '{}' };
/** The last request the server got. */
let received = { url: '', body: '', accept: '' };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received = { url: req.url ?? '', body, accept: req.headers.accept ?? '' };
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  dir = await mkdtemp(join(tmpdir(), 'relay-cli-apply-'));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const api = () => createApiClient({ baseUrl, timeoutMs: 5000 });

function printed(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => lines.push(line) };
}

describe('answers that are not what Relay answers', () => {
  it.each([
    [
      'runs, given {}',
      () => listRuns(api(), {}, () => {}),
      'GET /runs: runs: expected an array, got undefined',
    ],
    [
      'status, given {}',
      () => showRun(api(), 'abc', () => {}),
      'GET /runs/abc: id: expected a string, got undefined',
    ],
    [
      'status, given a task without a status',
      () => {
        answer.body = JSON.stringify({
          id: 'r',
          workflowId: 'w',
          status: 'RUNNING',
          startedAt: '2026-01-01T00:00:00Z',
          finishedAt: null,
          tasks: [{ taskId: 'a', attempt: 1, output: null, error: null }],
        });
        return showRun(api(), 'r', () => {});
      },
      'GET /runs/r: tasks[0].status: expected a string, got undefined',
    ],
    [
      'run, given an HTML page',
      () => {
        answer = { status: 200, body: '<html>hello</html>', contentType: 'text/html' };
        return startRun(api(), 'hello', { wait: false }, () => {});
      },
      'POST /workflows/hello/runs: expected a JSON object, got a string ("<html>hello</html>")',
    ],
  ])('%s: fails with one line naming RELAY_URL, the request and what is wrong', async (_, run, problem) => {
    answer = { status: 200, body: '{}' };
    await expect(run()).rejects.toThrow(`unexpected answer from ${baseUrl} to ${problem}`);
  });
});

describe('relay apply', () => {
  it('fails naming a directory that holds no workflow files', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'notes.txt'), 'not a workflow');
    await expect(applyWorkflows(api(), [empty], () => {})).rejects.toThrow(
      `apply: no *.yaml, *.yml or *.json files in ${empty}`,
    );
  });

  it('skips a subdirectory named like a workflow file, reports an unreadable one and applies the rest', async () => {
    const mixed = join(dir, 'mixed');
    await mkdir(join(mixed, 'nested.yaml'), { recursive: true });
    await writeFile(join(mixed, 'a.yaml'), 'id: a\ntasks: { t: {} }\n');
    await symlink(join(mixed, 'nowhere.yaml'), join(mixed, 'b.yml'));
    await writeFile(join(mixed, 'z.json'), '{"id": "z", "tasks": {"t": {}}}');
    answer = { status: 201, body: JSON.stringify({ id: 'w', name: 'w', tasks: [] }) };
    const { lines, print } = printed();
    await expect(applyWorkflows(api(), [mixed], print)).rejects.toThrow('apply: 1 of 3 file(s) rejected');
    expect(lines).toEqual([
      `${join(mixed, 'a.yaml')}: applied workflow w (0 tasks)`,
      expect.stringMatching(new RegExp(`^${join(mixed, 'b.yml')}: cannot read: ENOENT`)),
      `${join(mixed, 'z.json')}: applied workflow w (0 tasks)`,
    ]);
  });

  it('prints a whole-document error once, on the line naming the file', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'id: x\ntasks: [\n');
    const issue = { path: '', message: 'YAML syntax error: unexpected end', line: 3, column: 1 };
    answer = {
      status: 400,
      body: JSON.stringify({
        error: {
          code: 'invalid_workflow',
          message: `invalid workflow: (document): ${issue.message} (line 3, column 1)`,
          details: [issue],
        },
      }),
    };
    const { lines, print } = printed();
    await expect(applyWorkflows(api(), [file], print)).rejects.toThrow('apply: 1 of 1 file(s) rejected');
    expect(lines).toEqual([
      `${file}: 400 invalid_workflow: invalid workflow: (document): ${issue.message} (line 3, column 1)`,
    ]);
  });

  it('lists several issues once each, under a count', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{}');
    answer = {
      status: 400,
      body: JSON.stringify({
        error: {
          code: 'invalid_workflow',
          message: 'invalid workflow: id: is required (and 1 more, in details)',
          details: [
            { path: 'id', message: 'is required' },
            { path: 'tasks', message: 'is required', line: 1, column: 1 },
          ],
        },
      }),
    };
    const { lines, print } = printed();
    await expect(applyWorkflows(api(), [file], print)).rejects.toThrow('rejected');
    expect(lines).toEqual([
      `${file}: 400 invalid_workflow: 2 issues`,
      '  id: is required',
      '  tasks (line 1, column 1): is required',
    ]);
  });
});

describe('relay run --wait', () => {
  it.each([
    [0, POLL_MIN_MS],
    [5, POLL_MIN_MS],
    [25, POLL_MIN_MS],
    [40, 400],
    [300, 3000],
    [500, POLL_MAX_MS],
    [20_000, POLL_MAX_MS],
  ])('after a poll that took %d ms, waits %d ms', (took, delay) => {
    expect(nextPollDelay(took)).toBe(delay);
  });

  /**
   * A fake API and clock: each GET /runs/:id takes the next of `durations` (ms) on the clock and
   * answers the next of `statuses` (the run's, with one task in the same status).
   */
  function fakeRun(statuses: string[], durations: number[]) {
    let time = 0;
    let polls = 0;
    const sleeps: number[] = [];
    const clock: PollClock = {
      now: () => time,
      sleep: async (ms) => {
        sleeps.push(ms);
        time += ms;
      },
    };
    const client: ApiClient = {
      getText: async () => expect.unreachable('no text GET'),
      post: async <T>(_path: string, _body: unknown, check: Check<T>) => check({ id: 'r1' }, ''),
      get: async <T>(path: string, check: Check<T>) => {
        expect(path).toBe('/runs/r1');
        const status = statuses[Math.min(polls, statuses.length - 1)]!;
        time += durations[Math.min(polls, durations.length - 1)]!;
        polls += 1;
        const task = { taskId: 'a', status, attempt: 1, output: null, error: null };
        const finishedAt = status === 'SUCCESS' ? '2026-01-01T00:00:01Z' : null;
        return check(
          { id: 'r1', workflowId: 'w', status, startedAt: '2026-01-01T00:00:00Z', finishedAt, tasks: [task] },
          '',
        );
      },
    };
    return { client, clock, sleeps };
  }

  /** A client whose GET /runs/r1 fails with each of `failures` in turn, then answers SUCCESS. */
  function flakyRun(failures: Error[]) {
    const { client, clock, sleeps } = fakeRun(['SUCCESS'], [4]);
    const get = client.get;
    let calls = 0;
    client.get = async (path, check) => {
      const failure = failures[calls++];
      if (failure) throw failure;
      return get(path, check);
    };
    return { client, clock, sleeps };
  }

  it('keeps polling through an API that does not answer for a while (ingest restarting)', async () => {
    const down = new UnreachableError('cannot reach the Relay API at http://x: connect ECONNREFUSED');
    const proxy = new ApiError(503, 'unavailable', 'postgres unavailable');
    const { client, clock, sleeps } = flakyRun([down, proxy, down]);
    const { lines, print } = printed();
    await expect(startRun(client, 'w', { wait: true, clock }, print)).resolves.toBe(0);
    expect(sleeps).toEqual([OUTAGE_POLL_MS, OUTAGE_POLL_MS, OUTAGE_POLL_MS]);
    expect(lines).toEqual([
      'run r1 started (w)',
      '  (cannot reach the Relay API at http://x: connect ECONNREFUSED; retrying for up to 5 min)',
      '  (the API answers again)',
      '  a: SUCCESS',
      'run r1 SUCCESS',
    ]);
  });

  it('gives up after WAIT_OUTAGE_MS without an answer, saying the run may still be running', async () => {
    const down = new UnreachableError('cannot reach the Relay API at http://x: connect ECONNREFUSED');
    const { client, clock } = flakyRun(
      Array.from({ length: WAIT_OUTAGE_MS / OUTAGE_POLL_MS + 1 }, () => down),
    );
    await expect(startRun(client, 'w', { wait: true, clock }, () => {})).rejects.toThrow(
      'run r1: no answer about it for 5 min (cannot reach the Relay API at http://x: connect ECONNREFUSED); it may still be running: relay status r1',
    );
  });

  it('stops at once on an error that is an answer (404: the run is gone)', async () => {
    const { client, clock, sleeps } = flakyRun([new ApiError(404, 'not_found', 'run r1 not found')]);
    await expect(startRun(client, 'w', { wait: true, clock }, () => {})).rejects.toThrow('404 not_found');
    expect(sleeps).toEqual([]);
  });

  it('polls a quickly answered run every 250 ms and reports each change once', async () => {
    const { client, clock, sleeps } = fakeRun(['RUNNING', 'RUNNING', 'SUCCESS'], [4]);
    const { lines, print } = printed();
    await expect(startRun(client, 'w', { wait: true, clock }, print)).resolves.toBe(0);
    expect(sleeps).toEqual([250, 250]);
    expect(lines).toEqual(['run r1 started (w)', '  a: RUNNING', '  a: SUCCESS', 'run r1 SUCCESS']);
  });

  it('waits 10x as long as the last poll took, up to 5 s, as a big run answers slowly', async () => {
    const { client, clock, sleeps } = fakeRun(
      ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'FAILED'],
      [10, 120, 800, 60, 60],
    );
    await expect(startRun(client, 'w', { wait: true, clock }, () => {})).resolves.toBe(1);
    expect(sleeps).toEqual([250, 1200, 5000, 600]);
  });
});

describe('relay status table', () => {
  it('lays out 200,000 rows (a spread of them would overflow the call stack)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`t${i}`, 'QUEUED']);
    const lines = table(['TASK', 'STATUS'], rows);
    expect(lines).toHaveLength(200_001);
    expect(lines[0]).toBe('TASK     STATUS');
    expect(lines[200_000]).toBe('t199999  QUEUED');
  });
});

describe('relay output and options', () => {
  const RUN = {
    id: 'r',
    workflowId: 'w',
    status: 'FAILED',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    error: 'task a failed: \u001b[2Jboom',
    tasks: [{ taskId: 'a', status: 'FAILED', attempt: 1, output: null, error: 'boom \u001b[31mred\u0007' }],
  };

  it('shows control characters of a run or task error as escapes, never raw', async () => {
    answer = { status: 200, body: JSON.stringify(RUN) };
    const { lines, print } = printed();
    await showRun(api(), 'r', print);
    const controls = lines.flatMap((line) => [...line].filter((c) => c.charCodeAt(0) < 0x20));
    expect(controls).toEqual([]);
    expect(lines).toContain('error: task a failed: \\u001b[2Jboom');
    expect(lines.at(-1)).toBe('a     FAILED  1        boom \\u001b[31mred\\u0007');
    expect(printable('two\nlines\tand\u0000')).toBe('two\\nlines\\tand\\u0000');
  });

  it('shows who decided a gated task that has no output or error yet', async () => {
    const task = { status: 'READY', attempt: 0, output: null, error: null };
    answer = {
      status: 200,
      body: JSON.stringify({
        ...RUN,
        status: 'RUNNING',
        error: null,
        tasks: [
          { ...task, taskId: 'ship', decision: { decision: 'approved', by: 'ana', reason: null } },
          { ...task, taskId: 'gate', decision: { decision: 'approved', by: null, reason: null } },
          { ...task, taskId: 'next' },
        ],
      }),
    };
    const { lines, print } = printed();
    await showRun(api(), 'r', print);
    expect(lines.slice(-3)).toEqual([
      'ship  READY   0        approved by ana',
      'gate  READY   0        approved',
      'next  READY   0',
    ]);
  });

  it('says how to get the next page of runs on standard error, not in the table', async () => {
    answer = { status: 200, body: JSON.stringify({ runs: [], nextCursor: 'abc' }) };
    const { lines, print } = printed();
    const notes: string[] = [];
    await listRuns(api(), { limit: '1', cursor: 'xyz' }, print, (line) => notes.push(line));
    expect(received.url).toBe('/runs?limit=1&cursor=xyz');
    expect(lines).toEqual(['RUN  WORKFLOW  STATUS  STARTED  FINISHED']);
    expect(notes).toEqual(['more runs: add --cursor abc']);
  });

  it('reads --input @FILE, and names a file it cannot read', async () => {
    const file = join(dir, 'input.json');
    await writeFile(file, '{"order": {"id": 42}}');
    answer = { status: 201, body: JSON.stringify({ id: 'r1', workflowId: 'w', status: 'RUNNING' }) };
    await startRun(api(), 'w', { input: `@${file}`, wait: false }, () => {});
    expect(JSON.parse(received.body)).toEqual({ input: { order: { id: 42 } } });
    await expect(startRun(api(), 'w', { input: '@/nope/x.json', wait: false }, () => {})).rejects.toThrow(
      /^run: --input @\/nope\/x\.json: cannot read: ENOENT/,
    );
    await writeFile(file, '{"order":');
    await expect(startRun(api(), 'w', { input: `@${file}`, wait: false }, () => {})).rejects.toThrow(
      `run: --input (${file}) is not valid JSON`,
    );
  });

  it('stops apply at a 401, once, instead of reporting it for every file', async () => {
    const two = join(dir, 'two');
    await mkdir(two);
    await writeFile(join(two, 'a.yaml'), 'id: a\ntasks: { t: {} }\n');
    await writeFile(join(two, 'b.yaml'), 'id: b\ntasks: { t: {} }\n');
    answer = {
      status: 401,
      body: JSON.stringify({ error: { code: 'unauthorized', message: 'invalid bearer token' } }),
    };
    const { lines, print } = printed();
    await expect(applyWorkflows(api(), [two], print)).rejects.toThrow(
      '401 unauthorized: invalid bearer token',
    );
    expect(lines).toEqual([]);
  });
});

describe('relay export', () => {
  it('asks for YAML and writes the answer as it came', async () => {
    const yaml = 'id: w\ntasks:\n  a:\n    type: noop\n';
    answer = { status: 200, body: yaml, contentType: 'application/yaml; charset=utf-8' };
    let written = '';
    await exportWorkflow(api(), 'w 1', (text) => {
      written += text;
    });
    expect(written).toBe(yaml);
    expect(received).toMatchObject({ url: '/workflows/w%201', accept: 'application/yaml' });
  });

  it("fails with the API's error for an unknown workflow, and without an id", async () => {
    answer = {
      status: 404,
      body: JSON.stringify({
        error: { code: 'not_found', message: "workflow 'w' not found", details: null },
      }),
    };
    await expect(exportWorkflow(api(), 'w', () => undefined)).rejects.toThrow(/workflow 'w' not found/);
    await expect(exportWorkflow(api(), undefined, () => undefined)).rejects.toThrow(/give a WORKFLOW id/);
  });
});

describe('relay workflows', () => {
  it('lists each workflow on a line, a name with control characters escaped', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        workflows: [
          { id: 'hello', name: 'Hello', updatedAt: '2026-12-01T10:00:00.000Z' },
          { id: 'orders', name: 'Orders\u001b[2J', updatedAt: '2026-12-02T10:00:00.000Z' },
        ],
      }),
    };
    const { lines, print } = printed();
    await listWorkflows(api(), print);
    expect(received.url).toBe('/workflows');
    expect(lines).toEqual([
      'WORKFLOW  NAME             UPDATED',
      'hello     Hello            2026-12-01T10:00:00.000Z',
      'orders    Orders\\u001b[2J  2026-12-02T10:00:00.000Z',
    ]);
  });
});
