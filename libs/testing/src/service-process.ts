import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { createInterface } from 'node:readline';
import { ServiceSpawnError } from './errors.js';

/** How many output lines a {@link ServiceProcess} keeps. */
export const LOG_BUFFER_LINES = 500;

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** Label used in log lines and error messages (e.g. `worker-2`). */
  name: string;
  /** Absolute path of the .js file to run with this Node binary (a built `dist/main.js`). */
  entry: string;
  /** Merged over `process.env`. */
  env: Record<string, string>;
}

/** A service running as a child process of the test. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** True until the process has exited (`exited` may resolve a little later, once its output is read). */
  isRunning(): boolean;
  /** Sends a signal (default SIGTERM); a no-op once the process has exited. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL when still running after `timeoutMs` (default 5000); resolves on exit. */
  stop(timeoutMs?: number): Promise<ProcessExit>;
  /** The last {@link LOG_BUFFER_LINES} lines of stdout and stderr, interleaved in arrival order. */
  logs(): string[];
}

const STREAM_DRAIN_MS = 2000;
const running = new Set<ServiceProcess>();
let exitHookInstalled = false;

/**
 * Starts `node entry` as a child (not detached, so it belongs to the test's process group) with
 * `env` over the test's environment, capturing its output lines for failure messages. Throws
 * {@link ServiceSpawnError} when `entry` is not an absolute path of an existing file.
 */
export function spawnService(opts: SpawnServiceOptions): ServiceProcess {
  if (!isAbsolute(opts.entry)) {
    throw new ServiceSpawnError(
      opts.name,
      opts.entry,
      `service ${opts.name}: entry must be an absolute path, got ${opts.entry}`,
    );
  }
  if (!existsSync(opts.entry)) {
    throw new ServiceSpawnError(
      opts.name,
      opts.entry,
      `service ${opts.name}: entry ${opts.entry} does not exist (build the package first: npm run build)`,
    );
  }
  installExitHook();
  const child = spawn(process.execPath, [opts.entry], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > LOG_BUFFER_LINES) lines.shift();
  };
  if (child.stdout)
    createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', keep);
  if (child.stderr)
    createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', keep);

  // 'exit' can come before the last piped output is read: wait (briefly: a grandchild may hold the
  // pipes open) for both streams to close, so that logs() is complete once `exited` resolves.
  const streamsClosed = Promise.all(
    [child.stdout, child.stderr].map((stream) => new Promise((resolve) => stream?.once('close', resolve))),
  );
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  let spawnFailed = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      void Promise.race([streamsClosed, delay(STREAM_DRAIN_MS)]).then(() => resolve({ code, signal }));
    });
    // Spawning process.execPath only fails when the system is out of resources; report it as an exit.
    child.once('error', (err) => {
      keep(`[spawn error] ${err.message}`);
      if (child.pid === undefined) {
        spawnFailed = true;
        resolve({ code: null, signal: null });
      }
    });
  });

  const service: ServiceProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    exited,
    isRunning: () => !spawnFailed && !hasExited(),
    kill(signal = 'SIGTERM') {
      if (!spawnFailed && !hasExited()) child.kill(signal);
    },
    stop: (timeoutMs = 5000) => stopChild(child, service, timeoutMs),
    logs: () => [...lines],
  };
  running.add(service);
  void exited.then(() => running.delete(service));
  return service;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function stopChild(
  child: ChildProcess,
  service: ServiceProcess,
  timeoutMs: number,
): Promise<ProcessExit> {
  if (!service.isRunning()) return service.exited;
  service.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([service.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') child.kill('SIGKILL');
  return service.exited;
}

/** Stops every service process this test process started and that still runs (for afterAll). */
export async function stopAll(timeoutMs = 5000): Promise<void> {
  await Promise.all([...running].map((service) => service.stop(timeoutMs)));
}

/** A test process that dies without afterAll must not leave services running behind it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const service of running) service.kill('SIGKILL');
  });
}
