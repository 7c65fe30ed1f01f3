import { describe, expectTypeOf, it } from 'vitest';
import type { AnyEnvelope, Envelope } from './envelope.js';
import { createEnvelope } from './envelope.js';
import type { EventData, TaskFailed } from './events.js';
import { exampleEnvelope } from './examples.js';

/** What a consumer writes: a switch on `type` that reads the narrowed `data`. */
function describeEvent(event: AnyEnvelope): string {
  switch (event.type) {
    case 'TaskFailed':
      expectTypeOf(event).toEqualTypeOf<Envelope<'TaskFailed'>>();
      return `${event.data.taskRunId}#${event.data.attempt} ${event.data.retryable ? 'retry' : 'fail'}`;
    case 'TaskAbortRequested':
      return event.data.taskRunIds.join(',');
    case 'HeartbeatMissed':
      expectTypeOf(event.data.outcome).toEqualTypeOf<'REQUEUED' | 'FAILED'>();
      return event.data.outcome;
    case 'RunStarted':
      // @ts-expect-error RunStarted carries no attempt
      return String(event.data.attempt);
    default:
      return event.type;
  }
}

describe('types', () => {
  it('narrows AnyEnvelope on `type`', () => {
    expectTypeOf<Extract<AnyEnvelope, { type: 'TaskSucceeded' }>['data']>().toEqualTypeOf<
      EventData<'TaskSucceeded'>
    >();
    expectTypeOf<EventData<'TaskFailed'>>().toEqualTypeOf<TaskFailed>();
    expectTypeOf<EventData<'TaskFailed'>['error']>().toEqualTypeOf<string>();
    expectTypeOf<EventData<'RunCancelRequested'>['reason']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<AnyEnvelope['type']>().toEqualTypeOf<Envelope['type']>();
    expectTypeOf(describeEvent).parameter(0).toEqualTypeOf<AnyEnvelope>();
    if (describeEvent(exampleEnvelope('TaskFailed')) !== 'run-1:charge#2 retry') throw new Error('narrowing');
  });

  it('ties createEnvelope data to the type', () => {
    const meta = { id: 'e', occurredAt: '2024-05-01T12:00:00.000Z', source: 's' };
    expectTypeOf(
      createEnvelope('RunStarted', { runId: 'r', workflowId: 'w', workflowVersion: 1 }, meta),
    ).toEqualTypeOf<Envelope<'RunStarted'>>();
    const wrong = () =>
      // @ts-expect-error TaskSucceeded needs attempt
      createEnvelope('TaskSucceeded', { runId: 'r', taskId: 't', taskRunId: 'r:t' }, meta);
    expectTypeOf(wrong).returns.toEqualTypeOf<Envelope<'TaskSucceeded'>>();
    expectTypeOf<Envelope<'TaskReady'>>().toExtend<AnyEnvelope>();
    expectTypeOf(exampleEnvelope('TaskReady')).toEqualTypeOf<Envelope<'TaskReady'>>();
  });
});
