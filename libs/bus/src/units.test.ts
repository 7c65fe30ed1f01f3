import { describe, expect, it } from 'vitest';
import { computeBackoffMs } from './backoff.js';
import { resolveConsumeOptions } from './consumer.js';
import { truncateUtf8 } from './dead-letter.js';
import { classifyEntries } from './deliver.js';
import { InvalidBusOptionError } from './errors.js';
import { WakeLatch } from './wake.js';

describe('computeBackoffMs', () => {
  it.each([
    { attempt: 0, expected: 0 },
    { attempt: 1, expected: 50 },
    { attempt: 3, expected: 200 },
    { attempt: 10, expected: 2000 },
    { attempt: 1000, expected: 2000 },
  ])('attempt $attempt -> $expected ms without jitter', ({ attempt, expected }) => {
    expect(computeBackoffMs(attempt, 50, 2000, () => 0)).toBe(expected);
  });

  it('subtracts at most 20% jitter', () => {
    expect(computeBackoffMs(10, 50, 2000, () => 1)).toBe(1600);
  });
});

describe('truncateUtf8', () => {
  it.each([
    { raw: 'abc', max: 8, expected: 'abc' },
    { raw: 'abcdef', max: 4, expected: 'abcd' },
    // 'é' is 2 bytes: cutting inside it drops the whole character.
    { raw: 'aé', max: 2, expected: 'a' },
    { raw: '€€', max: 5, expected: '€' },
  ])('cuts $raw to $max bytes', ({ raw, max, expected }) => {
    expect(truncateUtf8(raw, max)).toBe(expected);
  });
});

describe('classifyEntries', () => {
  const valid = JSON.stringify({
    id: 'e1',
    type: 'TaskReady',
    version: 1,
    occurredAt: '2024-05-01T12:00:00.000Z',
    source: 'test',
    data: { runId: 'r', taskId: 't', taskRunId: 'r:t', queue: 'default' },
  });

  it.each([
    { name: 'a valid entry', fields: ['event', valid], deliveries: 1, reason: null },
    { name: 'a missing field', fields: ['x', valid], deliveries: 1, reason: 'missing field "event"' },
    { name: 'junk', fields: ['event', 'junk'], deliveries: 1, reason: 'not valid JSON' },
    {
      name: 'too many deliveries',
      fields: ['event', valid],
      deliveries: 6,
      reason: 'delivered 6 times (max 5)',
    },
    { name: 'the last allowed delivery', fields: ['event', valid], deliveries: 5, reason: null },
  ])('classifies $name', ({ fields, deliveries, reason }) => {
    const { valid: ok, letters } = classifyEntries([{ stream: 's', id: '1-0', fields, deliveries }], 5);
    if (reason === null) {
      expect(letters).toEqual([]);
      expect(ok).toHaveLength(1);
      expect(ok[0]).toMatchObject({ stream: 's', id: '1-0', deliveries, event: { id: 'e1' } });
    } else {
      expect(ok).toEqual([]);
      expect(letters).toHaveLength(1);
      expect(letters[0]?.reason).toContain(reason);
    }
  });
});

describe('resolveConsumeOptions', () => {
  const base = { streams: ['s'], group: 'g', consumer: 'c', handler: async () => {} };

  it('applies defaults', () => {
    expect(resolveConsumeOptions(base)).toMatchObject({
      count: 100,
      blockMs: 2000,
      claimIdleMs: 30_000,
      claimEveryMs: 15_000,
      maxDeliveries: 5,
    });
  });

  it.each([
    { option: 'streams', patch: { streams: [] } },
    { option: 'group', patch: { group: '' } },
    { option: 'count', patch: { count: 0 } },
    { option: 'blockMs', patch: { blockMs: 1.5 } },
    { option: 'claimIdleMs', patch: { claimIdleMs: -1 } },
    { option: 'maxDeliveries', patch: { maxDeliveries: 0 } },
  ])('rejects a bad $option naming it', ({ option, patch }) => {
    expect(() => resolveConsumeOptions({ ...base, ...patch })).toThrow(InvalidBusOptionError);
    expect(() => resolveConsumeOptions({ ...base, ...patch })).toThrow(option);
  });
});

describe('WakeLatch', () => {
  it('remembers a wake that came before the wait', async () => {
    const latch = new WakeLatch();
    latch.wake();
    const startedAt = Date.now();
    await latch.wait(5000, new AbortController().signal);
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });

  it('resolves a waiter on wake and on abort', async () => {
    const latch = new WakeLatch();
    const woken = latch.wait(60_000, new AbortController().signal);
    latch.wake();
    await woken;
    const abort = new AbortController();
    const aborted = latch.wait(60_000, abort.signal);
    abort.abort();
    await aborted;
  });
});
