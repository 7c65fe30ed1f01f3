import { parseEnvelope, streamNames } from '@relay/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestBus, type TestBus, taskReady } from '../test/helpers.js';
import { InvalidOutgoingEventError, type OutgoingEvent, PublishError } from './index.js';
import { appendEvents, MAX_EVENTS_PER_CALL, nextCall, prepareEvents } from './publish.js';

let t: TestBus;
beforeEach(() => {
  t = createTestBus();
});
afterEach(async () => {
  await t.cleanup();
});

describe('publish', () => {
  it('routes each event to its stream, in order, as a validated envelope', async () => {
    const names = streamNames(t.prefix);
    const queued: OutgoingEvent = {
      type: 'TaskQueued',
      data: {
        runId: 'r1',
        taskId: 't1',
        taskRunId: 'r1:t1',
        attempt: 1,
        queue: 'gpu',
        workflowId: 'wf',
        workflowVersion: 1,
      },
    };
    const ids = await t.bus.publish([taskReady(1), queued, taskReady(2)]);
    expect(ids).toHaveLength(3);
    const ready = await t.redis.xrange(names.ready, '-', '+');
    expect(ready.map(([id]) => id)).toEqual([ids[0], ids[2]]);
    const work = await t.redis.xrange(names.work('gpu'), '-', '+');
    expect(work.map(([id]) => id)).toEqual([ids[1]]);
    const [, fields] = ready[0] ?? ['', []];
    expect(fields[0]).toBe('event');
    const parsed = parseEnvelope(fields[1]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.event).toMatchObject({
      type: 'TaskReady',
      version: 1,
      source: 'bus-test',
      data: { taskId: 't1' },
    });
    expect(parsed.event.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts a single event and an empty batch', async () => {
    expect(await t.bus.publish(taskReady(1))).toHaveLength(1);
    expect(await t.bus.publish([])).toEqual([]);
  });

  it.each([
    {
      name: 'a bad id',
      event: { type: 'TaskReady', data: { runId: 'r', taskId: 'Not Valid', taskRunId: 'x', queue: 'q' } },
    },
    { name: 'a missing field', event: { type: 'TaskReady', data: { runId: 'r', taskId: 't', queue: 'q' } } },
    { name: 'an unknown type', event: { type: 'Nope', data: {} } },
    {
      name: 'a NUL byte',
      event: { type: 'TaskReady', data: { runId: 'r\u0000', taskId: 't', taskRunId: 'x', queue: 'q' } },
    },
  ])('throws InvalidOutgoingEventError for $name and writes nothing of the batch', async ({ event }) => {
    await expect(t.bus.publish([taskReady(1), event as OutgoingEvent])).rejects.toBeInstanceOf(
      InvalidOutgoingEventError,
    );
    expect(await t.redis.exists(streamNames(t.prefix).ready)).toBe(0);
  });

  it('rejects with PublishError naming the stream when an XADD fails', async () => {
    const names = streamNames(t.prefix);
    await t.redis.set(names.ready, 'not a stream');
    const error = await t.bus.publish([abortFor('r1'), taskReady(1)]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failures).toEqual([
      { stream: names.ready, message: expect.stringContaining('WRONGTYPE') },
    ]);
    // The other event of the batch was written.
    expect(await t.redis.xlen(names.control)).toBe(1);
  });

  it('writes a batch larger than one script call in order, each event once', async () => {
    const names = streamNames(t.prefix);
    const count = MAX_EVENTS_PER_CALL * 2 + 7;
    const events = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? abortFor(`r${i}`) : taskReady(i)));
    const ids = await t.bus.publish(events);
    expect(ids).toHaveLength(count);
    const ready = await t.redis.xrange(names.ready, '-', '+');
    const control = await t.redis.xrange(names.control, '-', '+');
    expect(ready).toHaveLength(events.filter((e) => e.type === 'TaskReady').length);
    expect(control).toHaveLength(events.filter((e) => e.type === 'TaskAbortRequested').length);
    const readyTasks = ready.map(([, fields]) => {
      const parsed = parseEnvelope(fields[1]);
      return parsed.ok && parsed.event.type === 'TaskReady' ? parsed.event.data.taskId : undefined;
    });
    // Each stream holds its events in the batch's order, under the ids publish returned.
    expect(ready.map(([id]) => id)).toEqual(ids.filter((_, i) => events[i]?.type === 'TaskReady'));
    expect(control.map(([id]) => id)).toEqual(ids.filter((_, i) => events[i]?.type !== 'TaskReady'));
    expect(readyTasks).toEqual(
      events.flatMap((e) => (e.type === 'TaskReady' ? [(e.data as { taskId: string }).taskId] : [])),
    );
  });

  it('splits calls by size and still writes an event larger than a call alone', async () => {
    const names = streamNames(t.prefix);
    const prepared = prepareEvents([taskReady(1), abortFor('r1'), taskReady(2), taskReady(3)], {
      prefix: t.prefix,
      source: 'bus-test',
    });
    const chars = (prepared[0]?.json.length ?? 0) + 1;
    const limits = { events: 10, chars };
    // Every call but one carries one event: the abort alone is larger than `chars`.
    const ends: number[] = [];
    for (let start = 0; start < prepared.length; start = ends.at(-1) ?? prepared.length) {
      ends.push(nextCall(prepared, start, 1000, limits).end);
    }
    expect(ends).toEqual([1, 2, 3, 4]);
    expect(nextCall(prepared, 0, 1000, { events: 0, chars: 1e9 }).end).toBe(1);
    expect(nextCall(prepared, 0, 1000, { events: 3, chars: 1e9 }).end).toBe(3);
    const ids = await appendEvents(t.redis, prepared, 1000, limits);
    expect(ids).toHaveLength(4);
    expect(await t.redis.xlen(names.ready)).toBe(3);
    expect(await t.redis.xlen(names.control)).toBe(1);
    expect((await t.redis.xrange(names.ready, '-', '+')).map(([id]) => id)).toEqual([ids[0], ids[2], ids[3]]);
  });

  it('trims each stream to about maxLen entries', async () => {
    const bus = t.openBus({ maxLen: 100 });
    for (let i = 0; i < 10; i += 1) {
      await bus.publish(Array.from({ length: 100 }, (_, j) => taskReady(i * 100 + j)));
    }
    const length = await t.redis.xlen(streamNames(t.prefix).ready);
    // MAXLEN ~ trims whole radix-tree nodes (100 entries each by default): never below maxLen.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(200);
  });
});

function abortFor(runId: string): OutgoingEvent {
  return { type: 'TaskAbortRequested', data: { runId, taskRunIds: [`${runId}:t1`], reason: 'CANCELLED' } };
}
