import { randomUUID } from 'node:crypto';
import { streamNames } from '@relay/contracts';
import { createLogger, createRedis } from '@relay/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countPending,
  createTestBus,
  readDeadLetters,
  type TestBus,
  taskReady,
  waitFor,
} from '../test/helpers.js';
import { type Consumer, createBus, type Delivery } from './index.js';

let t: TestBus;
const consumers: Consumer[] = [];

beforeEach(() => {
  t = createTestBus();
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
  await t.cleanup();
});

function taskIds(deliveries: Delivery[]): string[] {
  return deliveries.map((d) => (d.event.type === 'TaskReady' ? d.event.data.taskId : d.event.type));
}

describe('consume', () => {
  it('delivers published events in order and acks them', async () => {
    const ready = streamNames(t.prefix).ready;
    const seen: Delivery[] = [];
    consumers.push(
      t.bus.consume({
        streams: [ready],
        group: 'g',
        consumer: 'c1',
        handler: async (events) => void seen.push(...events),
      }),
    );
    await t.bus.publish([taskReady(1), taskReady(2), taskReady(3)]);
    await waitFor('3 deliveries', () => seen.length === 3);
    expect(taskIds(seen)).toEqual(['t1', 't2', 't3']);
    expect(seen.every((d) => d.stream === ready && d.deliveries === 1 && d.event.source === 'bus-test')).toBe(
      true,
    );
    await waitFor('acks', async () => (await countPending(t.redis, ready, 'g')) === 0);
  });

  it('handles a batch of 500 and leaves nothing pending', async () => {
    const ready = streamNames(t.prefix).ready;
    const ids = new Set<string>();
    const consumer = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'c1',
      handler: async (events) => {
        for (const e of events) ids.add(e.event.id);
      },
    });
    consumers.push(consumer);
    await t.bus.publish(Array.from({ length: 500 }, (_, i) => taskReady(i)));
    await waitFor('500 handled', () => consumer.stats.handled === 500);
    expect(ids.size).toBe(500);
    await waitFor('nothing pending', async () => (await countPending(t.redis, ready, 'g')) === 0);
    expect(consumer.stats).toEqual({ handled: 500, deadLettered: 0, failedBatches: 0 });
  });

  it('retries an event whose handler failed once and does not dead-letter it', async () => {
    const ready = streamNames(t.prefix).ready;
    const attempts: number[] = [];
    const consumer = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'c1',
      claimIdleMs: 200,
      claimEveryMs: 50,
      handler: async (events) => {
        for (const e of events) attempts.push(e.deliveries);
        if (attempts.length === 1) throw new Error('transient');
      },
    });
    consumers.push(consumer);
    await t.bus.publish(taskReady(1));
    await waitFor('handled', () => consumer.stats.handled === 1);
    expect(attempts).toEqual([1, 2]);
    expect(consumer.stats).toEqual({ handled: 1, deadLettered: 0, failedBatches: 1 });
    expect(await readDeadLetters(t.redis, streamNames(t.prefix).dead)).toEqual([]);
    await waitFor('acked', async () => (await countPending(t.redis, ready, 'g')) === 0);
  });

  it('dead-letters a poison event after maxDeliveries while the rest of its batch is handled', async () => {
    const names = streamNames(t.prefix);
    const handled: string[] = [];
    const poisonDeliveries: number[] = [];
    const consumer = t.bus.consume({
      streams: [names.ready],
      group: 'g',
      consumer: 'c1',
      claimIdleMs: 100,
      claimEveryMs: 50,
      maxDeliveries: 3,
      handler: async (events) => {
        const poison = events.find((e) => taskIds([e])[0] === 't2');
        if (poison) {
          if (events.length === 1) poisonDeliveries.push(poison.deliveries);
          throw new Error('poison t2');
        }
        handled.push(...taskIds(events));
      },
    });
    consumers.push(consumer);
    await t.bus.publish([taskReady(1), taskReady(2), taskReady(3)]);
    await waitFor('poison dead-lettered', () => consumer.stats.deadLettered === 1);
    expect(handled.sort()).toEqual(['t1', 't3']);
    expect(poisonDeliveries).toEqual([1, 2, 3]);
    const letters = await readDeadLetters(t.redis, names.dead);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stream: names.ready, group: 'g', consumer: 'c1' });
    expect(letters[0]?.reason).toContain('poison t2');
    expect(JSON.parse(letters[0]?.raw ?? '')).toMatchObject({ type: 'TaskReady', data: { taskId: 't2' } });
    await waitFor('nothing pending', async () => (await countPending(t.redis, names.ready, 'g')) === 0);
  });

  it.each([
    { name: 'non-JSON', fields: ['event', '{not json'], reason: 'not valid JSON' },
    { name: 'missing event field', fields: ['other', '{}'], reason: 'missing field "event"' },
    {
      name: 'unknown type',
      fields: [
        'event',
        JSON.stringify({
          id: 'x',
          type: 'Nope',
          version: 1,
          occurredAt: new Date().toISOString(),
          source: 's',
          data: {},
        }),
      ],
      reason: 'unknown event type',
    },
    { name: 'oversize', fields: ['event', `"${'x'.repeat(70 * 1024)}"`], reason: 'too large' },
    {
      name: 'NUL byte',
      fields: [
        'event',
        JSON.stringify({
          id: 'x',
          type: 'TaskReady',
          version: 1,
          occurredAt: new Date().toISOString(),
          source: 's',
          data: { runId: 'r\u0000', taskId: 't1', taskRunId: 'r:t1', queue: 'default' },
        }),
      ],
      reason: 'NUL',
    },
  ])('dead-letters a malformed entry ($name) with its reason and acks it', async ({ fields, reason }) => {
    const names = streamNames(t.prefix);
    const seen: Delivery[] = [];
    const consumer = t.bus.consume({
      streams: [names.ready],
      group: 'g',
      consumer: 'c1',
      handler: async (events) => void seen.push(...events),
    });
    consumers.push(consumer);
    await t.redis.xadd(names.ready, '*', ...fields);
    await t.bus.publish(taskReady(1));
    await waitFor('valid event handled', () => seen.length === 1);
    await waitFor('dead letter', () => consumer.stats.deadLettered === 1);
    const letters = await readDeadLetters(t.redis, names.dead);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toContain(reason);
    expect(letters[0]).toMatchObject({ stream: names.ready, group: 'g', consumer: 'c1' });
    expect(Buffer.byteLength(letters[0]?.raw ?? '')).toBeLessThanOrEqual(8 * 1024);
    expect(await countPending(t.redis, names.ready, 'g')).toBe(0);
  });
});

describe('consume: recovery and sharing', () => {
  it('lets consumer B take over what consumer A read but never acked, after claimIdleMs', async () => {
    const ready = streamNames(t.prefix).ready;
    let aSaw = 0;
    let releaseA: () => void = () => {};
    const aBlocked = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    // A reads both events and hangs in its handler: they stay pending under A.
    const a = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'a',
      handler: async (events) => {
        aSaw += events.length;
        await aBlocked;
        throw new Error('A crashed');
      },
    });
    await t.bus.publish([taskReady(1), taskReady(2)]);
    await waitFor('A read both', () => aSaw === 2);
    const seenByB: Delivery[] = [];
    const b = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'b',
      claimIdleMs: 200,
      claimEveryMs: 50,
      handler: async (events) => void seenByB.push(...events),
    });
    consumers.push(b);
    await waitFor('B took over both', () => seenByB.length === 2);
    expect(taskIds(seenByB).sort()).toEqual(['t1', 't2']);
    expect(seenByB.every((d) => d.deliveries === 2)).toBe(true);
    releaseA();
    await a.stop();
    await waitFor('nothing pending', async () => (await countPending(t.redis, ready, 'g')) === 0);
  });

  it('re-handles its own stale pending entries after a restart under the same name', async () => {
    const ready = streamNames(t.prefix).ready;
    // Simulate a crash: read as "c1" without acking.
    await t.redis.xgroup('CREATE', ready, 'g', '0', 'MKSTREAM');
    await t.bus.publish(taskReady(7));
    await t.redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', ready, '>');
    const seen: Delivery[] = [];
    consumers.push(
      t.bus.consume({
        streams: [ready],
        group: 'g',
        consumer: 'c1',
        claimIdleMs: 100,
        claimEveryMs: 50,
        handler: async (events) => void seen.push(...events),
      }),
    );
    await waitFor('stale entry handled', () => seen.length === 1);
    expect(taskIds(seen)).toEqual(['t7']);
    await waitFor('acked', async () => (await countPending(t.redis, ready, 'g')) === 0);
  });

  it('recreates the group when the stream is deleted during a BLOCK and still consumes later events', async () => {
    const ready = streamNames(t.prefix).ready;
    const seen: Delivery[] = [];
    consumers.push(
      t.bus.consume({
        streams: [ready],
        group: 'g',
        consumer: 'c1',
        blockMs: 500,
        handler: async (events) => void seen.push(...events),
      }),
    );
    await t.bus.publish(taskReady(1));
    await waitFor('first event', () => seen.length === 1);
    await t.redis.del(ready);
    await t.bus.publish(taskReady(2));
    await waitFor('event after the reset', () => seen.length === 2);
    expect(taskIds(seen)).toEqual(['t1', 't2']);
  });

  it('recreates the group after FLUSH-like loss of group and stream while idle', async () => {
    const ready = streamNames(t.prefix).ready;
    const seen: Delivery[] = [];
    const consumer = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'c1',
      blockMs: 100,
      handler: async (events) => void seen.push(...events),
    });
    consumers.push(consumer);
    await waitFor('group created', async () => (await t.redis.exists(ready)) === 1);
    for (let round = 0; round < 3; round += 1) {
      await t.redis.del(ready);
      await t.bus.publish(taskReady(round));
      await waitFor(`event of round ${round}`, () => seen.length === round + 1);
    }
    // stats count a batch once it is acked, just after the handler resolved
    await waitFor('three handled', () => consumer.stats.handled === 3);
    expect(seen).toHaveLength(3);
  });

  it('splits events between two consumers of one group without duplicates', async () => {
    const ready = streamNames(t.prefix).ready;
    const byConsumer: Record<string, string[]> = { a: [], b: [] };
    const other = t.openBus();
    for (const [bus, name] of [
      [t.bus, 'a'],
      [other, 'b'],
    ] as const) {
      consumers.push(
        bus.consume({
          streams: [ready],
          group: 'g',
          consumer: name,
          count: 5,
          handler: async (events) => {
            byConsumer[name]?.push(...events.map((e) => e.event.id));
            // Yield so both consumers get a share.
            await new Promise((resolve) => setTimeout(resolve, 5));
          },
        }),
      );
    }
    const total = 200;
    for (let i = 0; i < total; i += 20) {
      await t.bus.publish(Array.from({ length: 20 }, (_, j) => taskReady(i + j)));
    }
    await waitFor('all handled', () => (byConsumer.a?.length ?? 0) + (byConsumer.b?.length ?? 0) >= total);
    const all = [...(byConsumer.a ?? []), ...(byConsumer.b ?? [])];
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    expect(byConsumer.a?.length).toBeGreaterThan(0);
    expect(byConsumer.b?.length).toBeGreaterThan(0);
  });
});

describe('consume: capacity and stop', () => {
  it('reads at most capacity() events and waits for wake() while it is 0', async () => {
    const ready = streamNames(t.prefix).ready;
    let capacity = 0;
    let capacityChecks = 0;
    const batches: number[] = [];
    const consumer = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'c1',
      capacity: () => {
        capacityChecks += 1;
        return capacity;
      },
      handler: async (events) => void batches.push(events.length),
    });
    consumers.push(consumer);
    await t.bus.publish(Array.from({ length: 10 }, (_, i) => taskReady(i)));
    const groups = async () => (await t.redis.xinfo('GROUPS', ready)) as unknown[][];
    await waitFor('group exists', async () => (await groups()).length === 1);
    // Capacity 0: nothing may be read, even across several capacity polls.
    const checksBefore = capacityChecks;
    await waitFor('capacity re-checked', () => capacityChecks >= checksBefore + 3);
    expect(batches).toEqual([]);
    expect(JSON.stringify(await groups())).toContain('"last-delivered-id","0-0"');
    capacity = 3;
    consumer.wake();
    await waitFor('all 10 handled', () => consumer.stats.handled === 10);
    expect(batches.every((n) => n <= 3)).toBe(true);
    expect(batches[0]).toBe(3);
  });

  it('stops promptly while blocked and finishes (and acks) an in-flight batch first', async () => {
    const ready = streamNames(t.prefix).ready;
    const idleName = `idle-${t.prefix}`;
    const idle = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: idleName,
      blockMs: 10_000,
      handler: async () => {},
    });
    await waitFor('consumer blocked in XREADGROUP', async () =>
      String(await t.redis.client('LIST'))
        .split('\n')
        .some((line) => line.includes(`name=bus:g:${idleName} `) && line.includes('cmd=xreadgroup')),
    );
    const startedAt = Date.now();
    await idle.stop();
    expect(Date.now() - startedAt).toBeLessThan(1000);

    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = false;
    const busy = t.bus.consume({
      streams: [ready],
      group: 'g',
      consumer: 'busy',
      handler: async () => {
        entered = true;
        await gate;
      },
    });
    await t.bus.publish(taskReady(1));
    await waitFor('handler entered', () => entered);
    const stopping = busy.stop();
    release();
    await stopping;
    expect(busy.stats.handled).toBe(1);
    expect(await countPending(t.redis, ready, 'g')).toBe(0);
  });
});

describe('stop while Redis is unreachable', () => {
  it('returns at once from a consumer and a broadcast reader whose commands wait in the offline queue', async () => {
    const url = 'redis://127.0.0.1:1';
    const logger = createLogger({ service: 'bus-test', level: 'silent' });
    const redis = createRedis(url, { logger, name: 'unreachable' });
    const bus = createBus({
      redis,
      redisUrl: url,
      prefix: `test-bus-${randomUUID()}`,
      source: 'bus-test',
      logger,
    });
    const consumer = bus.consume({ streams: ['s'], group: 'g', consumer: 'c', handler: async () => {} });
    // Both loops queued their first command (XGROUP CREATE, XREVRANGE) before returning: stop them now.
    const reader = bus.broadcast({ stream: 'b', handler: async () => {} });
    const stopped = Promise.all([consumer.stop(), reader.stop()]).then(() => 'stopped');
    // Before: each waited for the command to fail after its reconnect attempts (a service's stop hit its
    // 15-25 s grace and was forced).
    const timeout = new Promise((resolve) => setTimeout(resolve, 3000, 'still waiting'));
    expect(await Promise.race([stopped, timeout])).toBe('stopped');
    await bus.close();
    redis.disconnect();
  });
});
