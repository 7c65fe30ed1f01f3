import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createApiClient, envValue } from '../api-client.js';
import { CliError } from '../errors.js';
import { EXAMPLES_DIR, type ServiceName, serviceEntry } from '../paths.js';
import { createSupervisor, type ServiceSpec, stopOnSignals } from '../supervisor.js';
import { applyWorkflows } from './api-commands.js';
import { runMigrations } from './migrate.js';

export interface UpOptions {
  port: number;
  workers: number;
  examples: boolean;
  env: NodeJS.ProcessEnv;
  print: (line: string) => void;
}

/**
 * `relay up`: checks PORT is free, migrates, starts the five services as separate supervised
 * processes, waits for its own ingest to serve the API, applies examples/, prints the API address,
 * and stops everything on Ctrl-C / SIGTERM (a second one forces). Resolves with the exit code once
 * the fleet has stopped.
 */
export async function up(opts: UpOptions): Promise<number> {
  await assertPortFree(opts.port);
  const databaseUrl = envValue(opts.env, 'DATABASE_URL') ?? 'postgres://relay:relay@localhost:5432/relay';
  await runMigrations(databaseUrl, opts.print);

  const specs = fleetSpecs(opts);

  // What our own ingest says: /readyz on PORT proves nothing until it has bound the port itself
  // (another program there answers too), and EADDRINUSE means it never will.
  const ingest = { listeningPid: undefined as number | undefined, portTaken: false };
  let badConfig: string | undefined;
  let configFailed: () => void = () => {};
  const failedLater = new Promise<void>((resolve) => {
    configFailed = resolve;
  });
  const supervisor = createSupervisor({
    write: opts.print,
    color: process.stdout.isTTY === true,
    onConfigError: (label) => {
      badConfig ??= label;
      configFailed();
    },
    onLine: (label, line, pid) => {
      if (label !== 'ingest') return;
      if (logMessage(line) === 'ingest listening') ingest.listeningPid = pid;
      else if (line.includes('EADDRINUSE') && line.includes(`:${opts.port}`)) ingest.portTaken = true;
    },
  });
  supervisor.start(specs);
  const graceMs = stopGraceMs(opts.env);
  const signals = stopOnSignals(supervisor, { print: opts.print, graceMs });

  const baseUrl = `http://localhost:${opts.port}`;
  const api = createApiClient({ baseUrl, token: opts.env.RELAY_API_TOKEN || undefined, timeoutMs: 5000 });
  const ready = await waitForReady(baseUrl, 60_000, {
    isStopping: signals.isStopping,
    isPortTaken: () => ingest.portTaken,
    badConfig: () => badConfig,
    isOwnIngestListening: () =>
      ingest.listeningPid !== undefined && supervisor.pids().ingest === ingest.listeningPid,
  });
  if (ready === 'port taken') {
    signals.dispose();
    await supervisor.stop(graceMs);
    throw new CliError(portInUse(opts.port));
  }
  if (ready === 'bad config') {
    signals.dispose();
    await supervisor.stop(graceMs);
    throw new CliError(
      `up: ${badConfig} stopped on bad configuration (its line above names the variable); fleet stopped`,
    );
  }
  if (ready === 'timeout') {
    opts.print(`relay: the API at ${baseUrl} is not ready after 60 s; see the logs above`);
  } else if (ready === 'ready') {
    if (opts.examples && existsSync(EXAMPLES_DIR)) {
      await applyWorkflows(api, [EXAMPLES_DIR], opts.print).catch((err: Error) =>
        opts.print(`relay: ${err.message}`),
      );
    }
    opts.print('');
    opts.print(`relay: the fleet is up. API: ${baseUrl}  (Ctrl-C stops everything)`);
    opts.print(
      `relay: try  curl -s -X POST ${baseUrl}/workflows/hello/runs -H 'content-type: application/json' -d '{"input":{"name":"Ada"}}'`,
    );
    opts.print('');
  }
  // A service restarted later may stop on its configuration too (PORT taken meanwhile): the fleet
  // stops rather than run on without it.
  return Promise.race([
    signals.stopped,
    failedLater.then(async () => {
      signals.dispose();
      await supervisor.stop(graceMs);
      opts.print(`relay: ${badConfig} stopped on bad configuration; fleet stopped`);
      return 1;
    }),
  ]);
}

/**
 * Variables only ingest may see. A shell task can read its worker's environment
 * (/proc/$PPID/environ), so the API token must not reach the worker or any other service.
 */
const INGEST_ONLY_ENV = ['RELAY_API_TOKEN'] as const;

/**
 * The processes `relay up` supervises, in start order: scheduler, dispatcher, reaper, the workers,
 * ingest on `opts.port`. Each inherits the supervisor's environment (createSupervisor), which cannot
 * drop a variable, so every service but ingest gets the ingest-only ones set empty: empty is unset
 * to every service (SPEC section 2). Ingest gets them from `opts.env`.
 * @throws CliError when a service's entry point is missing (not built).
 */
export function fleetSpecs(
  opts: Pick<UpOptions, 'port' | 'workers' | 'env'>,
  entryOf: (name: ServiceName) => string = serviceEntry,
): ServiceSpec[] {
  const withheld = Object.fromEntries(INGEST_ONLY_ENV.map((name) => [name, '']));
  const granted = Object.fromEntries(INGEST_ONLY_ENV.map((name) => [name, opts.env[name] ?? '']));
  const specs: ServiceSpec[] = [];
  const add = (name: ServiceName, label: string, env: Record<string, string> = withheld) => {
    const entry = entryOf(name);
    if (!existsSync(entry)) throw new CliError(`up: ${entry} is missing; run \`npm run build\` first`);
    specs.push({ label, service: name, entry, env: { HEALTH_PORT: '0', ...env } });
  };
  add('scheduler', 'scheduler');
  add('dispatcher', 'dispatcher');
  add('reaper', 'reaper');
  for (let i = 1; i <= opts.workers; i += 1) add('worker', opts.workers > 1 ? `worker-${i}` : 'worker');
  add('ingest', 'ingest', { ...granted, PORT: String(opts.port) });
  return specs;
}

function portInUse(port: number): string {
  return (
    `up: PORT ${port} is already in use (another \`relay up\` or another program listens there); ` +
    'stop it, or choose another port with --port N or PORT=N'
  );
}

/** Fails with a CliError naming PORT unless a server could listen on it (as the ingest will: all addresses). */
async function assertPortFree(port: number): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, resolve);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(portInUse(port));
    if (code === 'EACCES')
      throw new CliError(`up: PORT ${port}: permission denied (ports below 1024 need root)`);
    throw new CliError(`up: cannot listen on PORT ${port}: ${(err as Error).message}`);
  }
  await new Promise((resolve) => server.close(resolve));
}

/**
 * How long stop() waits before SIGKILL: a backstop only, as each service bounds its own drain with
 * onShutdown's graceMs, the longest being the worker's (RELAY_WORKER_GRACE_MS + 15 s); a little more.
 */
function stopGraceMs(env: NodeJS.ProcessEnv): number {
  const workerGrace = Number(env.RELAY_WORKER_GRACE_MS ?? 10_000);
  return (Number.isFinite(workerGrace) && workerGrace >= 0 ? workerGrace : 10_000) + 20_000;
}

/** The `msg` of a pino JSON line, if it is one. */
function logMessage(line: string): unknown {
  if (!line.startsWith('{')) return undefined;
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg;
  } catch {
    return undefined;
  }
}

async function waitForReady(
  baseUrl: string,
  timeoutMs: number,
  state: {
    isStopping(): boolean;
    isPortTaken(): boolean;
    badConfig(): string | undefined;
    isOwnIngestListening(): boolean;
  },
): Promise<'ready' | 'stopping' | 'port taken' | 'bad config' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (state.isStopping()) return 'stopping';
    if (state.isPortTaken()) return 'port taken';
    if (state.badConfig() !== undefined) return 'bad config';
    if (state.isOwnIngestListening()) {
      try {
        const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok && state.isOwnIngestListening()) return 'ready';
      } catch {
        // not answering yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return 'timeout';
}
