import type { Envelope } from '@relay/contracts';
import { type DispatchDeps, delay, dispatchTaskRuns } from '../dispatch.js';

/** One delivered TaskReady and its Redis delivery count. */
export interface TaskReadyDelivery {
  event: Envelope<'TaskReady'>;
  deliveries: number;
}

/**
 * TaskReady batch: events without `notBefore` or whose `notBefore` has passed are dispatched now (one
 * UPDATE, one publish); later ones go to the delayed set (the bus acks them after this resolves).
 */
export async function handleTaskReady(
  batch: readonly TaskReadyDelivery[],
  deps: DispatchDeps,
): Promise<void> {
  const now = deps.now();
  const due: string[] = [];
  const later = new Map<string, number>();
  const redelivered = new Set<string>();
  for (const { event, deliveries } of batch) {
    const id = event.data.taskRunId;
    const notBefore = event.data.notBefore === undefined ? Number.NaN : Date.parse(event.data.notBefore);
    if (notBefore > now) later.set(id, Math.max(later.get(id) ?? 0, notBefore));
    else due.push(id);
    if (deliveries > 1) redelivered.add(id);
  }
  await delay(
    [...later].map(([member, dueAtMs]) => ({ member, dueAtMs })),
    deps,
  );
  await dispatchTaskRuns(due, deps, redelivered);
}
