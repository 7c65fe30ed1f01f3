import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The `relay` command as a user runs it (from source): what it prints and its exit code.
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function relay(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=relay-source', MAIN, ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let taken: Server;
let takenPort: number;
let notRelay: ReturnType<typeof createHttpServer>;
let notRelayUrl: string;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, resolve));
  takenPort = (taken.address() as { port: number }).port;
  notRelay = createHttpServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
  );
  await new Promise<void>((resolve) => notRelay.listen(0, '127.0.0.1', resolve));
  notRelayUrl = `http://127.0.0.1:${(notRelay.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await new Promise((resolve) => notRelay.close(resolve));
});

describe('relay up', () => {
  it.each([
    [['--workers', '0'], {}, 'relay: --workers: expected an integer >= 1, got "0"'],
    [['--workers', '1.5'], {}, 'relay: --workers: expected an integer >= 1, got "1.5"'],
    [['--port', '0'], {}, 'relay: --port: expected a port number from 1 to 65535, got "0"'],
    [['--port', '65536'], {}, 'relay: --port: expected a port number from 1 to 65535, got "65536"'],
    [[], { PORT: '0' }, 'relay: PORT: expected a port number from 1 to 65535, got "0"'],
  ])('rejects %j %j with one line, exit 1', async (args, env, message) => {
    const { code, stderr } = await relay(['up', ...args], env);
    expect(code).toBe(1);
    expect(stderr).toBe(`${message}\n`);
  });

  it('fails at once, naming PORT, when something already listens there', async () => {
    const startedAt = Date.now();
    const { code, stdout, stderr } = await relay(['up', '--port', String(takenPort)], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^relay: up: PORT ${takenPort} is already in use .*--port N or PORT=N\\n$`),
    );
    expect(stdout).not.toContain('the fleet is up');
    expect(Date.now() - startedAt).toBeLessThan(15_000);
  });
});

describe('commands against a RELAY_URL that is not Relay', () => {
  it.each([
    [['runs'], 'GET /runs: runs: expected an array, got undefined'],
    [['status', 'abc'], 'GET /runs/abc: id: expected a string, got undefined'],
  ])('%j prints one line and exits 1', async (args, problem) => {
    const { code, stdout, stderr } = await relay(args, { RELAY_URL: notRelayUrl });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`relay: unexpected answer from ${notRelayUrl} to ${problem}\n`);
  });
});

describe('arguments and environment', () => {
  it.each([
    [['run', 'hello', 'extra'], 'run: unexpected argument "extra"'],
    [['status', 'r1', 'r2'], 'status: unexpected argument "r2"'],
    [['approve', 'r1', 't1', 't2'], 'approve: unexpected argument "t2"'],
    [['migrate', 'now'], 'migrate: unexpected argument "now"'],
  ])('%j fails, naming the extra argument, before doing anything', async (args, message) => {
    const { code, stdout, stderr } = await relay(args, { RELAY_URL: notRelayUrl });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe(`relay: ${message}`);
  });

  it.each([
    ['http://ana:s3cret@127.0.0.1:1', 'RELAY_URL: must not hold credentials ("http://***@127.0.0.1:1")'],
    ['http://:s3cret@127.0.0.1:1', 'RELAY_URL: must not hold credentials ("http://***@127.0.0.1:1")'],
    ['http://ana:s3cret@bad host', 'RELAY_URL: not a URL: "http://***@bad host"'],
    ['ftp://127.0.0.1:1', 'RELAY_URL: expected an http:// or https:// URL, got "ftp://127.0.0.1:1"'],
  ])('refuses RELAY_URL %j before any request, never printing a password', async (url, message) => {
    const { code, stdout, stderr } = await relay(['runs'], { RELAY_URL: url });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(`relay: ${message}`);
    expect(stderr).not.toContain('s3cret');
  });

  it('takes a blank RELAY_URL as unset (the default address), as the services take blank variables', async () => {
    const { code, stderr } = await relay(['runs'], { RELAY_URL: ' ' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/localhost:8080/);
    expect(stderr).not.toMatch(/RELAY_URL/);
  });
});
