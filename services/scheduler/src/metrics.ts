import type { Registry } from '@relay/runtime';
import { Counter, Histogram } from 'prom-client';

/** The scheduler's own series. */
export interface SchedulerMetrics {
  eventsHandled: Counter<'type'>;
  batchSize: Histogram<'type'>;
  handlerSeconds: Histogram<'type'>;
}

/** Registers the scheduler's series on `registry`. */
export function createSchedulerMetrics(registry: Registry): SchedulerMetrics {
  return {
    eventsHandled: new Counter({
      name: 'relay_scheduler_events_handled_total',
      help: 'Events handled by the scheduler, by event type',
      labelNames: ['type'],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'relay_scheduler_batch_size',
      help: 'Events per handler call, by event type',
      labelNames: ['type'],
      buckets: [1, 5, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'relay_scheduler_handler_duration_seconds',
      help: 'Duration of one handler call, by event type',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    }),
  };
}
