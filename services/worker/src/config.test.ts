import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, queuesOf } from './config.js';

describe('worker config', () => {
  it('applies the documented defaults', () => {
    const c = loadWorkerConfig({});
    expect([
      queuesOf(c),
      c.RELAY_WORKER_CONCURRENCY,
      c.RELAY_WORKER_GRACE_MS,
      c.RELAY_MAX_OUTPUT_BYTES,
      c.RELAY_WORKER_DEFINITION_CACHE_TASKS,
    ]).toEqual([['default'], 10, 10_000, 1024 * 1024, 100_000]);
  });

  it('reads a comma-separated queue list without duplicates', () => {
    expect(queuesOf(loadWorkerConfig({ RELAY_WORKER_QUEUES: 'default,payments,default' }))).toEqual([
      'default',
      'payments',
    ]);
  });

  it.each([
    ['RELAY_WORKER_CONCURRENCY', '0'],
    ['RELAY_WORKER_QUEUES', 'Bad Queue'],
    ['RELAY_MAX_OUTPUT_BYTES', 'lots'],
    ['RELAY_WORKER_GRACE_MS', '-1'],
    ['RELAY_WORKER_DEFINITION_CACHE_TASKS', '0'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadWorkerConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });
});
