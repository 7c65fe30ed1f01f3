import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  createTestRedis,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';

// `relay up` as a user runs it: migrate, five supervised processes, examples applied; then the
// CLI drives a run, a killed service comes back, and Ctrl-C stops everything.
const relay = fileURLToPath(new URL('../../libs/cli/bin/relay.js', import.meta.url));
const run = promisify(execFile);

let db: TestDatabase;
let prefix: string;
let port: number;
let up: ChildProcess;
let output = '';
const redis = createTestRedis();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: db.url,
    RELAY_PREFIX: prefix,
    RELAY_URL: `http://127.0.0.1:${port}`,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = uniquePrefix('cli');
  port = await freePort();
  up = spawn(process.execPath, [relay, 'up', '--port', String(port)], { env: env(), stdio: 'pipe' });
  up.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  up.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(() => output.includes('the fleet is up'), {
    timeoutMs: 60_000,
    message: 'relay up did not come up',
  });
}, 90_000);

afterAll(async () => {
  if (up && up.exitCode === null) up.kill('SIGKILL');
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
  await db?.drop();
});

it('comes up with the examples applied and runs one through the CLI', async () => {
  expect(output).toMatch(/created workflow hello/);
  const { stdout } = await run(
    process.execPath,
    [relay, 'run', 'hello', '--input', '{"name":"Ada"}', '--wait'],
    {
      env: env(),
    },
  );
  expect(stdout).toMatch(/run \S+ SUCCESS/);
  const runId = /run (\S+) started/.exec(stdout)?.[1];
  const status = await run(process.execPath, [relay, 'status', runId!], { env: env() });
  expect(status.stdout).toMatch(/greet\s+SUCCESS\s+1\s+"hello, Ada"/);
});

it('lists the workflows, and exports one as YAML that apply takes back unchanged', async () => {
  const listed = await run(process.execPath, [relay, 'workflows'], { env: env() });
  expect(listed.stdout).toMatch(/^flaky-retry\s+Flaky upstream, retried\s+\d{4}-/m);
  const exported = await run(process.execPath, [relay, 'export', 'flaky-retry'], { env: env() });
  expect(exported.stdout).toMatch(/^id: flaky-retry\n/);
  expect(exported.stdout).toContain('initial: 500ms');
  const file = join(tmpdir(), `relay-export-${process.pid}.yaml`);
  await writeFile(file, exported.stdout);
  try {
    const applied = await run(process.execPath, [relay, 'apply', file], { env: env() });
    expect(applied.stdout).toMatch(/unchanged workflow flaky-retry/);
  } finally {
    await rm(file, { force: true });
  }
});

it('restarts a service that dies', async () => {
  const { stdout } = await run('pgrep', ['-f', '-P', String(up.pid), 'scheduler/dist/main.js']);
  const pid = Number(stdout.trim().split('\n')[0]);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => /scheduler\s+\| exited \(SIGKILL\); restarting/.test(output), {
    timeoutMs: 10_000,
    message: 'relay up did not report the exit',
  });
  await waitFor(
    async () => {
      const again = await run('pgrep', ['-f', '-P', String(up.pid), 'scheduler/dist/main.js']).catch(() => ({
        stdout: '',
      }));
      const next = Number(again.stdout.trim().split('\n')[0]);
      return next > 0 && next !== pid;
    },
    { timeoutMs: 15_000, message: 'the scheduler was not restarted' },
  );
  const again = await run(process.execPath, [relay, 'run', 'flaky-retry', '--wait'], { env: env() });
  expect(again.stdout).toMatch(/SUCCESS/);
});

it('stops every process on SIGINT', async () => {
  const children = (await run('pgrep', ['-P', String(up.pid)])).stdout.trim().split('\n').map(Number);
  expect(children.length).toBe(5);
  up.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => up.once('exit', resolve));
  expect(code).toBe(0);
  expect(output).toContain('relay: stopped');
  for (const pid of children) expect(() => process.kill(pid, 0)).toThrow();
});

it('stops at once, naming the variable, when the services have a bad configuration', async () => {
  const badPort = await freePort();
  const child = spawn(process.execPath, [relay, 'up', '--port', String(badPort), '--no-examples'], {
    env: { ...env(), RELAY_HEARTBEAT_INTERVAL_MS: '-1' },
    stdio: 'pipe',
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(1);
  expect(text).toMatch(/RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "-1"/);
  expect(text).toMatch(/stopped on bad configuration \(exit 78\); not restarting/);
  expect(text).toMatch(/up: \S+ stopped on bad configuration/);
  expect(text).not.toMatch(/restarting in/);
}, 60_000);
