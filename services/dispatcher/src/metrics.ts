import type { Registry } from '@relay/runtime';
import { Counter, Gauge } from 'prom-client';

/** The dispatcher's own series. */
export interface DispatcherMetrics {
  dispatched: Counter;
  delayed: Gauge;
}

/** Registers the dispatcher's series; `delayedCount` is read at scrape time. */
export function createDispatcherMetrics(
  registry: Registry,
  delayedCount: () => Promise<number>,
): DispatcherMetrics {
  return {
    dispatched: new Counter({
      name: 'relay_dispatcher_tasks_dispatched_total',
      help: 'Task runs moved READY -> QUEUED',
      registers: [registry],
    }),
    delayed: new Gauge({
      name: 'relay_dispatcher_delayed_tasks',
      help: 'Task runs waiting in the delayed set',
      registers: [registry],
      async collect() {
        this.set(await delayedCount());
      },
    }),
  };
}
