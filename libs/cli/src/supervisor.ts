import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { serviceNodeOptions } from '@relay/runtime';
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

/**
 * Runs each service as its own process, prefixes its log lines with its label, and restarts a
 * process that exits while the supervisor is running (1 s, doubling to 30 s; the delay resets
 * once a process has stayed up for a minute), as docker-compose's `restart: unless-stopped` would.
 */
export function createSupervisor(opts: { write: (line: string) => void; color: boolean }) {
  const running: Running[] = [];
  let stopping = false;
  const width = () => Math.max(...running.map((r) => r.spec.label.length));

  function prefix(r: Running, index: number): string {
    const label = r.spec.label.padEnd(width());
    return opts.color ? `\x1b[${COLORS[index % COLORS.length]}m${label} |\x1b[0m ` : `${label} | `;
  }

  function launch(r: Running, index: number) {
    r.startedAt = Date.now();
    const child = spawn(process.execPath, [r.spec.entry], {
      env: {
        ...process.env,
        ...r.spec.env,
        NODE_OPTIONS: serviceNodeOptions(r.spec.env.NODE_OPTIONS ?? process.env.NODE_OPTIONS, r.spec.service),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    r.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) =>
        opts.write(prefix(r, index) + formatLogLine(line)),
      );
    }
    child.on('error', (err) => opts.write(`${prefix(r, index)}could not start: ${err.message}`));
    child.on('exit', (code, signal) => {
      r.child = null;
      if (stopping) return;
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

  return {
    start(specs: ServiceSpec[]) {
      for (const spec of specs) {
        const r: Running = { spec, child: null, restarts: 0, startedAt: 0, timer: null };
        running.push(r);
        launch(r, running.length - 1);
      }
    },
    /** SIGTERM to every process; SIGKILL to those still alive after graceMs. */
    async stop(graceMs = 15_000): Promise<void> {
      stopping = true;
      const exits = running.map((r) => {
        if (r.timer) clearTimeout(r.timer);
        const child = r.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        });
      });
      await Promise.all(exits);
    },
    pids(): Record<string, number | undefined> {
      return Object.fromEntries(running.map((r) => [r.spec.label, r.child?.pid]));
    },
  };
}
