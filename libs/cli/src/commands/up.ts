import { existsSync } from 'node:fs';
import { createApiClient } from '../api-client.js';
import { CliError } from '../errors.js';
import { EXAMPLES_DIR, type ServiceName, serviceEntry } from '../paths.js';
import { createSupervisor, type ServiceSpec } from '../supervisor.js';
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
 * `relay up`: migrates, starts the five services as separate supervised processes, waits for the
 * API, applies examples/, prints the API address, and stops everything on Ctrl-C / SIGTERM.
 * Resolves when the fleet has stopped.
 */
export async function up(opts: UpOptions): Promise<void> {
  const databaseUrl = opts.env.DATABASE_URL ?? 'postgres://relay:relay@localhost:5432/relay';
  await runMigrations(databaseUrl, opts.print);

  const specs: ServiceSpec[] = [];
  const add = (name: ServiceName, label: string, env: Record<string, string> = {}) => {
    const entry = serviceEntry(name);
    if (!existsSync(entry)) throw new CliError(`up: ${entry} is missing; run \`npm run build\` first`);
    specs.push({ label, service: name, entry, env: { HEALTH_PORT: '0', ...env } });
  };
  add('scheduler', 'scheduler');
  add('dispatcher', 'dispatcher');
  add('reaper', 'reaper');
  for (let i = 1; i <= opts.workers; i += 1) add('worker', opts.workers > 1 ? `worker-${i}` : 'worker');
  add('ingest', 'ingest', { PORT: String(opts.port) });

  const supervisor = createSupervisor({ write: opts.print, color: process.stdout.isTTY === true });
  supervisor.start(specs);

  let stopped = false;
  const stopped$ = new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      if (stopped) {
        process.exit(130);
      }
      stopped = true;
      opts.print(`relay: ${signal}, stopping the fleet...`);
      await supervisor.stop();
      opts.print('relay: stopped');
      resolve();
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

  const baseUrl = `http://localhost:${opts.port}`;
  const api = createApiClient({ baseUrl, token: opts.env.RELAY_API_TOKEN || undefined, timeoutMs: 5000 });
  const ready = await waitForReady(baseUrl, 60_000, () => stopped);
  if (!ready) {
    if (!stopped) opts.print(`relay: the API at ${baseUrl} is not ready after 60 s; see the logs above`);
  } else {
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
  await stopped$;
}

async function waitForReady(baseUrl: string, timeoutMs: number, isStopped: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !isStopped()) {
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
