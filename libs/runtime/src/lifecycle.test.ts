import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isConnectionLoss } from './lifecycle.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/process-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];

interface Finished {
  code: number | null;
  records: Record<string, unknown>[];
  stderr: string;
}

interface Child {
  child: ChildProcess;
  /** Resolves once a log line with this message has been written. */
  logged(msg: string): Promise<void>;
  finished: Promise<Finished>;
}

function startChild(scenario: string, env: Record<string, string> = {}, ipc = false): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, scenario], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const records: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: () => void }[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const lines = stdout.split('\n');
    stdout = lines.pop() ?? '';
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      records.push(record);
      for (const waiter of waiters) if (waiter.msg === record.msg) waiter.resolve();
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // Not 'close': with an IPC channel the parent has disconnected, it never fires.
  const finished = Promise.all([
    new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
    new Promise((resolve) => child.stdout?.on('close', resolve)),
    new Promise((resolve) => child.stderr?.on('close', resolve)),
  ]).then(([code]) => ({ code, records, stderr }));
  const logged = (msg: string) =>
    records.some((r) => r.msg === msg)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ msg, resolve }));
  return { child, logged, finished };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('onShutdown', () => {
  it('runs the handler on SIGTERM and exits 0 after a clean drain', async () => {
    const { child, logged, finished } = startChild('drain');
    await logged('started');
    child.kill('SIGTERM');
    const { code, records } = await finished;
    expect(code).toBe(0);
    expect(records.map((r) => r.msg)).toEqual(['started', 'shutting down', 'draining', 'shutdown complete']);
    expect(records.find((r) => r.msg === 'draining')?.signal).toBe('SIGTERM');
  });

  it('handles SIGINT the same way', async () => {
    const { child, logged, finished } = startChild('drain');
    await logged('started');
    child.kill('SIGINT');
    const { code, records } = await finished;
    expect(code).toBe(0);
    expect(records.find((r) => r.msg === 'draining')?.signal).toBe('SIGINT');
  });

  it('forces exit 1 when the handler outlasts the grace period', async () => {
    const { child, logged, finished } = startChild('hang');
    await logged('started');
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const { code, records } = await finished;
    expect(code).toBe(1);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(190);
    expect(records.at(-1)).toMatchObject({ level: 'error', msg: 'shutdown timed out, forcing exit' });
  });

  it('exits at once on a second signal, with 128 + the signal number', async () => {
    const { child, logged, finished } = startChild('hang-long');
    await logged('started');
    child.kill('SIGINT');
    await logged('shutting down');
    // Past the fixture's 50 ms copy window: a deliberate second Ctrl-C, or an orchestrator escalating.
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGTERM');
    const { code, records } = await finished;
    expect(code).toBe(143);
    expect(records.at(-1)).toMatchObject({ msg: 'second signal, exiting now', signal: 'SIGTERM' });
  });

  it('takes a signal repeated at once (terminal and npm both sending Ctrl-C) as one, and drains', async () => {
    const { child, logged, finished } = startChild('drain');
    await logged('started');
    child.kill('SIGINT');
    await logged('shutting down');
    child.kill('SIGINT');
    const { code, records } = await finished;
    expect(code).toBe(0);
    expect(records.map((r) => r.msg)).toEqual([
      'started',
      'shutting down',
      'draining',
      'signal repeated at once, taken as the same request',
      'shutdown complete',
    ]);
  });

  it('drains and exits 0 when the IPC channel to its supervisor closes', async () => {
    const { child, logged, finished } = startChild('drain', {}, true);
    await logged('started');
    child.disconnect();
    const { code, records } = await finished;
    expect(code).toBe(0);
    expect(records.map((r) => r.msg)).toEqual([
      'started',
      'supervisor gone (IPC channel closed)',
      'shutting down',
      'draining',
      'shutdown complete',
    ]);
  });

  it('exits 1 and logs the error when the handler rejects', async () => {
    const { child, logged, finished } = startChild('fail');
    await logged('started');
    child.kill('SIGTERM');
    const { code, records } = await finished;
    expect(code).toBe(1);
    expect(records.at(-1)).toMatchObject({ msg: 'shutdown failed', err: { message: 'drain broke' } });
  });
});

describe('installProcessGuards', () => {
  it.each([
    ['rejection', 'unhandled rejection', 'nobody caught me'],
    ['exception', 'uncaught exception', 'thrown in a timer'],
  ])('logs an unhandled %s at fatal with the error and exits 1', async (scenario, msg, message) => {
    const { code, records } = await startChild(scenario).finished;
    expect(code).toBe(1);
    const fatal = records.find((r) => r.msg === msg);
    expect(fatal).toMatchObject({ level: 'fatal', service: 'fixture', err: { type: 'Error', message } });
    expect(String((fatal?.err as { stack?: string } | undefined)?.stack)).toContain('process-child.ts');
  });
});

describe('installProcessGuards and lost connections', () => {
  it('logs a rejection that only says a connection was lost, and runs on', async () => {
    const { code, records } = await startChild('connection-loss').finished;
    expect(code).toBe(0);
    expect(records.find((r) => r.level === 'warn')).toMatchObject({ err: { code: 'ECONNRESET' } });
    expect(records.at(-1)).toMatchObject({ msg: 'still running' });
  });

  it.each([
    [{ code: 'ECONNRESET' }, true],
    [{ code: 'CONNECTION_CLOSED' }, true],
    [{ code: '57P01' }, true],
    [{ code: '57P03' }, true],
    [{ code: '08006' }, true],
    [{ code: '57014' }, false],
    [{ code: '23505' }, false],
    [new Error('plain'), false],
    ['ECONNRESET', false],
    [null, false],
  ])('isConnectionLoss(%j) is %s', (reason, expected) => {
    expect(isConnectionLoss(reason)).toBe(expected);
  });
});

describe('exitOnConfigError', () => {
  it('prints the one-line message to stderr and exits with EX_CONFIG (78)', async () => {
    const { code, records, stderr } = await startChild('config', { RELAY_HEARTBEAT_INTERVAL_MS: '-5' })
      .finished;
    expect(code).toBe(78);
    expect(stderr).toBe('RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "-5"\n');
    expect(records).toEqual([]);
  });

  it('returns the config when it is valid', async () => {
    const { code, records, stderr } = await startChild('config', { RELAY_PREFIX: 'fixture-1' }).finished;
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(records[0]).toMatchObject({ msg: 'config loaded', prefix: 'fixture-1' });
  });
});
