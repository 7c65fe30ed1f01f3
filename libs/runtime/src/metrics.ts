import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

/**
 * How often (ms) the event-loop lag histogram samples. prom-client's default of 10 ms wakes an idle
 * process 100 times a second, about 0.5% of a core here; at 100 ms that falls to about 0.1%, and a
 * stall of the loop still shows in the lag series (each sample measures how late its timer fired).
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * A Prometheus registry for one service: Node.js default metrics (CPU, memory, event loop lag, GC)
 * and a `service` label on every series. Services register their own metrics on it.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}
