import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// A real supervisor process (test/fixtures/supervise.ts) running two real services that drain
// through onShutdown, signalled the way a terminal does: Ctrl-C sends SIGINT to the whole
// foreground process group, so the harness runs in its own group and the test signals that group.
const HARNESS = fileURLToPath(new URL('../test/fixtures/supervise.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Harness {
  child: ChildProcess;
  output: () => string;
  /** The two services' pids, once both have logged `started`. */
  started: Promise<number[]>;
  exited: Promise<number | null>;
}

const harnesses: Harness[] = [];

/** Whether pid runs (a zombie, exited and waiting for a reaper that may be slow, does not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true; // no /proc: kill(pid, 0) is all there is
  }
}

async function until(condition: () => boolean, message: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const count = (text: string, what: string) => text.split(what).length - 1;

function startHarness(drainMs: number): Harness {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=relay-source', HARNESS], {
    cwd: REPO_ROOT,
    env: { ...process.env, FIXTURE_DRAIN_MS: String(drainMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = until(() => count(text, 'INFO  started') === 2, 'both services started').then(() => {
    const pids = /pids (\{.*\})/.exec(text)?.[1];
    return Object.values(JSON.parse(pids ?? '{}') as Record<string, number>);
  });
  const harness = { child, output: () => text, started, exited };
  harnesses.push(harness);
  return harness;
}

afterEach(async () => {
  // Only what these tests started: each harness's process group, then its services by pid.
  for (const { child, started } of harnesses.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    const pids = await Promise.race([started, Promise.resolve([] as number[])]);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

describe('relay up supervision', () => {
  it('on Ctrl-C (SIGINT to the process group) stops every service once, letting each drain', async () => {
    const harness = startHarness(300);
    await harness.started;
    process.kill(-harness.child.pid!, 'SIGINT');
    expect(await harness.exited).toBe(0);
    const output = harness.output();
    expect(count(output, 'shutdown complete')).toBe(2);
    expect(output).not.toContain('second signal');
    expect(output).toContain('relay: stopped');
  });

  it('takes a copy of the Ctrl-C arriving at once (npm forwarding it) as the same one', async () => {
    const harness = startHarness(300);
    await harness.started;
    process.kill(-harness.child.pid!, 'SIGINT');
    await until(() => harness.output().includes('stopping the fleet'), 'the supervisor saw the SIGINT');
    process.kill(harness.child.pid!, 'SIGINT');
    expect(await harness.exited).toBe(0);
    expect(count(harness.output(), 'shutdown complete')).toBe(2);
    expect(harness.output()).not.toContain('second signal');
  });

  it('on a second Ctrl-C stops every service at once and exits 130', async () => {
    const harness = startHarness(60_000);
    await harness.started;
    process.kill(-harness.child.pid!, 'SIGINT');
    await until(() => count(harness.output(), 'INFO  draining') === 2, 'both services draining');
    // A person's second Ctrl-C, past the window in which a repeat counts as a copy of the first.
    await new Promise((resolve) => setTimeout(resolve, 600));
    process.kill(-harness.child.pid!, 'SIGINT');
    expect(await harness.exited).toBe(130);
    expect(count(harness.output(), 'second signal, exiting now')).toBe(2);
    expect(harness.output()).not.toContain('shutdown complete');
  });

  it('leaves no service running when the supervisor itself is killed', async () => {
    const harness = startHarness(300);
    const pids = await harness.started;
    expect(pids.every(isAlive)).toBe(true);
    harness.child.kill('SIGKILL');
    await harness.exited;
    await until(() => !pids.some(isAlive), 'the services exited after their supervisor died');
  });
});
