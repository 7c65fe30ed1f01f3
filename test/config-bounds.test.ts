/**
 * Every service's durations: a value past setTimeout's range (2^31 - 1 ms) fires at once, so a
 * huge interval would become a busy loop (SCHEDULER_CRON_RELOAD_MS=3000000000 woke the cron loop
 * every millisecond). Each `*_MS` variable must stop the service at start, naming itself.
 */
import { type Env, MAX_TIMER_MS } from '@relay/runtime';
import { describe, expect, it } from 'vitest';
import * as dispatcher from '../services/dispatcher/src/config.js';
import * as ingest from '../services/ingest/src/config.js';
import * as reaper from '../services/reaper/src/config.js';
import * as scheduler from '../services/scheduler/src/config.js';
import * as worker from '../services/worker/src/config.js';

const SERVICES: [string, Record<string, unknown>, (env: Env) => unknown][] = [
  ['ingest', ingest.IngestEnv.entries, ingest.loadConfig],
  ['scheduler', scheduler.SchedulerEnvSchema.entries, scheduler.loadSchedulerConfig],
  ['dispatcher', dispatcher.DispatcherEnvSchema.entries, dispatcher.loadDispatcherConfig],
  ['worker', worker.WorkerEnvSchema.entries, worker.loadWorkerConfig],
  ['reaper', reaper.ReaperEnvSchema.entries, reaper.loadReaperConfig],
];

const durations = SERVICES.flatMap(([service, entries, load]) =>
  Object.keys(entries)
    .filter((name) => name.endsWith('_MS'))
    .map((name) => [service, name, load] as const),
);

describe('duration variables', () => {
  it('exist in every service', () => {
    expect(new Set(durations.map(([service]) => service)).size).toBe(SERVICES.length);
  });

  it.each(durations)('%s rejects %s past setTimeout range, naming it', (_service, name, load) => {
    expect(() => load({ [name]: String(MAX_TIMER_MS + 1) })).toThrow(
      new RegExp(`(^|; )${name}: expected an integer of at most \\d+`),
    );
  });
});
