import { describe, expect, it } from 'vitest';
import { InvalidStreamNameError } from './errors.js';
import { EVENT_TYPES, type EventType } from './events.js';
import { exampleEnvelope } from './examples.js';
import { CONSUMERS, EVENT_ROUTES, GROUPS, STREAM_KEYS, streamFor, streamNames } from './streams.js';

describe('streamNames', () => {
  it('puts every key under the prefix', () => {
    const names = streamNames('relay-t1');
    expect({ ...names, work: names.work('payments') }).toEqual({
      runs: 'relay-t1:runs',
      results: 'relay-t1:results',
      ready: 'relay-t1:ready',
      control: 'relay-t1:control',
      lifecycle: 'relay-t1:lifecycle',
      dead: 'relay-t1:dead',
      delayed: 'relay-t1:delayed',
      work: 'relay-t1:work:payments',
    });
  });

  it.each(['', 'Payments', 'a:b', 'a b', '-lead', 'a'.repeat(129)])('rejects the queue %j', (queue) => {
    expect(() => streamNames('relay').work(queue)).toThrow(InvalidStreamNameError);
  });

  it('keeps two prefixes apart', () => {
    const a = streamNames('a');
    const b = streamNames('b');
    for (const key of STREAM_KEYS) {
      const nameA = key === 'work' ? a.work('default') : a[key];
      const nameB = key === 'work' ? b.work('default') : b[key];
      expect(nameA).not.toBe(nameB);
    }
  });
});

describe('streamFor', () => {
  const expected: Record<EventType, string> = {
    RunStarted: 'p:runs',
    RunCancelRequested: 'p:runs',
    TaskApproved: 'p:runs',
    TaskRejected: 'p:runs',
    TaskReady: 'p:ready',
    TaskQueued: 'p:work:payments',
    TaskStarted: 'p:lifecycle',
    TaskSucceeded: 'p:results',
    TaskFailed: 'p:results',
    HeartbeatMissed: 'p:results',
    TaskAbortRequested: 'p:control',
    RunFinished: 'p:lifecycle',
  };

  it.each(EVENT_TYPES)('routes %s as docs/ARCHITECTURE.md "Streams" says', (type) => {
    expect(streamFor('p', exampleEnvelope(type))).toBe(expected[type]);
  });

  it.each(EVENT_TYPES)('agrees with EVENT_ROUTES for %s', (type) => {
    const route = EVENT_ROUTES[type];
    const names = streamNames('p');
    const stream = route.stream === 'work' ? names.work('payments') : names[route.stream];
    expect(streamFor('p', exampleEnvelope(type))).toBe(stream);
  });

  it('sends TaskQueued to the work stream of its own queue', () => {
    const event = exampleEnvelope('TaskQueued');
    event.data.queue = 'gpu.large';
    expect(streamFor('p', event)).toBe('p:work:gpu.large');
  });
});

describe('CONSUMERS', () => {
  it('names a group for every stream some event reaches through a group, and only those', () => {
    for (const key of STREAM_KEYS) {
      const groupsFromRoutes = new Set(
        EVENT_TYPES.flatMap((type) => {
          const route = EVENT_ROUTES[type];
          return route.stream === key ? route.consumers.filter((c) => c in GROUPS) : [];
        }),
      );
      expect(new Set<string>(CONSUMERS[key]), key).toEqual(groupsFromRoutes);
    }
  });

  it('uses the group names of GROUPS', () => {
    expect(GROUPS).toEqual({ scheduler: 'scheduler', dispatcher: 'dispatcher', worker: 'worker' });
  });
});
