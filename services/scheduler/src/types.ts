import type { Bus } from '@relay/bus';
import type { Envelope, EventType } from '@relay/contracts';
import type { Logger } from '@relay/runtime';
import type { DefinitionCache } from './definitions.js';
import type { SchedulerRepository } from './repository.js';

/** One delivered event of type K and how many times Redis has delivered it (1 on first read). */
export interface EventDelivery<K extends EventType> {
  event: Envelope<K>;
  deliveries: number;
}

/** What every scheduler handler works with. */
export interface HandlerDeps {
  repo: SchedulerRepository;
  definitions: DefinitionCache;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  /** Uniform [0, 1) source for retry jitter. */
  random: () => number;
}

/** Handles one batch of events of one type. */
export type BatchHandler<K extends EventType> = (
  batch: EventDelivery<K>[],
  deps: HandlerDeps,
) => Promise<void>;
