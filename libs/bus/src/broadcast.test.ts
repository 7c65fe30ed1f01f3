import type { AnyEnvelope } from '@relay/contracts';
import { streamNames } from '@relay/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { abortRequested, createTestBus, type TestBus, waitFor } from '../test/helpers.js';
import type { Consumer } from './index.js';

let t: TestBus;
const readers: Consumer[] = [];
beforeEach(() => {
  t = createTestBus();
});
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.stop()));
  await t.cleanup();
});

function runIds(events: AnyEnvelope[]): string[] {
  return events.map((e) => ('runId' in e.data ? e.data.runId : e.type));
}

/** Starts a reader and waits until it sits in its first XREAD (so it is past its start point). */
async function startReader(name: string, seen: AnyEnvelope[], bus = t.bus): Promise<Consumer> {
  const control = streamNames(t.prefix).control;
  const reader = bus.broadcast({
    stream: control,
    blockMs: 200,
    handler: async (events) => void seen.push(...events),
  });
  readers.push(reader);
  // The first XREAD reads from the stream's current end: publish a marker until the reader sees one.
  await waitFor(`${name} ready`, async () => {
    await t.bus.publish(abortRequested(`marker-${name}`));
    return seen.length > 0;
  });
  seen.length = 0;
  return reader;
}

describe('broadcast', () => {
  it('delivers every event to every instance', async () => {
    const seenA: AnyEnvelope[] = [];
    const seenB: AnyEnvelope[] = [];
    await startReader('a', seenA);
    await startReader('b', seenB, t.openBus());
    seenA.length = 0;
    await t.bus.publish([abortRequested('r1'), abortRequested('r2')]);
    await waitFor('both saw both', () => runIds(seenA).includes('r2') && runIds(seenB).includes('r2'));
    expect(runIds(seenA).filter((id) => !id.startsWith('marker'))).toEqual(['r1', 'r2']);
    expect(runIds(seenB).filter((id) => !id.startsWith('marker'))).toEqual(['r1', 'r2']);
  });

  it('does not replay events published before it started', async () => {
    await t.bus.publish(abortRequested('old'));
    const seen: AnyEnvelope[] = [];
    await startReader('a', seen);
    await t.bus.publish(abortRequested('new'));
    await waitFor('new event', () => runIds(seen).includes('new'));
    expect(runIds(seen)).not.toContain('old');
  });

  it('skips invalid entries and survives a failing handler and a deleted stream', async () => {
    const control = streamNames(t.prefix).control;
    const seen: AnyEnvelope[] = [];
    let failNext = false;
    const reader = await startReader('a', seen);
    readers.pop();
    await reader.stop();
    const flaky = t.bus.broadcast({
      stream: control,
      blockMs: 100,
      handler: async (events) => {
        if (failNext) {
          failNext = false;
          throw new Error('handler down');
        }
        seen.push(...events);
      },
    });
    readers.push(flaky);
    await waitFor('flaky ready', async () => {
      await t.bus.publish(abortRequested('marker'));
      return seen.length > 0;
    });
    await t.redis.xadd(control, '*', 'event', 'junk');
    failNext = true;
    await t.bus.publish(abortRequested('lost'));
    await waitFor('failure counted', () => flaky.stats.failedBatches === 1);
    await t.redis.del(control);
    // The reader notices the reset on its next read; an event published in the same instant may be
    // taken for the old stream's, so publish until one arrives: what matters is that reading goes on.
    await waitFor('event after reset', async () => {
      await t.bus.publish(abortRequested('after-reset'));
      return runIds(seen).includes('after-reset');
    });
    expect(runIds(seen)).not.toContain('lost');
  });
});
