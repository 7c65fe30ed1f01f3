import type { Registry } from '@relay/runtime';
import { Counter, Gauge, Histogram } from 'prom-client';

/** How an attempt this worker ran ended, as counted. */
export type AttemptOutcome = 'success' | 'failed' | 'discarded' | 'handed_back';

/** The worker's own series; labels are the queue (configured, so bounded) and the outcome. */
export interface WorkerMetrics {
  /** Counts an attempt's end. */
  ended(queue: string, outcome: AttemptOutcome): void;
  /** Records how long a handler call took (until its attempt ended: result, timeout or abort). */
  handlerSeconds(queue: string, ok: boolean, seconds: number): void;
}

/** What the gauges read at scrape time. */
export interface WorkerGaugeSources {
  held: () => number;
  running: () => number;
  outlived: () => number;
}

/** Registers the worker's series on `registry`. Labelled children are cached: this is on every attempt's path. */
export function createWorkerMetrics(registry: Registry, gauges: WorkerGaugeSources): WorkerMetrics {
  const attempts = new Counter({
    name: 'relay_worker_attempts_total',
    help: 'Task attempts this worker ended, by queue and outcome (success, failed, discarded: superseded or cancelled before its result was written, handed_back: at shutdown)',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'relay_worker_handler_duration_seconds',
    help: 'Handler time per attempt, by queue and result (ok, error: failed, timed out or aborted)',
    labelNames: ['queue', 'result'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('relay_worker_attempts_held', 'Attempts claimed and not yet written', gauges.held);
  gauge(
    'relay_worker_handlers_running',
    'Handler calls running now (at most the concurrency)',
    gauges.running,
  );
  gauge(
    'relay_worker_handlers_outlived',
    'Handlers still running after their attempt ended (they ignored its abort signal)',
    gauges.outlived,
  );

  const counters = new Map<string, Counter.Internal>();
  const histograms = new Map<string, Histogram.Internal<'queue' | 'result'>>();
  return {
    ended(queue, outcome) {
      const key = `${queue}\n${outcome}`;
      let child = counters.get(key);
      if (!child) {
        child = attempts.labels(queue, outcome);
        counters.set(key, child);
      }
      child.inc();
    },
    handlerSeconds(queue, ok, seconds) {
      const result = ok ? 'ok' : 'error';
      const key = `${queue}\n${result}`;
      let child = histograms.get(key);
      if (!child) {
        child = durations.labels(queue, result);
        histograms.set(key, child);
      }
      child.observe(seconds);
    },
  };
}
