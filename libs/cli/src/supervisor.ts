import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { CONFIG_EXIT_CODE, serviceNodeOptions } from '@relay/runtime';
import { formatLogLine } from './log-format.js';

/** One process the supervisor keeps running. */
export interface ServiceSpec {
  /** Label shown before every log line, e.g. `worker-1`. */
  label: string;
  /** The service it runs (`worker`, ...): picks its heap flags (see serviceNodeOptions). */
  service?: string;
  entry: string;
  env: Record<string, string>;
}

/** Options of createSupervisor. */
export interface SupervisorOptions {
  write: (line: string) => void;
  color: boolean;
  /** Sees every output line of every process as written (before formatting), with the writer's pid. */
  onLine?: (label: string, line: string, pid: number | undefined) => void;
  /** A process exited on bad configuration (CONFIG_EXIT_CODE): it is not restarted. */
  onConfigError?: (label: string) => void;
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess | null;
  restarts: number;
  startedAt: number;
  timer: NodeJS.Timeout | null;
}

const COLORS = [36, 35, 33, 32, 34, 91, 92, 93, 94, 95];
const MAX_BACKOFF_MS = 30_000;
const STABLE_AFTER_MS = 60_000;
/** After a forced stop's second SIGTERM, SIGKILL what is still alive this much later. */
const FORCE_KILL_AFTER_MS = 2_000;

/**
 * Runs each service as its own process, prefixes its log lines with its label, and restarts a
 * process that exits while the supervisor is running (1 s, doubling to 30 s; the delay resets
 * once a process has stayed up for a minute), as docker-compose's `restart: unless-stopped` would;
 * except one that exits on bad configuration (CONFIG_EXIT_CODE), which would only fail again.
 */
export function createSupervisor(opts: SupervisorOptions) {
  const running: Running[] = [];
  let stopping: Promise<void> | null = null;
  const width = () => Math.max(...running.map((r) => r.spec.label.length));
  const alive = () =>
    running
      .map((r) => r.child)
      .filter((c): c is ChildProcess => c !== null && c.exitCode === null && c.signalCode === null);

  function prefix(r: Running, index: number): string {
    const label = r.spec.label.padEnd(width());
    return opts.color ? `\x1b[${COLORS[index % COLORS.length]}m${label} |\x1b[0m ` : `${label} | `;
  }

  function launch(r: Running, index: number) {
    r.startedAt = Date.now();
    // The supervisor is the only one that signals its services. Each runs in its own process group
    // (`detached`: setsid), so a terminal's Ctrl-C, which signals the whole foreground group, and a
    // `kill -- -PGID` reach the supervisor alone; stop() then sends each service one SIGTERM and it
    // drains. In the supervisor's group a service got the terminal's SIGINT and then stop()'s SIGTERM,
    // took the second for an impatient second Ctrl-C and exited without draining. (Having services
    // ignore a SIGTERM that follows a SIGINT would fix that one order of those two signals only, not
    // a group-wide SIGTERM followed by stop()'s.) A detached process outlives its parent, so each also
    // gets an IPC channel: it closes when the supervisor exits or is killed, and onShutdown
    // (@relay/runtime) then stops the service.
    const child = spawn(process.execPath, [r.spec.entry], {
      env: {
        ...process.env,
        ...r.spec.env,
        NODE_OPTIONS: serviceNodeOptions(r.spec.env.NODE_OPTIONS ?? process.env.NODE_OPTIONS, r.spec.service),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    r.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        opts.onLine?.(r.spec.label, line, child.pid);
        opts.write(prefix(r, index) + formatLogLine(line));
      });
    }
    child.on('error', (err) => opts.write(`${prefix(r, index)}could not start: ${err.message}`));
    child.on('exit', (code, signal) => {
      r.child = null;
      if (stopping) return;
      if (code === CONFIG_EXIT_CODE) {
        // Its own line above names the variable; the same environment would fail the same way.
        opts.write(`${prefix(r, index)}stopped on bad configuration (exit ${code}); not restarting`);
        opts.onConfigError?.(r.spec.label);
        return;
      }
      if (Date.now() - r.startedAt > STABLE_AFTER_MS) r.restarts = 0;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** r.restarts);
      r.restarts += 1;
      opts.write(
        `${prefix(r, index)}exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(0)}s`,
      );
      r.timer = setTimeout(() => {
        r.timer = null;
        if (!stopping) launch(r, index);
      }, delay);
    });
  }

  /**
   * One SIGTERM to every process, SIGKILL to those still alive after graceMs (a backstop: each
   * service bounds its own drain). Resolves once all have exited; a second call returns the same.
   */
  function stop(graceMs = 15_000): Promise<void> {
    stopping ??= (async () => {
      for (const r of running) if (r.timer) clearTimeout(r.timer);
      const exits = alive().map(
        (child) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      );
      await Promise.all(exits);
    })();
    return stopping;
  }

  /**
   * After stop(): a second SIGTERM to every process still alive (a service's onShutdown takes it as
   * "exit now"), SIGKILL 2 s later to any that is not gone. Resolves with stop()'s promise.
   */
  function forceStop(): Promise<void> {
    const stopped = stop();
    for (const child of alive()) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), FORCE_KILL_AFTER_MS);
      child.once('exit', () => clearTimeout(kill));
    }
    return stopped;
  }

  return {
    start(specs: ServiceSpec[]) {
      for (const spec of specs) {
        const r: Running = { spec, child: null, restarts: 0, startedAt: 0, timer: null };
        running.push(r);
        launch(r, running.length - 1);
      }
    },
    stop,
    forceStop,
    /** The pid of each process now running, by label (undefined while one is down). */
    pids(): Record<string, number | undefined> {
      return Object.fromEntries(running.map((r) => [r.spec.label, r.child?.pid]));
    },
  };
}

export type Supervisor = ReturnType<typeof createSupervisor>;

/**
 * A second stop signal this soon after the first is a copy of it, not a second Ctrl-C: the terminal
 * signals the foreground process group and npm / npx forward the SIGINT they got to their child,
 * which is the supervisor when the script shell execs it (bash does; the copies arrive ms apart).
 * The same rule as onShutdown's in @relay/runtime.
 */
const SIGNAL_COPY_WINDOW_MS = 500;

/**
 * Stops the supervisor's processes on SIGINT or SIGTERM: the first signal asks each to stop
 * gracefully (stop), a second one (not a copy of the first) forces them (forceStop). `stopped`
 * resolves once every process has exited, with the exit code for the command: 0 after a graceful
 * stop, 128 + the second signal's number after a forced one.
 */
export function stopOnSignals(
  supervisor: Supervisor,
  opts: { print: (line: string) => void; graceMs: number },
) {
  let firstAt: number | undefined;
  let forcedBy: NodeJS.Signals | undefined;
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstAt === undefined) {
      firstAt = Date.now();
      opts.print(`relay: ${signal}, stopping the fleet (again to force)...`);
      void supervisor.stop(opts.graceMs).then(() => {
        opts.print('relay: stopped');
        resolveStopped(forcedBy ? 128 + constants.signals[forcedBy] : 0);
      });
      return;
    }
    if (forcedBy || Date.now() - firstAt < SIGNAL_COPY_WINDOW_MS) return;
    forcedBy = signal;
    opts.print(`relay: ${signal} again, stopping every service now`);
    void supervisor.forceStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped,
    isStopping: () => firstAt !== undefined,
    /** Removes the signal listeners. */
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
