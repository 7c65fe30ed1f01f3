import type { AnyEnvelope } from './envelope.js';
import { EVENT_VERSION } from './envelope.js';
import type { EventData, EventType } from './events.js';

/** A valid `data` of every event type: fixtures for tests and documentation. */
export const EXAMPLE_EVENT_DATA: { readonly [K in EventType]: EventData<K> } = {
  RunStarted: { runId: 'run-1', workflowId: 'order-fulfilment', workflowVersion: 1 },
  RunCancelRequested: { runId: 'run-1', reason: 'customer changed their mind' },
  TaskApproved: { runId: 'run-1', taskId: 'ship', by: 'alice' },
  TaskRejected: { runId: 'run-1', taskId: 'ship', by: 'bob', reason: 'address unknown' },
  TaskReady: {
    runId: 'run-1',
    taskId: 'charge',
    taskRunId: 'run-1:charge',
    queue: 'payments',
    notBefore: '2024-05-01T12:00:02.000Z',
  },
  TaskQueued: {
    runId: 'run-1',
    taskId: 'charge',
    taskRunId: 'run-1:charge',
    attempt: 1,
    queue: 'payments',
    workflowId: 'order-fulfilment',
    workflowVersion: 1,
  },
  TaskStarted: { runId: 'run-1', taskId: 'charge', taskRunId: 'run-1:charge', attempt: 1, workerId: 'w-1' },
  TaskSucceeded: {
    runId: 'run-1',
    taskId: 'charge',
    taskRunId: 'run-1:charge',
    attempt: 1,
    workflowId: 'order-fulfilment',
    workflowVersion: 1,
  },
  TaskFailed: {
    runId: 'run-1',
    taskId: 'charge',
    taskRunId: 'run-1:charge',
    attempt: 2,
    error: 'card declined',
    retryable: true,
  },
  HeartbeatMissed: {
    runId: 'run-1',
    taskId: 'charge',
    taskRunId: 'run-1:charge',
    attempt: 1,
    outcome: 'FAILED',
  },
  TaskAbortRequested: { runId: 'run-1', taskRunIds: ['run-1:charge', 'run-1:ship'], reason: 'CANCELLED' },
  RunFinished: {
    runId: 'run-1',
    workflowId: 'order-fulfilment',
    status: 'FAILED',
    error: 'charge: card declined',
  },
};

/** A valid envelope of type `type` (fixed id, time and source); a union of types gives AnyEnvelope. */
export function exampleEnvelope<K extends EventType>(type: K): Extract<AnyEnvelope, { type: K }> {
  return {
    id: `example-${type}`,
    type,
    version: EVENT_VERSION,
    occurredAt: '2024-05-01T12:00:00.000Z',
    source: 'example',
    data: structuredClone(EXAMPLE_EVENT_DATA[type]) as EventData<K>,
  } as Extract<AnyEnvelope, { type: K }>;
}
