import type { OutgoingEvent } from '@relay/bus';
import { describe, expect, it } from 'vitest';
import { PUBLISH_CHUNK, publishAll } from './events.js';

/** A bus that records what each publish call carried (the chunking, not Redis, is under test). */
function recordingBus() {
  const calls: OutgoingEvent[][] = [];
  return {
    calls,
    async publish(events: ReadonlyArray<OutgoingEvent>) {
      calls.push([...events]);
      return events.map((_, i) => `${calls.length}-${i}`);
    },
  };
}

const ready = (i: number): OutgoingEvent => ({
  type: 'TaskReady',
  data: { runId: 'r', taskId: `t${i}`, taskRunId: `r:t${i}`, queue: 'default' },
});

describe('publishAll', () => {
  it.each<[number, number[]]>([
    [0, []],
    [1, [1]],
    [PUBLISH_CHUNK, [PUBLISH_CHUNK]],
    [PUBLISH_CHUNK + 1, [PUBLISH_CHUNK, 1]],
    [2 * PUBLISH_CHUNK + 5, [PUBLISH_CHUNK, PUBLISH_CHUNK, 5]],
  ])('publishes %i events in pipelines of %j, in order', async (count, sizes) => {
    const bus = recordingBus();
    const events = Array.from({ length: count }, (_, i) => ready(i));
    await publishAll(bus, events);
    expect(bus.calls.map((c) => c.length)).toEqual(sizes);
    expect(bus.calls.flat()).toEqual(events);
  });
});
