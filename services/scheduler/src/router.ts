import type { Delivery } from '@relay/bus';
import type { EventType } from '@relay/contracts';
import { handleHeartbeatMissed } from './handlers/heartbeat-missed.js';
import { handleRunCancelRequested } from './handlers/run-cancel-requested.js';
import { handleRunStarted } from './handlers/run-started.js';
import { handleTaskApproved } from './handlers/task-approved.js';
import { handleTaskFailed } from './handlers/task-failed.js';
import { handleTaskRejected } from './handlers/task-rejected.js';
import { handleTaskSucceeded } from './handlers/task-succeeded.js';
import type { SchedulerMetrics } from './metrics.js';
import type { BatchHandler, EventDelivery, HandlerDeps } from './types.js';

type SchedulerEventType =
  | 'RunStarted'
  | 'TaskSucceeded'
  | 'TaskApproved'
  | 'TaskFailed'
  | 'HeartbeatMissed'
  | 'TaskRejected'
  | 'RunCancelRequested';

/**
 * Handlers in the order a batch applies them: creation first (a batch may hold a run's start and its
 * first results), cancellation last (everything after it is a no-op on a finished run).
 */
const HANDLERS: { [K in SchedulerEventType]: BatchHandler<K> } = {
  RunStarted: handleRunStarted,
  TaskSucceeded: handleTaskSucceeded,
  TaskApproved: handleTaskApproved,
  TaskFailed: handleTaskFailed,
  HeartbeatMissed: handleHeartbeatMissed,
  TaskRejected: handleTaskRejected,
  RunCancelRequested: handleRunCancelRequested,
};

const ORDER = Object.keys(HANDLERS) as SchedulerEventType[];

function isSchedulerEvent(type: EventType): type is SchedulerEventType {
  return Object.hasOwn(HANDLERS, type);
}

/**
 * Builds the consumer's batch handler: groups deliveries by event type and runs one handler call per
 * type, in {@link ORDER}. Events of other types are logged and acked.
 */
export function createBatchRouter(deps: HandlerDeps, metrics: SchedulerMetrics) {
  return async (deliveries: Delivery[]): Promise<void> => {
    const groups = new Map<SchedulerEventType, EventDelivery<SchedulerEventType>[]>();
    for (const d of deliveries) {
      if (!isSchedulerEvent(d.event.type)) {
        deps.logger.warn(
          { type: d.event.type, stream: d.stream, entry: d.id },
          'unexpected event type ignored',
        );
        continue;
      }
      const list = groups.get(d.event.type) ?? [];
      list.push({ event: d.event, deliveries: d.deliveries } as EventDelivery<SchedulerEventType>);
      groups.set(d.event.type, list);
    }
    for (const type of ORDER) {
      const batch = groups.get(type);
      if (!batch) continue;
      const stop = metrics.handlerSeconds.startTimer({ type });
      await (HANDLERS[type] as BatchHandler<SchedulerEventType>)(batch, deps);
      stop();
      metrics.batchSize.observe({ type }, batch.length);
      metrics.eventsHandled.inc({ type }, batch.length);
    }
  };
}
